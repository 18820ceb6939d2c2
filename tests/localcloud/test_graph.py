"""The local Graph, driven by the real msgraph-sdk: typed models, errors, retries, paging, time zones, $batch."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from typing import Any

import aiohttp
import httpx
import pytest
import yarl
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.headers_collection import HeadersCollection
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.users.item.calendar_view.calendar_view_request_builder import CalendarViewRequestBuilder
from msgraph.generated.users.item.manager.manager_request_builder import ManagerRequestBuilder
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_request_adapter import options as graph_options
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from localcloud import seed
from localcloud.cloud import Cloud, run_cloud
from localcloud.faults import Fault
from localcloud.graph import resolve_zone, search_index
from localcloud.launcher import ROOT
from localcloud.tenant import AGENT_GRAPH_SCOPES, User

GRAPH = "https://graph.microsoft.com"


class StaticToken(AccessTokenProvider):
    """Hands one user's token to the local Graph host only."""

    def __init__(self, token: str, host: str) -> None:
        self.token = token
        self.validator = AllowedHostsValidator([host])

    async def get_authorization_token(self, uri: str, additional_authentication_context: dict[str, Any] = {}) -> str:  # noqa: B006
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self.validator


@pytest.fixture(scope="module")
async def cloud(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cloud]:
    async with run_cloud(tmp_path_factory.mktemp("graph")) as running:
        yield running


@pytest.fixture(scope="module")
async def http(cloud: Cloud) -> AsyncIterator[httpx.AsyncClient]:
    """msgraph-core's middleware transport never closes the transport it wraps (no `aclose`): the test does."""
    transport = httpx.AsyncHTTPTransport(verify=ssl.create_default_context(cafile=str(cloud.ca_file)))
    client = httpx.AsyncClient(transport=transport)
    async with transport, GraphClientFactory.create_with_default_middleware(client=client, options=graph_options):
        yield client


Graph = tuple[GraphServiceClient, GraphRequestAdapter]
GraphFor = Callable[..., Graph]


@pytest.fixture
def graph_for(cloud: Cloud, http: httpx.AsyncClient) -> GraphFor:
    """`graph_for("adele", scopes=...)`: a typed client and its adapter carrying that user's delegated token."""

    def build(name: str, scopes: tuple[str, ...] = AGENT_GRAPH_SCOPES) -> Graph:
        user = cloud.directory.user_by_name(name)
        token = cloud.issuer.entra_token(audience=GRAPH, client_id=cloud.directory.agent.client_id, user=user,
                                         scopes=scopes)
        host = httpx.URL(cloud.endpoints.graph).host
        adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token, host)), client=http)
        adapter.base_url = f"{cloud.endpoints.graph}/v1.0"
        return GraphServiceClient(request_adapter=adapter), adapter

    return build


def user(cloud: Cloud, name: str) -> User:
    found = cloud.directory.user_by_name(name)
    assert found is not None
    return found


def prefer(zone: str) -> HeadersCollection:
    headers = HeadersCollection()
    headers.add("Prefer", f'outlook.timezone="{zone}"')
    return headers


def week_view(today: date, zone: str, top: int | None = None) -> RequestConfiguration[Any]:
    """This week of the user's calendar, from their local midnight, asking for times in `zone`."""
    resolved = resolve_zone(zone)
    assert resolved is not None
    start = datetime.combine(today, datetime.min.time(), resolved[0])
    query = CalendarViewRequestBuilder.CalendarViewRequestBuilderGetQueryParameters(
        start_date_time=start.isoformat(), end_date_time=(start + timedelta(days=7)).isoformat(), top=top,
        select=["subject", "start", "end", "isAllDay", "type", "seriesMasterId", "recurrence", "onlineMeeting",
                "isCancelled", "organizer", "attendees"],
    )
    return RequestConfiguration(query_parameters=query, headers=prefer(zone))


async def test_typed_models_parse_me_manager_presence_and_mailbox_settings(graph_for: GraphFor) -> None:
    client, _ = graph_for("adele")
    query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
        select=["displayName", "department", "businessPhones", "mobilePhone"])
    me = await client.me.get(RequestConfiguration(query_parameters=query))
    manager = await client.me.manager.get()
    presence = await client.me.presence.get()
    settings = await client.me.mailbox_settings.get()
    assert me and me.display_name == "Adele Vance" and me.department == "Retail"
    assert me.business_phones == ["+1 425 555 0109"] and me.mobile_phone is None
    assert manager and getattr(manager, "display_name", None) == "Megan Bowen"
    assert presence and presence.availability == "Available"
    assert settings and settings.time_zone == "Pacific Standard Time"
    assert settings.working_hours and settings.working_hours.start_time is not None


