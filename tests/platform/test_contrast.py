"""The colours of the stylesheet meet WCAG 2.1 contrast: 3:1 for the borders that show
where a control is (SC 1.4.11, non-text contrast), 4.5:1 for text (SC 1.4.3, contrast
minimum). Ratios by the WCAG formula: (L1 + 0.05) / (L2 + 0.05) of relative luminances
(https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio, #dfn-relative-luminance)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

import ketaclinic

CSS = Path(ketaclinic.__file__).parent / "platform" / "static" / "css" / "app.css"
CONTROLS = ("input", "select", "textarea")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(d * 2 for d in hex_digits)
    r, g, b = (int(hex_digits[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _without_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


@cache
def rules() -> list[tuple[list[str], dict[str, str]]]:
    """(selectors, declarations) of every top-level rule of app.css."""
    text = _without_comments(CSS.read_text())
    text = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^}]*\})*[^}]*\}", "", text)  # print styles
    found = []
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", text):
        declarations = {}
        for part in body.split(";"):
            if ":" in part:
                name, value = part.split(":", 1)
                declarations[name.strip()] = value.strip()
        found.append(([s.strip() for s in selectors.split(",")], declarations))
    return found


def custom_properties() -> dict[str, str]:
    props: dict[str, str] = {}
    for selectors, declarations in rules():
        if ":root" in selectors:
            props.update({k: v for k, v in declarations.items() if k.startswith("--")})
    return props


def resolve(value: str) -> str:
    props = custom_properties()
    for _ in range(5):
        match = re.search(r"var\((--[\w-]+)(?:,\s*([^)]+))?\)", value)
        if not match:
            break
        value = value.replace(match.group(0), props.get(match.group(1), match.group(2) or ""))
    colour = re.search(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b", value)
    assert colour, f"no colour in {value!r}"
    return colour.group(0)


def declaration(selector: str, name: str) -> str:
    """The last value ``name`` gets in a rule whose selector list holds ``selector``."""
    values = [d[name] for sel, d in rules() if selector in sel and name in d]
    assert values, f"{selector} sets no {name}"
    return values[-1]


def test_the_formula_gives_the_ratios_wcag_quotes() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    # #767676 on white is the usual example of the lightest grey that passes 4.5:1.
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    # The old input border, #9aa5b5 on white: 2.49:1, below SC 1.4.11.
    assert contrast("#9aa5b5", "#ffffff") == pytest.approx(2.49, abs=0.01)


def test_control_borders_stand_out_three_to_one_from_the_page_and_the_control() -> None:
    page = resolve(declaration("body", "background"))
    for control in CONTROLS:
        border = resolve(declaration(control, "border"))
        inside = resolve(declaration(control, "background"))
        assert contrast(border, page) >= 3.0, (control, border, page)
        assert contrast(border, inside) >= 3.0, (control, border, inside)


def test_an_invalid_control_keeps_a_border_of_three_to_one() -> None:
    border = resolve(declaration('[aria-invalid="true"]', "border"))
    for background in (resolve(declaration("body", "background")), "#ffffff"):
        assert contrast(border, background) >= 3.0


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("body:color", "body:background"),  # body text on the page
        ("body:color", "#ffffff"),  # and in cards
        (".muted:color", "body:background"),
        (".muted:color", "#ffffff"),
        (".error:color", "#ffffff"),
        (".error:color", "body:background"),
        (".banner-alarm:color", ".banner-alarm:background"),
        (".banner-warn:color", ".banner-warn:background"),
        ("body:color", ".banner-info:background"),
        ("button:color", "button:background"),
        ("a:color", "body:background"),
        (".error-summary a:color", ".error-summary:background"),
    ],
)
def test_text_reads_four_and_a_half_to_one(text: str, background: str) -> None:
    def colour(spec: str) -> str:
        if spec.startswith("#"):
            return spec
        selector, name = spec.rsplit(":", 1)
        return resolve(declaration(selector, name))

    assert contrast(colour(text), colour(background)) >= 4.5, (text, background)
