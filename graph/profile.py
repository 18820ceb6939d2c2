"""`/me`: profile, photo, manager and presence in ONE `$batch` round trip.

`client.batch` is broken in msgraph-sdk 1.65 (`docs/sdk-seams.md`), so `GraphSession.batch` builds the body and sends it
through the SDK's adapter as raw bytes. Only the profile item must succeed; a missing photo, manager or presence is
left out.
"""

from __future__ import annotations

from typing import Any

from graph.client import WHO, BatchAnswer, BatchRequest, GraphClient
from graph.models import Person, Presence, Profile

PERMISSION = "User.Read"
_ME_FIELDS = f"{WHO},jobTitle,department,mail,businessPhones,mobilePhone,officeLocation"
_REQUESTS = (
    BatchRequest("me", f"/me?$select={_ME_FIELDS}"),
    BatchRequest("photo", "/me/photos/64x64/$value"),
    BatchRequest("manager", "/me/manager?$select=displayName,jobTitle,mail"),
    BatchRequest("presence", "/me/presence"),
)


async def get_profile(graph: GraphClient, token: str) -> Profile:
    answers = await graph.session(token).batch(_REQUESTS, PERMISSION)
    me = answers["me"]
    if not me.ok:
        raise me.error(PERMISSION)
    user = me.json()
    graph.remember_user(token, user)
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
        photo_data_uri=_photo(answers["photo"]),
        manager=_manager(_ok_body(answers["manager"])),
        presence=_presence(_ok_body(answers["presence"])),
    )


def initials(name: str) -> str:
    """`Adele Vance` → `AV`; one word gives one letter; parenthesised parts such as `(Contoso)` are skipped."""
    words = [word for word in name.split() if word[:1].isalnum()]
    letters = [words[0][0], words[-1][0]] if len(words) > 1 else [word[0] for word in words]
    return "".join(letters).upper() or "?"


def _ok_body(answer: BatchAnswer) -> dict[str, Any] | None:
    return answer.json() if answer.ok else None


def _photo(answer: BatchAnswer) -> str | None:
    """The batch answers binary bodies base64-encoded: that is already the data URI's payload."""
    if not answer.ok or not isinstance(answer.body, str):
        return None
    content_type = answer.headers.get("content-type", "image/jpeg").split(";")[0].strip()
    return f"data:{content_type};base64,{answer.body}"


def _manager(body: dict[str, Any] | None) -> Person | None:
    if not body or not body.get("displayName"):
        return None
    return Person(display_name=body["displayName"], job_title=body.get("jobTitle") or None,
                  mail=body.get("mail") or None)


def _presence(body: dict[str, Any] | None) -> Presence | None:
    if not body or not body.get("availability"):
        return None
    return Presence(availability=body["availability"], activity=body.get("activity") or None)