async def test_photo_is_a_jpeg_in_every_size_as_exchange_sends_it(graph_for: GraphFor) -> None:
    client, _ = graph_for("adele")
    largest = await client.me.photo.content.get()
    small = await client.me.photos.by_profile_photo_id("48x48").content.get()
    metadata = await client.me.photo.get()
    assert largest and largest.startswith(b"\xff\xd8\xff") and largest.endswith(b"\xff\xd9")
    assert small and small.startswith(b"\xff\xd8\xff") and len(small) < len(largest)
    assert metadata and metadata.width == 240


async def test_user_without_photo_gets_404(graph_for: GraphFor) -> None:
    client, _ = graph_for("isaiah")
    with pytest.raises(ODataError) as raised:
        await client.me.photo.content.get()
    assert raised.value.response_status_code == 404
    assert raised.value.error and raised.value.error.code == "ImageNotFound"


async def test_user_without_manager_gets_404(graph_for: GraphFor) -> None:
    client, _ = graph_for("patti")
    with pytest.raises(ODataError) as raised:
        await client.me.manager.get()
    assert raised.value.response_status_code == 404
    assert raised.value.error and raised.value.error.code == "Request_ResourceNotFound"


async def test_calendar_view_without_calendars_read_is_403(cloud: Cloud, graph_for: GraphFor) -> None:
    client, _ = graph_for("adele", scopes=("User.Read",))
    with pytest.raises(ODataError) as raised:
        await client.me.calendar_view.get(week_view(seed.today_for(user(cloud, "adele")), "UTC"))
    assert raised.value.response_status_code == 403
    assert raised.value.error and raised.value.error.code == "ErrorAccessDenied"


async def test_calendars_read_basic_omits_body_and_attendees(cloud: Cloud, graph_for: GraphFor) -> None:
    client, _ = graph_for("adele", scopes=("Calendars.ReadBasic",))
    page = await client.me.calendar_view.get(week_view(seed.today_for(user(cloud, "adele")), "UTC", top=50))
    events = page.value if page and page.value else []
    assert events and all(event.attendees is None and event.body is None for event in events)
    assert all(event.subject and event.organizer for event in events)


async def test_calendar_view_shows_all_day_event_and_recurring_occurrences(cloud: Cloud, graph_for: GraphFor) -> None:
    client, _ = graph_for("adele")
    today = seed.today_for(user(cloud, "adele"))
    page = await client.me.calendar_view.get(week_view(today, "Pacific Standard Time", top=50))
    events = page.value if page and page.value else []
    all_day = next(event for event in events if event.is_all_day)
    standups = [event for event in events if event.subject == "Daily stand-up"]
    assert all_day.start and all_day.start.date_time == f"{today.isoformat()}T00:00:00.0000000"
    assert all_day.end and all_day.end.date_time == f"{(today + timedelta(days=1)).isoformat()}T00:00:00.0000000"
    assert standups and all(event.type and event.type.value == "occurrence" for event in standups)
    assert all(event.series_master_id and event.recurrence is None for event in standups)
    assert all(event.start and event.start.date_time.endswith("T09:00:00.0000000") for event in standups if event.start
               and event.start.date_time)
    assert any(event.online_meeting and event.online_meeting.join_url for event in events)
    assert len(events) > 10


async def test_paging_keeps_prefer_time_zone_when_resent(cloud: Cloud, graph_for: GraphFor) -> None:
    client, _ = graph_for("adele")
    config = week_view(seed.today_for(user(cloud, "adele")), "Pacific Standard Time", top=4)
    page = await client.me.calendar_view.get(config)
    pages = [page]
    while page and page.odata_next_link:
        page = await client.me.calendar_view.with_url(page.odata_next_link).get(
            RequestConfiguration(headers=prefer("Pacific Standard Time")))
        pages.append(page)
    events = [event for page in pages if page and page.value for event in page.value]
    assert len(pages) >= 3 and len({event.id for event in events}) == len(events) > 10
    assert {event.start.time_zone for event in events if event.start} == {"Pacific Standard Time"}


