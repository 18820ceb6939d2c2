"""The /me card."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest

from cards.avatar import FLUENT_AVATAR_COLORS, SIZE_PX, avatar_color
from cards.profile import presence_label, profile_card, profile_text
from graph.models import Person, Presence, Profile
from tests.cards.harness import actions, sent, texts, walk

PHOTO = "data:image/jpeg;base64,/9j/4AAQSkZJRg=="
FULL = Profile(
    display_name="Megan Bowen", initials="MB", job_title="Marketing Manager", department="Marketing",
    mail="MeganB@contoso.example", business_phone="+1 425 555 0109", mobile_phone="+1 425 555 0110",
    office_location="12/1110", photo_data_uri=PHOTO, manager=Person("Miriam Graham", "Director"),
    presence=Presence("Busy", "InAMeeting"),
)
SPARSE = Profile(display_name="Alex Wilber", initials="AW")


def shown(profile: Profile) -> dict:
    return sent(profile_card(profile), profile_text(profile))


@pytest.mark.parametrize("profile", [FULL, SPARSE], ids=["full", "sparse"])
def test_the_profile_card_is_valid(profile: Profile) -> None:
    shown(profile)


def test_the_photo_is_a_round_data_uri_image() -> None:
    [image] = [node for node in walk(shown(FULL)) if isinstance(node, dict) and node.get("type") == "Image"]
    assert (image["url"], image["style"]) == (PHOTO, "Person")


def test_initials_stand_in_for_a_missing_photo() -> None:
    card = shown(SPARSE)
    assert "AW" in texts(card) and not [n for n in walk(card) if isinstance(n, dict) and n.get("type") == "Image"]


def test_the_initials_sit_on_a_circle_in_the_colour_teams_gives_the_name() -> None:
    [avatar] = [n for n in walk(shown(SPARSE)) if isinstance(n, dict) and "backgroundImage" in n]
    width, height, pixels = decode_rgba(avatar["backgroundImage"]["url"])

    assert avatar["items"][0]["text"] == "AW" and avatar["minHeight"] == f"{SIZE_PX}px"
    assert (width, height) == (2 * SIZE_PX, 2 * SIZE_PX)
    assert pixels[0][0][3] == 0 and pixels[height - 1][width - 1][3] == 0  # the corners are transparent
    assert "#{:02x}{:02x}{:02x}".format(*pixels[height // 2][width // 2][:3]) == avatar_color("Alex Wilber")
    assert pixels[height // 2][width // 2][3] == 255


@pytest.mark.parametrize(("name", "color"), [("Isaiah Langer", "peach"), ("Adele Vance", "anchor"),
                                             ("Alex Wilber", "gold"), ("Zoë 😀 Ünal", "brown")])
def test_a_name_gets_the_colour_fluents_avatar_gives_it(name: str, color: str) -> None:
    """Expected values from Fluent UI's own `getHashCode` and `avatarColors`, run in Node."""
    assert avatar_color(name) == FLUENT_AVATAR_COLORS[color]


def decode_rgba(data_uri: str) -> tuple[int, int, list[list[tuple[int, ...]]]]:
    """The pixels of an unfiltered 8-bit RGBA PNG (the kind `cards.png` writes)."""
    prefix = "data:image/png;base64,"
    assert data_uri.startswith(prefix)
    png = base64.b64decode(data_uri[len(prefix):])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, kind = struct.unpack(">IIBB", png[16:26])
    assert (depth, kind) == (8, 6)
    idat_length = struct.unpack(">I", png[33:37])[0]
    raw = zlib.decompress(png[41:41 + idat_length])
    stride = 1 + 4 * width
    rows = [raw[y * stride + 1:(y + 1) * stride] for y in range(height)]
    return width, height, [[tuple(row[4 * x:4 * x + 4]) for x in range(width)] for row in rows]


def test_every_field_is_shown() -> None:
    shown_texts = " ".join(texts(shown(FULL)))
    for value in ("Megan Bowen", "Marketing Manager, Marketing", "MeganB@contoso.example", "+1 425 555 0109",
                  "+1 425 555 0110", "12/1110", "Miriam Graham, Director", "Busy · In a meeting"):
        assert value in shown_texts


def test_missing_fields_are_left_out() -> None:
    assert texts(shown(SPARSE)) == ["AW", "Alex Wilber"]


def test_the_mail_opens_a_mailto_link() -> None:
    assert [a["url"] for a in actions(shown(FULL))] == ["mailto:MeganB@contoso.example"]


@pytest.mark.parametrize(("availability", "color"), [("Available", "Good"), ("Busy", "Attention"),
                                                      ("Away", "Warning"), ("Offline", "Default")])
def test_presence_has_its_colour(availability: str, color: str) -> None:
    card = shown(Profile("Megan Bowen", "MB", presence=Presence(availability)))
    [dot] = [n for n in walk(card) if isinstance(n, dict) and str(n.get("text", "")).startswith("●")]
    assert dot["color"] == color


@pytest.mark.parametrize(("presence", "label"), [
    (Presence("DoNotDisturb", "Presenting"), "Do not disturb · Presenting"),
    (Presence("Available", "Available"), "Available"),
    (Presence("PresenceUnknown"), "Presence unknown"),
])
def test_presence_reads_as_words(presence: Presence, label: str) -> None:
    assert presence_label(presence) == label


def test_the_fallback_text_carries_the_key_facts() -> None:
    text = profile_text(FULL)
    assert all(fact in text for fact in ("Megan Bowen", "Marketing Manager", "MeganB@contoso.example",
                                         "Manager: Miriam Graham", "Presence: Busy"))


def test_the_fallback_text_of_a_sparse_profile_is_just_the_name() -> None:
    assert profile_text(SPARSE) == "Alex Wilber"
