"""The local Graph against responses recorded in Microsoft's documentation: same keys, same JSON types.

Each example below is the shape of a response printed on a Microsoft Learn page (its values stand in for the page's,
only their JSON types count). An example the page marks `"truncated": true` must be contained in the local answer
(every documented property, of the documented type); any other must match it key for key. `null` in either stands
for any type, as Graph's properties are nullable. GRAPH_BEHAVIOUR.md lists the pages.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from localcloud import seed
from localcloud.cloud import Cloud, run_cloud
from localcloud.tenant import AGENT_GRAPH_SCOPES

STRING, NUMBER, BOOLEAN = "s", 0, True

USER_ME = {  # user-get, example 2 "Signed-in user request"; the default property set that page lists
    "@odata.context": STRING, "businessPhones": [STRING], "displayName": STRING, "givenName": STRING,
    "jobTitle": STRING, "mail": STRING, "mobilePhone": STRING, "officeLocation": STRING, "preferredLanguage": STRING,
    "surname": STRING, "userPrincipalName": STRING, "id": STRING,
}
DATE_TIME_TIME_ZONE = {"dateTime": STRING, "timeZone": STRING}  # dateTimeTimeZone, JSON representation
MAILBOX_SETTINGS = {  # user-get-mailboxsettings, example 1 (truncated)
    "@odata.context": STRING,
    "automaticRepliesSetting": {"status": STRING, "externalAudience": STRING,
                                "scheduledStartDateTime": DATE_TIME_TIME_ZONE,
                                "scheduledEndDateTime": DATE_TIME_TIME_ZONE,
                                "internalReplyMessage": STRING, "externalReplyMessage": STRING},
    "timeZone": STRING, "language": {"locale": STRING, "displayName": STRING},
    "workingHours": {"daysOfWeek": [STRING], "startTime": STRING, "endTime": STRING, "timeZone": {"name": STRING}},
    "userPurpose": {"value": STRING}, "dateFormat": STRING, "timeFormat": STRING,
    "delegateMeetingMessageDeliveryOptions": STRING,
}
CALENDAR_VIEW = {"value": [{  # user-list-calendarview, example (truncated)
    "originalStartTimeZone": STRING, "originalEndTimeZone": STRING,
    "responseStatus": {"response": STRING, "time": STRING},
    "iCalUId": STRING, "reminderMinutesBeforeStart": NUMBER, "isReminderOn": BOOLEAN,
}]}
ITEM_REFERENCE = {"driveId": STRING, "id": STRING, "path": STRING}  # itemReference, JSON representation
ERROR = {"error": {"code": STRING, "message": STRING,  # errors; json-batching's failed items
                   "innerError": {"date": STRING, "request-id": STRING, "client-request-id": STRING}}}
BATCH_ITEM = {"id": STRING, "status": NUMBER, "headers": {"Content-Type": STRING}, "body": {}}  # json-batching
SEARCH_RESPONSE = {  # search-query example 2, with the @odata.context of the search pages' v1.0 examples
    "@odata.context": STRING,
    "value": [{"searchTerms": [STRING], "hitsContainers": [
        {"hits": [{"hitId": STRING, "rank": NUMBER, "summary": STRING, "resource": {}}],
         "total": NUMBER, "moreResultsAvailable": BOOLEAN}]}],
}
SEARCH_DRIVE_ITEM = {  # search-concept-sort, example 1: a driveItem hit's resource, in full
    "@odata.type": STRING, "size": NUMBER,
    "fileSystemInfo": {"createdDateTime": STRING, "lastModifiedDateTime": STRING},
    "id": STRING, "createdBy": {"user": {"displayName": STRING}}, "createdDateTime": STRING,
    "lastModifiedBy": {"user": {"displayName": STRING}}, "lastModifiedDateTime": STRING, "name": STRING,
    "parentReference": {"siteId": STRING, "driveId": STRING,
                        "sharepointIds": {"listId": STRING, "listItemId": STRING, "listItemUniqueId": STRING}},
    "webUrl": STRING,
}


def mismatches(documented: Any, answered: Any, exact: bool, where: str = "$") -> list[str]:
    """Where `answered` differs from `documented` in shape. An empty documented object or list matches any."""
    if documented is None or answered is None:
        return []
    if isinstance(documented, dict):
        if not isinstance(answered, dict):
            return [f"{where}: an object was documented, {type(answered).__name__} answered"]
        if not documented:
            return []
        found = [f"{where}.{key}: documented, missing" for key in documented if key not in answered]
        if exact:
            found += [f"{where}.{key}: answered, not documented" for key in answered if key not in documented]
        for key in (key for key in documented if key in answered):
            found += mismatches(documented[key], answered[key], exact, f"{where}.{key}")
        return found
    if isinstance(documented, list):
        if not isinstance(answered, list):
            return [f"{where}: a list was documented, {type(answered).__name__} answered"]
        return [problem for item in answered[:3] for problem in mismatches(documented[0], item, exact, f"{where}[]")
                ] if documented else []
    if type(documented) is not type(answered):
        return [f"{where}: {type(documented).__name__} documented, {type(answered).__name__} answered"]
    return []


@pytest.fixture(scope="module")
async def cloud(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cloud]:
    async with run_cloud(tmp_path_factory.mktemp("graph-documented")) as running:
        yield running


@pytest.fixture(scope="module")
async def graph(cloud: Cloud) -> AsyncIterator[httpx.AsyncClient]:
    """Adele's delegated token, against the local Graph's v1.0."""
    user = cloud.directory.user_by_name("adele")
    assert user is not None
    token = cloud.issuer.entra_token(audience="https://graph.microsoft.com", client_id=cloud.directory.agent.client_id,
                                     user=user, scopes=AGENT_GRAPH_SCOPES)
    async with httpx.AsyncClient(base_url=f"{cloud.endpoints.graph}/v1.0", headers={"Authorization": f"Bearer {token}"},
                                 verify=ssl.create_default_context(cafile=str(cloud.ca_file))) as client:
        yield client


def window(cloud: Cloud) -> str:
    user = cloud.directory.user_by_name("adele")
    assert user is not None
    start = datetime.combine(seed.today_for(user), datetime.min.time())
    return f"startDateTime={start.isoformat()}&endDateTime={(start + timedelta(days=7)).isoformat()}"


async def test_me_is_the_documented_default_property_set(graph: httpx.AsyncClient) -> None:
    assert mismatches(USER_ME, (await graph.get("/me")).json(), exact=True) == []


async def test_mailbox_settings_have_the_documented_shape(graph: httpx.AsyncClient) -> None:
    assert mismatches(MAILBOX_SETTINGS, (await graph.get("/me/mailboxSettings")).json(), exact=False) == []


async def test_calendar_view_events_have_the_documented_shape(cloud: Cloud, graph: httpx.AsyncClient) -> None:
    page = (await graph.get(f"/me/calendarView?{window(cloud)}",
                            headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'})).json()
    assert mismatches(CALENDAR_VIEW, page, exact=False) == []
    assert all(mismatches(DATE_TIME_TIME_ZONE, event[edge], exact=True) == []
               for event in page["value"] for edge in ("start", "end"))


async def test_drive_items_reference_their_parent_as_documented(graph: httpx.AsyncClient) -> None:
    children = (await graph.get("/me/drive/root/children")).json()["value"]
    folder = next(item for item in children if item["name"] == "Projects")
    inside = (await graph.get(f"/me/drive/items/{folder['id']}/children")).json()["value"]
    assert inside and all(mismatches(ITEM_REFERENCE, item["parentReference"], exact=False) == [] for item in inside)


async def test_an_error_has_the_documented_shape(graph: httpx.AsyncClient) -> None:
    assert mismatches(ERROR, (await graph.get("/me?$select=nothing")).json(), exact=True) == []


async def test_batch_items_have_the_documented_shape(graph: httpx.AsyncClient) -> None:
    body = {"requests": [{"id": "1", "method": "GET", "url": "/me"}, {"id": "2", "method": "GET", "url": "/me/nope"}]}
    answered = {item["id"]: item for item in (await graph.post("/$batch", json=body)).json()["responses"]}
    assert mismatches(BATCH_ITEM, answered["1"], exact=True) == []
    assert mismatches(BATCH_ITEM, answered["2"], exact=True) == []
    assert mismatches(ERROR, answered["2"]["body"], exact=True) == []


async def test_a_search_answers_the_documented_response_with_the_documented_drive_items(
        graph: httpx.AsyncClient) -> None:
    body = {"requests": [{"entityTypes": ["driveItem"], "query": {"queryString": "budget"}, "from": 0, "size": 5,
                          "sortProperties": [{"name": "lastModifiedDateTime", "isDescending": True}]}]}
    answered = (await graph.post("/search/query", json=body)).json()
    hits = answered["value"][0]["hitsContainers"][0]["hits"]
    assert mismatches(SEARCH_RESPONSE, answered, exact=True) == []
    assert hits and all(mismatches(SEARCH_DRIVE_ITEM, hit["resource"], exact=True) == [] for hit in hits)


def test_the_shape_check_catches_a_missing_an_extra_and_a_retyped_property() -> None:
    documented = {"a": STRING, "b": {"c": NUMBER}}
    assert mismatches(documented, {"a": "x", "b": {"c": 1}}, exact=True) == []
    assert mismatches(documented, {"a": "x"}, exact=False) == ["$.b: documented, missing"]
    assert mismatches(documented, {"a": "x", "b": {"c": 1}, "d": 1}, exact=True) == ["$.d: answered, not documented"]
    assert mismatches(documented, {"a": 1, "b": {"c": "1"}}, exact=False) == [
        "$.a: str documented, int answered", "$.b.c: int documented, str answered"]