async def test_user_in_another_time_zone_sees_that_zone(cloud: Cloud, graph_for: GraphFor) -> None:
    client, _ = graph_for("diego")
    page = await client.me.calendar_view.get(week_view(seed.today_for(user(cloud, "diego")), "Asia/Tokyo", top=50))
    standup = next(event for event in (page.value if page and page.value else []) if event.subject == "Daily stand-up")
    assert standup.start and standup.start.time_zone == "Asia/Tokyo"
    assert standup.start.date_time and standup.start.date_time.endswith("T09:00:00.0000000")


async def test_drive_children_parse_and_order_by_last_modified(graph_for: GraphFor) -> None:
    client, _ = graph_for("adele")
    drive = await client.me.drive.get()
    assert drive and drive.id
    root = client.drives.by_drive_id(drive.id).items.by_drive_item_id("root")
    folders = await root.children.get()
    documents = next(item for item in (folders.value if folders and folders.value else []) if item.name == "Documents")
    assert documents.id and documents.folder and documents.folder.child_count
    files = await client.drives.by_drive_id(drive.id).items.by_drive_item_id(documents.id).children.with_url(
        f"{client.request_adapter.base_url}/me/drive/items/{documents.id}/children?$orderby=lastModifiedDateTime desc"
    ).get()
    items = files.value if files and files.value else []
    stamps = [item.last_modified_date_time for item in items if item.last_modified_date_time]
    assert len(stamps) == documents.folder.child_count and stamps == sorted(stamps, reverse=True)
    assert all(item.file and item.file.mime_type for item in items)
    assert any(item.last_modified_by and item.last_modified_by.user and
               item.last_modified_by.user.display_name != "Adele Vance" for item in items)


async def test_search_finds_files_in_several_folders_with_paging(graph_for: GraphFor) -> None:
    client, adapter = graph_for("megan")
    url: str | None = f"{adapter.base_url}/me/drive/root/search(q='budget')?$top=2&$select=name,parentReference"
    found = []
    while url:
        page = await client.drives.by_drive_id("me").items.with_url(url).get()
        found += page.value if page and page.value else []
        url = page.odata_next_link if page else None
    names = [item.name or "" for item in found]
    assert sum("budget" in name.lower() for name in names) >= 4 and "Pricing model.xlsx" in names
    assert len({item.parent_reference.path for item in found if item.parent_reference}) >= 3


async def test_429_with_retry_after_is_retried_by_the_sdk(cloud: Cloud, graph_for: GraphFor) -> None:
    client, _ = graph_for("adele")
    cloud.faults.add(Fault(service="graph", path="/v1.0/me/presence", status=429, retry_after=1, count=1))
    started = time.monotonic()
    presence = await client.me.presence.get()
    assert presence and presence.availability == "Available"
    assert time.monotonic() - started >= 1 and not cloud.faults.list()


async def test_batch_answers_each_item_and_fails_dependents(cloud: Cloud, graph_for: GraphFor) -> None:
    _, adapter = graph_for("isaiah")
    cloud.faults.add(Fault(service="graph", path="/v1.0/me/presence", status=503, retry_after=2, count=1))
    requests = [
        {"id": "me", "method": "GET", "url": "/me?$select=displayName"},
        {"id": "photo", "method": "GET", "url": "/me/photo/$value"},
        {"id": "after-photo", "method": "GET", "url": "/me/manager", "dependsOn": ["photo"]},
        {"id": "presence", "method": "GET", "url": "/me/presence"},
        {"id": "settings", "method": "GET", "url": "/me/mailboxSettings", "dependsOn": ["me"]},
    ]
    request = RequestInformation(Method.POST, f"{adapter.base_url}/$batch")
    request.headers.try_add("Content-Type", "application/json")
    request.content = json.dumps({"requests": requests}).encode()
    raw = await adapter.send_primitive_async(request, "bytes", {"XXX": ODataError})
    responses = {item["id"]: item for item in json.loads(raw or b"{}")["responses"]}
    assert responses["me"]["status"] == 200 and responses["me"]["body"]["displayName"] == "Isaiah Langer"
    assert responses["photo"]["status"] == 404 and responses["after-photo"]["status"] == 424
    assert responses["presence"]["status"] == 503 and responses["presence"]["headers"]["Retry-After"] == "2"
    assert responses["settings"]["status"] == 200 and responses["settings"]["body"]["timeZone"] == "GMT Standard Time"


