"""The drawn signature as it arrives from the page: a ``data:image/png;base64,`` URL.
Checked at the boundary: size-limited, really a PNG (signature bytes and an IHDR chunk of
a sane size), before anything is stored."""

from __future__ import annotations

import base64
import binascii
import struct

from ketaclinic.platform.errors import Invalid

PREFIX = "data:image/png;base64,"
# A signature pad of 600 x 200 pixels drawn in one colour compresses to a few kB; 300 kB
# is room for any real mark and keeps a hostile upload small (ketaclinic's limit).
MAX_BYTES = 300_000
MAX_SIDE = 4000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def decode_png(data_url: str, *, field: str = "signature") -> bytes:
    """The PNG bytes of a signature data URL, or ``Invalid`` saying what is wrong."""
    text = (data_url or "").strip()
    if not text.startswith(PREFIX):
        raise Invalid("the drawn signature must be a PNG image", fields={field: "not a PNG"})
    encoded = text[len(PREFIX) :]
    if len(encoded) > MAX_BYTES * 4 // 3 + 8:
        raise Invalid("the drawn signature is too large", fields={field: "too large"})
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("the drawn signature is not readable", fields={field: "unreadable"}) from None
    if len(raw) > MAX_BYTES:
        raise Invalid("the drawn signature is too large", fields={field: "too large"})
    if len(raw) < 33 or raw[:8] != PNG_MAGIC or raw[12:16] != b"IHDR":
        raise Invalid("the drawn signature must be a PNG image", fields={field: "not a PNG"})
    width, height = struct.unpack(">II", raw[16:24])
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise Invalid("the drawn signature has an impossible size", fields={field: "bad size"})
    return raw
