"""``ketaclinic --help`` starts without the heavy libraries: each command imports what
it needs when it runs."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("scipy", "numpy", "matplotlib", "sqlalchemy", "fastapi", "pydantic", "alembic", "fhir")
# Typer itself imports pydantic to read a command's options: a command's help needs it.
HELP_HEAVY = tuple(m for m in HEAVY if m != "pydantic")


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
    for command in (
        "serve",
        "demo",
        "simulate",
        "audit",
        "jobs",
        "user",
        "worker",
        "import",
        "reports",
    ):
        assert command in shown.stdout


def test_a_commands_help_loads_no_heavy_library_either() -> None:
    probe = (
        "import sys\n"
        "from ketaclinic.cli import app\n"
        "for argv in (['demo', '--help'], ['serve', '--help'], ['audit', 'verify', '--help'],"
        " ['reports', 'research-export', '--help']):\n"
        "    try:\n"
        "        app(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print('LOADED=' + ','.join(m for m in {HELP_HEAVY!r} if m in sys.modules))\n"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().endswith("LOADED=")
    assert "Usage" in shown.stdout
