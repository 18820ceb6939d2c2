"""Initials in a coloured circle, the way Teams draws a person who has no photo.

Teams' avatars are Fluent UI's Avatar: without a photo it shows the initials on a circle whose colour is picked from the
person's name by a fixed hash among 30 named colours (Fluent UI's `react-avatar`, `getHashCode` and `avatarColors`),
the circle in the colour's `colorPalette<Name>Background2` token of the light theme. Adaptive Cards 1.5 draws no
circles, and Teams shows PNG, JPEG and GIF images only, so the circle is a small PNG (a data URI, which every image
URL in Adaptive Cards accepts) behind a TextBlock: the initials stay text a screen reader reads. Text can only take a
host colour, so the initials are the card's default text colour, which reads on every one of these light tints.
"""

from __future__ import annotations

import base64
import math
from functools import cache

from .common import Element, text_block
from .png import encode_rows

SIZE_PX = 64
"""The diameter on screen, and the photo's size. A container with a background gets the host's padding (16 px in
Teams) on every side, so the circle must be this wide for two bold initials to stay on one line inside it."""
_PIXELS = SIZE_PX * 2
"""Drawn at twice the size for high-density screens; the card scales it down."""

FLUENT_AVATAR_COLORS = {
    "darkRed": "#d69ca5", "cranberry": "#eeacb2", "red": "#f1bbbc", "pumpkin": "#efc4ad", "peach": "#ffddb3",
    "marigold": "#f9e2ae", "gold": "#ecdfa5", "brass": "#e0cea2", "brown": "#ddc3b0", "forest": "#bdd99b",
    "seafoam": "#a8f0cd", "darkGreen": "#9ad29a", "lightTeal": "#a6e9ed", "teal": "#9bd9db", "steel": "#94c8d4",
    "blue": "#a9d3f2", "royalBlue": "#9abfdc", "cornflower": "#c8d1fa", "navy": "#a3b2e8", "lavender": "#d2ccf8",
    "purple": "#c6b1de", "grape": "#d9a7e0", "lilac": "#e6bfed", "pink": "#f7c0e3", "magenta": "#eca5d1",
    "plum": "#d696c0", "beige": "#d7d4d4", "mink": "#cecccb", "platinum": "#cdd6d8", "anchor": "#bcc3c7",
}
"""Fluent's avatar colours in its order, each as its light theme's `colorPalette<Name>Background2`."""


def avatar_color(name: str) -> str:
    """The colour Fluent's Avatar picks for `name`: its hash over the name's UTF-16 code units (each below 2**16,
    so JavaScript's 32-bit bitwise operators never overflow and the hash is never negative)."""
    units = name.encode("utf-16-le")
    code = 0
    for index in range(len(units) // 2 - 1, -1, -1):
        unit, shift = int.from_bytes(units[2 * index:2 * index + 2], "little"), index % 8
        code ^= (unit << shift) + (unit >> (8 - shift))
    colors = list(FLUENT_AVATAR_COLORS.values())
    return colors[code % len(colors)]


def initials_avatar(initials: str, name: str) -> Element:
    """A `SIZE_PX` circle in `name`'s colour with `initials` centred on it (its column must be `SIZE_PX` wide)."""
    return {"type": "Container", "minHeight": f"{SIZE_PX}px", "verticalContentAlignment": "Center",
            "backgroundImage": {"url": circle_png(avatar_color(name)), "fillMode": "Cover",
                                "horizontalAlignment": "Center", "verticalAlignment": "Center"},
            "items": [text_block(initials, size="Medium", weight="Bolder", horizontalAlignment="Center")]}


@cache
def circle_png(color: str) -> str:
    """A filled, anti-aliased circle of `color` (`#rrggbb`) on transparency, as a PNG data URI. Drawn on the event
    loop while a card is built, so a row at a time from the disc's alpha (`_disc_alpha`): drawn pixel by pixel in
    Python, each new colour would hold every conversation up."""
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))

    def row(alpha: bytes) -> bytes:
        rgba = bytearray(bytes((red, green, blue, 0)) * _PIXELS)
        rgba[3::4] = alpha
        return bytes(rgba)

    png = encode_rows(_PIXELS, _PIXELS, (row(alpha) for alpha in _disc_alpha()))
    return "data:image/png;base64," + base64.b64encode(png).decode()


@cache
def _disc_alpha() -> tuple[bytes, ...]:
    """Each row's alpha of the anti-aliased disc, the same in every colour: one quarter computed, three mirrored."""
    radius = _PIXELS / 2
    half = _PIXELS // 2

    def alpha(x: int, y: int) -> int:
        edge = radius - math.dist((x + 0.5, y + 0.5), (radius, radius))  # > 0 inside
        return round(255 * min(1.0, max(0.0, edge + 0.5)))

    top = [bytes(alpha(x, y) for x in range(half)) for y in range(half)]
    rows = [left + left[::-1] for left in top]
    return (*rows, *reversed(rows))
