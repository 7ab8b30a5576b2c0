from __future__ import annotations

import base64

import pytest

from ketaclinic.consent.signature import MAX_BYTES, decode_png
from ketaclinic.platform.errors import Invalid
from tests.consent.factories import data_url, png


def test_a_real_png_data_url_gives_back_its_bytes() -> None:
    assert decode_png(data_url()) == png()


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("data:image/jpeg;base64,/9j/4AAQ", "not a PNG"),
        ("data:image/png;base64,not base64!!", "unreadable"),
        ("data:image/png;base64," + base64.b64encode(b"GIF89a" + b"\0" * 40).decode(), "not a PNG"),
        (data_url(png(width=5000)), "bad size"),
        ("data:image/png;base64," + "A" * (MAX_BYTES * 2), "too large"),
        ("javascript:alert(1)", "not a PNG"),
    ],
)
def test_anything_but_a_small_real_png_is_refused_at_the_field(value: str, why: str) -> None:
    with pytest.raises(Invalid) as caught:
        decode_png(value)
    assert caught.value.fields == {"signature": why}
