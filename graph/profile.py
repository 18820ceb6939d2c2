"""`/me`: profile, photo, manager and presence in ONE `$batch` round trip.

`client.batch` is broken in msgraph-sdk 1.65 (`graph-facts.md`), so the body is built here and sent through the
SDK's adapter as raw bytes. Only the profile item must succeed; a missing photo, manager or presence is left out.
"""

from __future__ import annotations

import json
from typing import Any

from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation

from graph.client import GraphClient, error_for, retry_after
from graph.models import Person, Presence, Profile

PERMISSION = "User.Read"
_ME_FIELDS = "displayName,jobTitle,department,mail,businessPhones,mobilePhone,officeLocation"
_REQUESTS = [
    {"id": "me", "method": "GET", "url": f"/me?$select={_ME_FIELDS}"},
    {"id": "photo", "method": "GET", "url": "/me/photos/64x64/$value"},
    {"id": "manager", "method": "GET", "url": "/me/manager?$select=displayName,jobTitle,mail"},
    {"id": "presence", "method": "GET", "url": "/me/presence"},
]
_BODY = json.dumps({"requests": _REQUESTS}).encode()


async def get_profile(graph: GraphClient, token: str) -> Profile:
    session = graph.session(token)
    request = RequestInformation(Method.POST, f"{session.adapter.base_url}/$batch")
    request.headers.try_add("Content-Type", "application/json")
    request.content = _BODY
    answer = await session.send_json(request, PERMISSION)
    items: dict[str, dict[str, Any]] = {
        item["id"]: item for item in answer.get("responses", []) if isinstance(item, dict) and "id" in item
    }
    me = items.get("me") or {}
    if me.get("status") != 200:
        raise error_for(int(me.get("status") or 502), retry_after(me.get("headers")), PERMISSION)
    user = me.get("body") or {}
    name = user.get("displayName") or user.get("userPrincipalName") or ""
    return Profile(
        display_name=name,
        initials=initials(name),
        job_title=user.get("jobTitle") or None,
        department=user.get("department") or None,
        mail=user.get("mail") or None,  # a UPN is not always a mailbox (guests' #EXT# names): never shown as one
        business_phone=next(iter(user.get("businessPhones") or []), None),
        mobile_phone=user.get("mobilePhone") or None,
        office_location=user.get("officeLocation") or None,
        photo_data_uri=_photo(items.get("photo")),
        manager=_manager(_ok_body(items.get("manager"))),
        presence=_presence(_ok_body(items.get("presence"))),
    )


def initials(name: str) -> str:
    """`Adele Vance` → `AV`; one word gives one letter; parenthesised parts such as `(Contoso)` are skipped."""
    words = [word for word in name.split() if word[:1].isalnum()]
    letters = [words[0][0], words[-1][0]] if len(words) > 1 else [word[0] for word in words]
    return "".join(letters).upper() or "?"


def _ok_body(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if not item or item.get("status") != 200 or not isinstance(item.get("body"), dict):
        return None
    return item["body"]


def _photo(item: dict[str, Any] | None) -> str | None:
    """The batch answers binary bodies base64-encoded: that is already the data URI's payload."""
    if not item or item.get("status") != 200 or not isinstance(item.get("body"), str):
        return None
    headers = {name.lower(): value for name, value in (item.get("headers") or {}).items()}
    content_type = str(headers.get("content-type", "image/jpeg")).split(";")[0].strip()
    return f"data:{content_type};base64,{item['body']}"


def _manager(body: dict[str, Any] | None) -> Person | None:
    if not body or not body.get("displayName"):
        return None
    return Person(display_name=body["displayName"], job_title=body.get("jobTitle") or None,
                  mail=body.get("mail") or None)


def _presence(body: dict[str, Any] | None) -> Presence | None:
    if not body or not body.get("availability"):
        return None
    return Presence(availability=body["availability"], activity=body.get("activity") or None)
