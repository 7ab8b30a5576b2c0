"""``ketaclinic --help`` starts without the heavy libraries: each command imports what
it needs when it runs."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("scipy", "numpy", "matplotlib", "sqlalchemy", "fastapi", "pydantic", "alembic", "fhir")


def test_the_command_line_loads_no_heavy_library_until_a_command_needs_it() -> None:
    probe = f"import sys, ketaclinic.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == ""


def test_help_lists_every_command() -> None:
    shown = subprocess.run(
        [sys.executable, "-c", "from ketaclinic.cli import app; app(['--help'])"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    for command in ("serve", "demo", "simulate", "audit", "jobs", "user", "worker", "import"):
        assert command in shown.stdout
