"""`get_profile`: one `$batch` for profile, photo, manager and presence; optional parts degrade to None."""

from __future__ import annotations

import base64
import time

import pytest

from cards.profile import profile_text
from graph.client import GraphClient
from graph.errors import GraphBusy
from graph.profile import get_profile, initials
from localcloud.cloud import Cloud
from localcloud.faults import Fault
from tests.graph.conftest import TokenFor


async def test_profile_has_the_seeded_users_data(graph: GraphClient, token_for: TokenFor) -> None:
    profile = await get_profile(graph, token_for("adele"))
    assert (profile.display_name, profile.job_title, profile.department) == ("Adele Vance", "Retail Manager", "Retail")
    assert profile.business_phone == "+1 425 555 0109" and profile.mobile_phone is None
    assert profile.office_location == "18/2111" and profile.mail and profile.mail.startswith("adele")
    assert profile.manager and profile.manager.display_name == "Megan Bowen"
    assert profile.presence and profile.presence.availability == "Available"


async def test_photo_is_a_small_jpeg_data_uri_as_exchange_sends_it(graph: GraphClient, token_for: TokenFor) -> None:
    profile = await get_profile(graph, token_for("megan"))
    assert profile.photo_data_uri and profile.photo_data_uri.startswith("data:image/jpeg;base64,")
    assert base64.b64decode(profile.photo_data_uri.partition(",")[2]).startswith(b"\xff\xd8\xff")


async def test_user_without_photo_gets_initials(graph: GraphClient, token_for: TokenFor) -> None:
    profile = await get_profile(graph, token_for("isaiah"))
    assert profile.photo_data_uri is None and profile.initials == "IL"


async def test_user_without_manager_has_none(graph: GraphClient, token_for: TokenFor) -> None:
    profile = await get_profile(graph, token_for("patti"))
    assert profile.manager is None and profile.display_name == "Patti Fernandez"


async def test_presence_without_its_scope_is_none_not_an_error(graph: GraphClient, token_for: TokenFor) -> None:
    profile = await get_profile(graph, token_for("adele", scopes=("User.Read", "User.Read.All")))
    assert profile.presence is None and profile.manager is not None


async def test_a_failing_presence_item_leaves_presence_out(local: Cloud, graph: GraphClient,
                                                           token_for: TokenFor) -> None:
    local.faults.add(Fault(service="graph", path="/v1.0/me/presence", status=500))
    profile = await get_profile(graph, token_for("adele"))
    assert profile.presence is None and profile.display_name == "Adele Vance"


async def test_a_throttled_item_in_the_batch_is_retried_within_the_deadline(local: Cloud, graph: GraphClient,
                                                                           token_for: TokenFor) -> None:
    local.faults.add(Fault(service="graph", path="/v1.0/me", status=429, retry_after=1, count=1))
    since = (local.graph_requests.after(0) or [{"seq": 0}])[-1]["seq"]
    started = time.monotonic()
    profile = await get_profile(graph, token_for("adele"))
    batches = local.graph_requests.after(since)
    assert profile.display_name == "Adele Vance" and profile.presence is not None
    assert time.monotonic() - started >= 1 and not local.faults.list()
    assert [len(entry["items"]) for entry in batches] == [4, 1]


async def test_a_throttled_item_whose_wait_passes_the_deadline_is_busy_at_once(local: Cloud, graph: GraphClient,
                                                                             token_for: TokenFor) -> None:
    local.faults.add(Fault(service="graph", path="/v1.0/me", status=429, retry_after=30))
    started = time.monotonic()
    with pytest.raises(GraphBusy) as raised:
        await get_profile(graph, token_for("adele"))
    assert raised.value.retry_after == 30 and time.monotonic() - started < 1


async def test_profile_is_one_round_trip(local: Cloud, graph: GraphClient, token_for: TokenFor) -> None:
    since = (local.graph_requests.after(0) or [{"seq": 0}])[-1]["seq"]
    await get_profile(graph, token_for("megan"))
    assert [entry["path"] for entry in local.graph_requests.after(since)] == ["/v1.0/$batch"]


def test_initials_skip_parenthesised_words() -> None:
    assert initials("Adele Vance (Contoso)") == "AV" and initials("Cher") == "C" and initials("") == "?"


async def test_under_user_read_basic_all_the_manager_is_shown_without_a_title(graph: GraphClient,
                                                                              token_for: TokenFor) -> None:
    profile = await get_profile(graph, token_for("adele", scopes=("User.Read", "User.ReadBasic.All")))
    assert profile.manager and profile.manager.display_name == "Megan Bowen" and profile.manager.job_title is None
    assert "Manager: Megan Bowen\n" in profile_text(profile) + "\n"


async def test_under_user_read_alone_the_card_has_no_manager(graph: GraphClient, token_for: TokenFor) -> None:
    profile = await get_profile(graph, token_for("adele", scopes=("User.Read",)))
    assert profile.display_name == "Adele Vance" and profile.manager is None
