"""Reading a refused form back as a screen reader meets it: the input marked
``aria-invalid``, the message it points at with ``aria-describedby``, the link to it from
the summary of errors at the top, and what the person typed still in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
CONTROLS = {"input", "select", "textarea"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = list(self.texts)
        for child in self.children:
            parts.append(child.text)
        return " ".join(" ".join(p.split()) for p in parts if p.strip())

    def walk(self) -> list[Element]:
        found = [self]
        for child in self.children:
            found += child.walk()
        return found


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.at = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Element(tag, {k: v if v is not None else "" for k, v in attrs}, self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.at
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.at = node.parent

    def handle_data(self, data: str) -> None:
        self.at.texts.append(data)


def parse(html: str) -> Element:
    tree = _Tree()
    tree.feed(html)
    return tree.root


@dataclass
class Marked:
    control: Element
    message: str  # the text the control's aria-describedby points at
    value: str  # what the control shows


def _value(control: Element) -> str:
    if control.tag == "textarea":
        return control.text
    if control.tag == "select":
        chosen = [o for o in control.walk() if o.tag == "option" and "selected" in o.attrs]
        return chosen[0].attrs.get("value", chosen[0].text) if chosen else ""
    if control.attrs.get("type") in ("radio", "checkbox"):
        return control.attrs.get("value", "") if "checked" in control.attrs else ""
    return control.attrs.get("value", "")


def marked(html: str, name: str, *, summary: bool = True) -> Marked:
    """The input named ``name`` as marked invalid on the page; fails the test unless it is
    ``aria-invalid="true"``, described by a message beside it and (``summary``) linked
    from the summary of errors."""
    root = parse(html)
    every = root.walk()
    by_id = {e.attrs["id"]: e for e in every if "id" in e.attrs}
    controls = [
        e
        for e in every
        if e.tag in CONTROLS and e.attrs.get("name") == name and e.attrs.get("type") != "hidden"
    ]
    assert controls, f"no input named {name!r}"
    invalid = [c for c in controls if c.attrs.get("aria-invalid") == "true"]
    assert invalid, f"{name!r} is not marked aria-invalid: {[c.attrs for c in controls]}"
    control = invalid[0]
    described = control.attrs.get("aria-describedby", "").split()
    assert described, f"{name!r} points at no message"
    messages = [by_id[i].text for i in described if i in by_id]
    assert len(messages) == len(described), f"{name!r} points at a missing id: {described}"
    assert any(m for m in messages), f"{name!r} points at an empty message"
    if summary:
        box = by_id.get("error-summary")
        assert box is not None, "no summary of errors on the page"
        assert box.attrs.get("role") == "alert"
        target = control.attrs.get("id") or next(
            (e.attrs["id"] for e in _ancestors(control) if e.tag == "fieldset" and "id" in e.attrs),
            "",
        )
        links = [a.attrs.get("href") for a in box.walk() if a.tag == "a"]
        assert f"#{target}" in links, f"the summary links {links}, not #{target}"
        assert target in by_id, f"the summary links #{target}, which is not on the page"
    return Marked(control, " ".join(messages), _value(control))


def _ancestors(node: Element) -> list[Element]:
    found = []
    while node.parent is not None:
        node = node.parent
        found.append(node)
    return found


def summary_text(html: str) -> str:
    box = {e.attrs.get("id"): e for e in parse(html).walk()}.get("error-summary")
    return box.text if box is not None else ""


def unmarked(html: str, name: str) -> bool:
    """No input named ``name`` carries ``aria-invalid``."""
    return all(
        e.attrs.get("aria-invalid") != "true"
        for e in parse(html).walk()
        if e.tag in CONTROLS and e.attrs.get("name") == name
    )
