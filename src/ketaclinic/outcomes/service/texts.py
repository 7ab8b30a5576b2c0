"""What a text message may say: one declared template per kind of message.

A text travels over the phone network and lands on a lock screen, so it carries only
what the patient agreed to when consenting (``patients.service.TEXT_CONSENT_WORDING``):
the clinic's name and a link, never a questionnaire's name, a score, a diagnosis or a
treatment. The outbox writes every text from these templates, whatever body the caller
gave (the caller's body is for e-mail); a kind without a template sends no text.
Another area that texts patients declares its kind here with ``declare``.
"""

from __future__ import annotations

LINK = "{link}"  # the questionnaire link, minted at delivery
PUBLIC_URL = "{public_url}"  # the clinic's public address, filled in at delivery

TEMPLATES: dict[str, str] = {
    "questionnaire_link": "{clinic}: a short form from your clinic is waiting for you: " + LINK,
    "questionnaire_link_reminder": "{clinic}: a reminder, your short form is still waiting: "
    + LINK,
    # The consent area's day-before check (ride home, fasting): the questions stay behind
    # the link.
    "readiness_link": "{clinic}: please confirm you are ready for your visit tomorrow: " + LINK,
}


def declare(kind: str, template: str) -> None:
    """Declare the text for ``kind`` ({clinic}, {link} and {public_url} are filled in at
    delivery); for another area's messages (a visit confirmation, say)."""
    TEMPLATES[kind] = template


def text_for(kind: str, *, reminder: bool = False) -> str | None:
    """The declared text for ``kind`` (its reminder's, if declared), None if undeclared."""
    if reminder and f"{kind}_reminder" in TEMPLATES:
        return TEMPLATES[f"{kind}_reminder"]
    return TEMPLATES.get(kind)


def render(template: str, *, clinic: str) -> str:
    # Placeholders for the link stay: the outbox fills them in at delivery.
    return template.replace("{clinic}", clinic)


__all__ = ["LINK", "PUBLIC_URL", "TEMPLATES", "declare", "render", "text_for"]