async def test_batch_photo_body_is_base64(graph_for: GraphFor) -> None:
    _, adapter = graph_for("adele")
    request = RequestInformation(Method.POST, f"{adapter.base_url}/$batch")
    request.headers.try_add("Content-Type", "application/json")
    photo = {"id": "1", "method": "GET", "url": "/me/photos/48x48/$value"}
    request.content = json.dumps({"requests": [photo]}).encode()
    raw = await adapter.send_primitive_async(request, "bytes", {"XXX": ODataError})
    item = json.loads(raw or b"{}")["responses"][0]
    assert item["headers"]["Content-Type"] == "image/jpeg" and item["body"].startswith("/9j/")


async def test_batch_of_more_than_20_is_400(cloud: Cloud, http: httpx.AsyncClient) -> None:
    token = cloud.issuer.entra_token(audience=GRAPH, client_id=cloud.directory.agent.client_id,
                                     user=user(cloud, "adele"), scopes=AGENT_GRAPH_SCOPES)
    body = {"requests": [{"id": str(index), "method": "GET", "url": "/me"} for index in range(21)]}
    response = await http.post(f"{cloud.endpoints.graph}/v1.0/$batch", json=body,
                               headers={"Authorization": f"Bearer {token}", "client-request-id": "abc"})
    assert response.status_code == 400 and response.headers["client-request-id"] == "abc"
    assert response.json()["error"]["code"] == "BadRequest"


async def test_bad_token_is_401_with_www_authenticate(cloud: Cloud, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{cloud.endpoints.graph}/v1.0/me", headers={"Authorization": "Bearer not-a-jwt"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer ")
    error = response.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken" and error["innerError"]["request-id"]


SEED_DIGEST = """
import hashlib
from datetime import date
from localcloud import seed
day = date(2026, 11, 22)
content = [(seed.calendar(user, day), seed.drive(user, day)) for user in seed.USERS]
print(hashlib.sha256(repr(content).encode()).hexdigest())
"""


