"""Every module that declares tables, imported so that ``Base.metadata`` is complete
(for Alembic and for tests). Areas are found by ``platform.areas``."""

from __future__ import annotations

from importlib import import_module

from ketaclinic.platform.areas import area_modules

PLATFORM_MODELS = [
    "ketaclinic.platform.accounts.models",
    "ketaclinic.platform.audit.models",
    "ketaclinic.platform.jobs",
]


def load_all() -> None:
    for name in PLATFORM_MODELS:
        import_module(name)
    area_modules("models")
