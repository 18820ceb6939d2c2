"""A minimal PNG encoder for the few pictures the project draws itself (the Teams app icons, initials circles)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable

Rgba = tuple[int, int, int, int]


def encode_png(width: int, height: int, pixel: Callable[[int, int], Rgba]) -> bytes:
    """An 8-bit RGBA PNG: signature, IHDR, one zlib IDAT of unfiltered rows, IEND."""
    return encode_rows(width, height, (bytes(value for x in range(width) for value in pixel(x, y))
                                       for y in range(height)))


def encode_rows(width: int, height: int, rows: Iterable[bytes]) -> bytes:
    """The same PNG from its rows of RGBA bytes, for a picture drawn a row at a time."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    data = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # depth 8, colour type 6 (RGBA)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(data, 9)) + chunk(b"IEND", b"")
