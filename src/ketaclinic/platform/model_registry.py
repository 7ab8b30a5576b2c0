"""Every module that declares tables, imported so that ``Base.metadata`` is complete
(for Alembic and for tests). A new area adds its ``models`` module here."""

from __future__ import annotations

from importlib import import_module

MODEL_MODULES = [
    "ketaclinic.platform.accounts.models",
    "ketaclinic.platform.audit.models",
    "ketaclinic.patients.models",
]


def load_all() -> None:
    for name in MODEL_MODULES:
        import_module(name)
