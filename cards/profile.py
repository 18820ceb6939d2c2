"""The `/me` card: photo or initials in a circle, name, title, contact details, manager and presence."""

from __future__ import annotations

import re

from graph.models import Presence, Profile

from .avatar import SIZE_PX as AVATAR_PX
from .avatar import initials_avatar
from .common import Card, Element, adaptive_card, open_url_button, text_block

# Teams' own presence colours, in the nearest Adaptive Cards colour.
PRESENCE_COLORS = {"Available": "Good", "AvailableIdle": "Good", "Busy": "Attention", "BusyIdle": "Attention",
                   "DoNotDisturb": "Attention", "Away": "Warning", "BeRightBack": "Warning"}


def presence_label(presence: Presence) -> str:
    """`Busy · In a meeting`: Graph's PascalCase values as words; the activity only when it adds something."""
    availability, activity = _words(presence.availability), _words(presence.activity or "")
    return f"{availability} · {activity}" if activity and activity != availability else availability


def _words(value: str) -> str:
    words = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", value).split()
    return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else ""


def _facts(profile: Profile) -> list[tuple[str, str]]:
    manager = profile.manager
    manager_text = manager and ", ".join(filter(None, (manager.display_name, manager.job_title)))
    facts = [("Email", profile.mail), ("Phone", profile.business_phone), ("Mobile", profile.mobile_phone),
             ("Office", profile.office_location), ("Manager", manager_text)]
    return [(title, value) for title, value in facts if value]


def _subtitle(profile: Profile) -> str:
    return ", ".join(filter(None, (profile.job_title, profile.department)))


def profile_card(profile: Profile) -> Card:
    if profile.photo_data_uri:
        picture: Element = {"type": "Image", "url": profile.photo_data_uri, "style": "Person",
                            "width": f"{AVATAR_PX}px", "height": f"{AVATAR_PX}px",
                            "altText": f"Photo of {profile.display_name}"}
    else:
        picture = initials_avatar(profile.initials, profile.display_name)
    heading = [text_block(profile.display_name, size="Large", weight="Bolder")]
    if subtitle := _subtitle(profile):
        heading.append(text_block(subtitle, isSubtle=True, spacing="None"))
    if profile.presence:
        # Only the dot takes the colour: Teams' light "Good" and "Warning" are unreadable as text on white.
        heading.append({"type": "RichTextBlock", "spacing": "Small", "inlines": [
            {"type": "TextRun", "text": "●", "color": PRESENCE_COLORS.get(profile.presence.availability, "Default")},
            {"type": "TextRun", "text": f" {presence_label(profile.presence)}", "isSubtle": True}]})
    body: list[Element] = [{"type": "ColumnSet", "columns": [
        {"type": "Column", "width": f"{AVATAR_PX}px", "verticalContentAlignment": "Center", "items": [picture]},
        {"type": "Column", "width": "stretch", "verticalContentAlignment": "Center", "items": heading},
    ]}]
    if facts := _facts(profile):
        body.append({"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in facts]})
    actions = [open_url_button("Send email", f"mailto:{profile.mail}")] if profile.mail else []
    return adaptive_card(body, actions)


def profile_text(profile: Profile) -> str:
    lines = [profile.display_name, _subtitle(profile)]
    if profile.presence:
        lines.append(f"Presence: {presence_label(profile.presence)}")
    lines += [f"{title}: {value}" for title, value in _facts(profile)]
    return "\n".join(line for line in lines if line)