def test_seed_is_the_same_in_every_process_for_a_date() -> None:
    """Processes with different hash seeds: content that depended on `hash()` or on set order would differ."""
    digests = {
        subprocess.run([sys.executable, "-c", SEED_DIGEST], capture_output=True, text=True, check=True,
                       cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": hash_seed}).stdout
        for hash_seed in ("1", "2", "3")
    }
    assert len(digests) == 1
    adele, day = seed.user_by_username("adele"), date(2026, 11, 22)
    assert 20 <= sum(not item.is_folder for item in seed.drive(adele, day).items.values()) <= 40
    assert seed.calendar(seed.user_by_username("lidia"), day) == []


async def test_selecting_a_facet_some_items_lack_leaves_it_out_instead_of_failing(cloud: Cloud,
                                                                                 http: httpx.AsyncClient) -> None:
    token = cloud.issuer.entra_token(audience=GRAPH, client_id=cloud.directory.agent.client_id,
                                     user=user(cloud, "adele"), scopes=AGENT_GRAPH_SCOPES)
    response = await http.get(f"{cloud.endpoints.graph}/v1.0/me/drive/root/search(q='')?$select=name,file,folder",
                              headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    items = response.json()["value"]
    assert any("file" in item for item in items) and all("file" in item or "folder" in item for item in items)


async def test_next_link_is_percent_encoded_and_works_as_sent(cloud: Cloud, http: httpx.AsyncClient) -> None:
    token = cloud.issuer.entra_token(audience=GRAPH, client_id=cloud.directory.agent.client_id,
                                     user=user(cloud, "adele"), scopes=AGENT_GRAPH_SCOPES)
    headers = {"Authorization": f"Bearer {token}"}
    first = await http.get(f"{cloud.endpoints.graph}/v1.0/me/drive/root/search(q='Launch p')?$top=1", headers=headers)
    link = first.json()["@odata.nextLink"]
    assert "/search(q='Launch%20p')?" in link and " " not in link
    trust = ssl.create_default_context(cafile=cloud.ca_file)
    async with (aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as session,
                session.get(yarl.URL(link, encoded=True), headers=headers) as following):
        assert following.status == 200
        page = await following.json()
    assert page["value"] and page["value"][0]["id"] != first.json()["value"][0]["id"]


async def batch(cloud: Cloud, http: httpx.AsyncClient, requests: list[dict[str, Any]]) -> httpx.Response:
    token = cloud.issuer.entra_token(audience=GRAPH, client_id=cloud.directory.agent.client_id,
                                     user=user(cloud, "adele"), scopes=AGENT_GRAPH_SCOPES)
    return await http.post(f"{cloud.endpoints.graph}/v1.0/$batch", json={"requests": requests},
                           headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("depends_on", [[["me"]], [{"id": "me"}], [1], "me"])
async def test_batch_depends_on_must_name_request_ids(cloud: Cloud, http: httpx.AsyncClient,
                                                     depends_on: Any) -> None:
    response = await batch(cloud, http, [{"id": "me", "method": "GET", "url": "/me"},
                                         {"id": "x", "method": "GET", "url": "/me", "dependsOn": depends_on}])
    assert response.status_code == 400 and response.json()["error"]["code"] == "BadRequest"


async def test_batch_runs_independent_requests_concurrently(cloud: Cloud, http: httpx.AsyncClient) -> None:
    cloud.faults.add(Fault(service="graph", path="/v1.0/me/presence", latency_ms=400, count=4))
    started = time.monotonic()
    response = await batch(cloud, http, [{"id": str(n), "method": "GET", "url": "/me/presence"} for n in range(4)])
    elapsed = time.monotonic() - started
    assert [item["status"] for item in response.json()["responses"]] == [200] * 4
    assert 0.4 <= elapsed < 1.2


async def test_batch_runs_a_dependent_request_after_its_dependency(cloud: Cloud, http: httpx.AsyncClient) -> None:
    cloud.faults.add(Fault(service="graph", path="/v1.0/me/presence", latency_ms=300, count=2))
    started = time.monotonic()
    response = await batch(cloud, http, [
        {"id": "first", "method": "GET", "url": "/me/presence"},
        {"id": "then", "method": "GET", "url": "/me/presence", "dependsOn": ["first"]},
    ])
    assert [item["status"] for item in response.json()["responses"]] == [200, 200]
    assert time.monotonic() - started >= 0.6


def bearer(cloud: Cloud, name: str, scopes: tuple[str, ...] = AGENT_GRAPH_SCOPES) -> dict[str, str]:
    token = cloud.issuer.entra_token(audience=GRAPH, client_id=cloud.directory.agent.client_id,
                                     user=user(cloud, name), scopes=scopes)
    return {"Authorization": f"Bearer {token}"}


def week_query(cloud: Cloud, name: str) -> str:
    start = datetime.combine(seed.today_for(user(cloud, name)), datetime.min.time()).isoformat()
    end = (datetime.combine(seed.today_for(user(cloud, name)), datetime.min.time()) + timedelta(days=7)).isoformat()
    return f"startDateTime={start}&endDateTime={end}&$select=subject,start,end"


@pytest.mark.parametrize("zone", ["W. Europe Standard Time", "Europe/Berlin", "Asia/Kolkata", "UTC",
                                  "Pacific Standard Time", "Europe/Kyiv", "Europe/Kiev"])
async def test_windows_names_and_the_documented_iana_names_are_accepted(cloud: Cloud, http: httpx.AsyncClient,
                                                                       zone: str) -> None:
    response = await http.get(f"{cloud.endpoints.graph}/v1.0/me/calendarView?{week_query(cloud, 'adele')}",
                              headers={**bearer(cloud, "adele"), "Prefer": f'outlook.timezone="{zone}"'})
    assert response.status_code == 200
    assert {event["start"]["timeZone"] for event in response.json()["value"]} == {zone}


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "America/Toronto", "Europe/Madrid", "Mars/Olympus_Mons",
                                  "Greenwich Mean Time"])
async def test_a_time_zone_graph_does_not_support_is_400_time_zone_not_supported(
        cloud: Cloud, http: httpx.AsyncClient, zone: str) -> None:
    response = await http.get(f"{cloud.endpoints.graph}/v1.0/me/calendarView?{week_query(cloud, 'adele')}",
                              headers={**bearer(cloud, "adele"), "Prefer": f'outlook.timezone="{zone}"'})
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "TimeZoneNotSupportedException"
    assert error["message"] == ("A valid TimeZone value must be specified. The following TimeZone value is not "
                                f"supported: '{zone}'.")


async def test_calendar_view_without_its_window_is_400(cloud: Cloud, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{cloud.endpoints.graph}/v1.0/me/calendarView?endDateTime=2026-01-01T00:00:00",
                              headers=bearer(cloud, "adele"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "ErrorInvalidParameters"


@pytest.mark.parametrize("path", ["/me?$select=displayName,shoeSize", "/me/calendarView?{window}&$select=subject,mood",
                                  "/me/calendarView?{window}&$orderby=location/displayName",
                                  "/me/drive/root/children?$orderby=color"])
async def test_an_unknown_select_or_orderby_property_is_400_with_graphs_error_body(
        cloud: Cloud, http: httpx.AsyncClient, path: str) -> None:
    url = f"{cloud.endpoints.graph}/v1.0{path.format(window=week_query(cloud, 'adele').rpartition('&')[0])}"
    response = await http.get(url, headers={**bearer(cloud, "adele"), "client-request-id": "mine"})
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] and error["message"]
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert error["innerError"]["client-request-id"] == "mine" == response.headers["client-request-id"]


async def test_drive_search_sorts_by_name_only(cloud: Cloud, http: httpx.AsyncClient) -> None:
    base = f"{cloud.endpoints.graph}/v1.0/me/drive/root/search(q='budget')"
    by_date = await http.get(f"{base}?$orderby=lastModifiedDateTime desc", headers=bearer(cloud, "megan"))
    by_name = await http.get(f"{base}?$orderby=name", headers=bearer(cloud, "megan"))
    names = [item["name"] for item in by_name.json()["value"]]
    assert by_date.status_code == 400 and by_name.status_code == 200 and names == sorted(names, key=str.lower)


async def test_parent_reference_path_is_percent_encoded(cloud: Cloud, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{cloud.endpoints.graph}/v1.0/me/drive/root/search(q='Launch plan')",
                              headers=bearer(cloud, "adele"))
    item = next(item for item in response.json()["value"] if item["name"] == "Launch plan.docx")
    assert item["parentReference"]["path"] == "/drive/root:/Projects/Contoso%20Launch"


async def test_mailbox_time_zone_setting_is_a_primitive_value(cloud: Cloud, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{cloud.endpoints.graph}/v1.0/me/mailboxSettings/timeZone",
                              headers=bearer(cloud, "diego"))
    assert response.json()["value"] == "Tokyo Standard Time"
    assert response.json()["@odata.context"].endswith("/mailboxSettings/timeZone")


async def test_batch_answers_come_in_any_order_and_ids_ignore_case(cloud: Cloud, http: httpx.AsyncClient) -> None:
    requests = [{"id": f"Item{n}", "method": "GET", "url": "/me?$select=displayName"} for n in range(20)]
    response = await batch(cloud, http, requests)
    duplicate = await batch(cloud, http, [{"id": "a", "method": "GET", "url": "/me"},
                                          {"id": "A", "method": "GET", "url": "/me"}])
    ids = [item["id"] for item in response.json()["responses"]]
    assert sorted(ids) == sorted(request["id"] for request in requests)
    assert ids != [request["id"] for request in requests]
    assert duplicate.status_code == 400


async def test_a_failed_batch_item_has_graphs_error_body(cloud: Cloud, http: httpx.AsyncClient) -> None:
    response = await batch(cloud, http, [{"id": "1", "method": "GET", "url": "/me?$select=nope"}])
    item = response.json()["responses"][0]
    assert item["status"] == 400
    assert set(item["body"]["error"]["innerError"]) == {"date", "request-id", "client-request-id"}


def search_body(query: str, **request: Any) -> dict[str, Any]:
    return {"requests": [{"entityTypes": ["driveItem"], "query": {"queryString": query}, **request}]}


async def search(cloud: Cloud, http: httpx.AsyncClient, body: Any, name: str = "adele",
                 scopes: tuple[str, ...] = AGENT_GRAPH_SCOPES) -> httpx.Response:
    return await http.post(f"{cloud.endpoints.graph}/v1.0/search/query", json=body, headers=bearer(cloud, name, scopes))


async def test_search_lists_documents_newest_first_a_page_at_a_time(cloud: Cloud, http: httpx.AsyncClient) -> None:
    newest_first = [{"name": "lastModifiedDateTime", "isDescending": True}]
    first = await search(cloud, http, search_body("isDocument=true", size=10, sortProperties=newest_first))
    second = await search(cloud, http, search_body("isDocument=true", **{"from": 10}, size=10,
                                                   sortProperties=newest_first))
    containers = [page.json()["value"][0]["hitsContainers"][0] for page in (first, second)]
    hits = [hit for container in containers for hit in container["hits"]]
    stamps = [hit["resource"]["lastModifiedDateTime"] for hit in hits]
    files = [item for _, item in search_index(user(cloud, "adele")) if not item.is_folder]
    assert len(hits) == 20 and stamps == sorted(stamps, reverse=True)
    assert [hit["rank"] for hit in hits] == list(range(1, 21))
    assert containers[0]["total"] == len(files) and containers[0]["moreResultsAvailable"] is True
    assert not {hit["hitId"] for hit in containers[0]["hits"]} & {hit["hitId"] for hit in containers[1]["hits"]}


async def test_search_covers_the_users_drive_colleagues_shared_folders_and_every_site(cloud: Cloud,
                                                                                      http: httpx.AsyncClient) -> None:
    """search-api-overview: driveItem search covers everything the user can open, tenant-wide."""
    response = await search(cloud, http, search_body('"budget" AND isDocument=true', size=100), name="megan")
    result = response.json()["value"][0]
    urls = [hit["resource"]["webUrl"] for hit in result["hitsContainers"][0]["hits"]]
    assert result["searchTerms"] == ["budget"]
    assert any(url.endswith("/personal/megan_contoso_onmicrosoft_com/Documents/Projects/Fabrikam Renewal/"
                            "Pricing model.xlsx") for url in urls)
    assert any("/personal/adele_" in url and "/Documents/Shared/" in url for url in urls)
    assert any("/sites/Marketing/" in url for url in urls) and any("/teams/Retail/" in url for url in urls)
    assert any(url.endswith("/SitePages/Quarterly news.aspx") for url in urls)


async def test_search_hits_carry_names_with_every_legal_character_raw_in_the_web_url(cloud: Cloud,
                                                                                    http: httpx.AsyncClient) -> None:
    response = await search(cloud, http, search_body("isDocument=true", size=200))
    urls = [hit["resource"]["webUrl"] for hit in response.json()["value"][0]["hitsContainers"][0]["hits"]]
    assert "https://contoso.sharepoint.com/sites/Marketing/Shared Documents/Campaigns #1/Plan #2.docx" in urls
    assert any(url.endswith("/O'Brien's notes; v1, ok=yes @team ~(copy) [1] {x} ^$!.docx") for url in urls)
    assert any(url.endswith("/Budget 100% & more + tax.xlsx") for url in urls)
    assert any(url.endswith("/Ünïcødé – résumé 日本語.pptx") for url in urls)


async def test_kql_author_and_modified_by_restrict_to_what_a_person_created_or_last_changed(
        cloud: Cloud, http: httpx.AsyncClient) -> None:
    query = '(author:"Adele Vance" OR ModifiedBy:"Adele Vance") AND isDocument=true AND NOT filetype:aspx'
    response = await search(cloud, http, search_body(query, size=200))
    hits = response.json()["value"][0]["hitsContainers"][0]["hits"]
    people = [{hit["resource"]["createdBy"]["user"]["displayName"], hit["resource"]["lastModifiedBy"]["user"][
        "displayName"]} for hit in hits]
    assert hits and all("Adele Vance" in both for both in people)
    assert any("/sites/Marketing/" in hit["resource"]["webUrl"] for hit in hits)
    assert not any(hit["resource"]["name"].endswith(".aspx") for hit in hits)


async def test_search_without_hits_has_no_hits_collection(cloud: Cloud, http: httpx.AsyncClient) -> None:
    response = await search(cloud, http, search_body("zebra"))
    assert response.json()["value"][0]["hitsContainers"] == [{"total": 0, "moreResultsAvailable": False}]


async def test_search_fields_trim_the_resource_and_unknown_fields_are_ignored(cloud: Cloud,
                                                                             http: httpx.AsyncClient) -> None:
    response = await search(cloud, http, search_body("budget", fields=["name", "webUrl", "noSuchField"]))
    resources = [hit["resource"] for hit in response.json()["value"][0]["hitsContainers"][0]["hits"]]
    assert resources and all(set(resource) == {"@odata.type", "name", "webUrl"} for resource in resources)


@pytest.mark.parametrize("body", [
    search_body("budget", sortProperties=[{"name": "color", "isDescending": True}]),
    search_body("budget", size=501),
    search_body("budget", **{"from": -1}),
    search_body(""),
    search_body("budget", entityTypes=["message"]),
    {"requests": [search_body("a")["requests"][0], search_body("b")["requests"][0]]},
    {"requests": "budget"},
])
async def test_a_search_request_graph_refuses_is_400(cloud: Cloud, http: httpx.AsyncClient, body: Any) -> None:
    response = await search(cloud, http, body)
    assert response.status_code == 400 and response.json()["error"]["innerError"]["request-id"]


async def test_search_needs_files_read_all_not_files_read(cloud: Cloud, http: httpx.AsyncClient) -> None:
    response = await search(cloud, http, search_body("budget"), scopes=("User.Read", "Files.Read"))
    assert response.status_code == 403 and response.json()["error"]["code"] == "accessDenied"


async def test_the_request_log_counts_each_round_trip_once_per_user(cloud: Cloud, http: httpx.AsyncClient) -> None:
    last = (cloud.graph_requests.after(0) or [{"seq": 0}])[-1]["seq"]
    await batch(cloud, http, [{"id": "1", "method": "GET", "url": "/me"}, {"id": "2", "method": "GET", "url": "/me"}])
    await http.get(f"{cloud.endpoints.graph}/v1.0/me", headers=bearer(cloud, "diego"))
    entries = cloud.graph_requests.after(last)
    assert [(entry["user"], entry["path"], len(entry.get("items", []))) for entry in entries] == [
        ("adele", "/v1.0/$batch", 2), ("diego", "/v1.0/me", 0)]


async def test_a_mailbox_not_enabled_answers_404_mailbox_not_enabled_for_rest_api(cloud: Cloud,
                                                                                  graph_for: GraphFor) -> None:
    client, _ = graph_for("grady")
    for call in (client.me.calendar_view.get(week_view(seed.today_for(user(cloud, "grady")), "UTC")),
                 client.me.mailbox_settings.get()):
        with pytest.raises(ODataError) as raised:
            await call
        assert raised.value.response_status_code == 404
        assert raised.value.error and raised.value.error.code == "MailboxNotEnabledForRESTAPI"


async def test_a_tenant_without_exchange_online_answers_401_organization_not_found(cloud: Cloud,
                                                                                   graph_for: GraphFor) -> None:
    client, _ = graph_for("nestor")
    with pytest.raises(ODataError) as raised:
        await client.me.calendar_view.get(week_view(seed.today_for(user(cloud, "nestor")), "UTC"))
    assert raised.value.response_status_code == 401
    assert raised.value.error and raised.value.error.code == "OrganizationFromTenantGuidNotFound"


@pytest.mark.parametrize("name", ["grady", "nestor"])
async def test_users_without_a_mailbox_still_have_a_profile_and_a_drive(graph_for: GraphFor, name: str) -> None:
    client, _ = graph_for(name)
    me = await client.me.get()
    drive = await client.me.drive.get()
    assert me and me.display_name and drive and drive.id


async def test_the_manager_needs_a_permission_beyond_user_read(graph_for: GraphFor) -> None:
    """user-list-manager: User.Read.All is the least privileged delegated permission."""
    client, _ = graph_for("adele", scopes=("User.Read",))
    with pytest.raises(ODataError) as raised:
        await client.me.manager.get()
    assert raised.value.response_status_code == 403


async def test_under_user_read_basic_all_the_manager_is_the_basic_profile_without_a_title(graph_for: GraphFor) -> None:
    client, _ = graph_for("adele", scopes=("User.Read", "User.ReadBasic.All"))
    query = ManagerRequestBuilder.ManagerRequestBuilderGetQueryParameters(
        select=["displayName", "mail", "jobTitle", "department"])
    manager = await client.me.manager.get(RequestConfiguration(query_parameters=query))
    assert manager and getattr(manager, "display_name", None) == "Megan Bowen"
    assert getattr(manager, "mail", None) and getattr(manager, "job_title", "?") is None
    assert getattr(manager, "department", "?") is None
