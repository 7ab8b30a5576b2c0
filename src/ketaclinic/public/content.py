"""The education pages: each a template under ``templates/public/learn/``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    slug: str
    title: str
    summary: str


TOPICS: tuple[Topic, ...] = (
    Topic(
        "how-it-works",
        "How ketamine therapy works",
        "What ketamine is, how it is given for depression, and what the research shows.",
    ),
    Topic(
        "who-may-benefit",
        "Who may benefit",
        "The conditions it is used for, and the health problems that can rule it out.",
    ),
    Topic(
        "a-session",
        "What a session is like",
        "Before, during and after a treatment, hour by hour.",
    ),
    Topic(
        "how-many-sessions",
        "How many sessions people usually need",
        "A first series, checking whether it helps, and what comes after.",
    ),
    Topic(
        "side-effects",
        "Side effects",
        "What people commonly feel, what the clinic watches for, and what is not yet known.",
    ),
    Topic(
        "costs",
        "Costs and insurance",
        "What treatment usually costs, and why insurance rarely pays for it.",
    ),
)

BY_SLUG = {t.slug: t for t in TOPICS}
