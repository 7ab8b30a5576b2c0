"""``ketaclinic reports research-export``: the research page's de-identified ZIP taken on
the command line in a researcher's name, audited as the page's, written whole or not at
all."""

from __future__ import annotations

import errno
import io
import os
import zipfile
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ketaclinic.cli import app
from ketaclinic.cli import reports as command
from ketaclinic.patients.models import Patient
from ketaclinic.platform.audit.models import AuditEvent
from tests import demo_clinic
from tests.conftest import BACKENDS

MEMBERS = {
    "sessions.csv",
    "scores.csv",
    "sessions.parquet",
    "scores.parquet",
    "data_dictionary.csv",
    "data_dictionary.md",
}


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The export reads a whole clinic: a copy of the demo clinic."""
    return demo_clinic.copy(request, request.param, tmp_path)


def _exports(db: Session) -> list[AuditEvent]:
    db.rollback()  # a fresh snapshot: the command committed on its own connection
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == "research.export")))


def _export(cli: CliRunner, out: Path, username: str, *more: str) -> Result:
    return cli.invoke(
        app,
        ["reports", "research-export", "--out", str(out), "--as", username, "--no-progress", *more],
    )


def test_a_researcher_takes_the_export_on_the_command_line_audited_as_on_the_page(
    cli: CliRunner, db: Session, tmp_path: Path
) -> None:
    out = tmp_path / "exports" / "research.zip"
    out.parent.mkdir()
    done = _export(cli, out, "research.patel")
    assert done.exit_code == 0, done.output
    with zipfile.ZipFile(out) as zf:
        assert set(zf.namelist()) == MEMBERS
        files = {name: zf.read(name) for name in zf.namelist()}
    rows = files["sessions.csv"].decode().splitlines()
    assert rows[0].startswith("patient,session,session_number") and len(rows) > 1
    # Nothing that names or reaches a patient, as the page's export (tests/reports).
    everything = b"\n".join(files.values()).decode(errors="replace")
    for p in db.scalars(select(Patient)):
        for value in (p.mrn, p.family_name, p.email, p.phone, p.date_of_birth.isoformat()):
            if value and len(value) > 3:
                assert value not in everything, value
    assert list(out.parent.iterdir()) == [out], "no temporary file is left beside it"
    (audited,) = _exports(db)
    assert audited.actor == "research.patel" and audited.object_type == "dataset"
    assert (audited.detail or "").startswith("de-identified: ")
    assert (audited.detail or "").endswith("; taken from the command line")
    sessions = len(rows) - 1
    assert f"{sessions} sessions" in (audited.detail or "")
    assert f"{sessions} sessions" in done.output


@pytest.mark.parametrize(
    ("username", "why"),
    [
        ("dr.chen", "dr.chen does not hold the researcher role"),
        ("nurse.okafor", "nurse.okafor does not hold the researcher role"),
        ("no.such.person", "no user 'no.such.person'"),
    ],
)
def test_only_a_researcher_may_take_it_and_a_refusal_writes_nothing(
    cli: CliRunner, db: Session, tmp_path: Path, username: str, why: str
) -> None:
    out = tmp_path / "research.zip"
    refused = _export(cli, out, username)
    assert refused.exit_code == 2
    assert refused.output.strip().splitlines() == [f"error: {why}" + _role_tail(username)]
    assert not out.exists() and _exports(db) == []


def _role_tail(username: str) -> str:
    return "" if username == "no.such.person" else ": the research export is for researchers"


def test_an_existing_file_is_kept_unless_force_replaces_it(
    cli: CliRunner, db: Session, tmp_path: Path
) -> None:
    out = tmp_path / "research.zip"
    out.write_bytes(b"last month's export")
    refused = _export(cli, out, "research.patel")
    assert refused.exit_code == 1
    assert "exists: choose another --out, or add --force" in refused.output
    assert out.read_bytes() == b"last month's export" and _exports(db) == []
    replaced = _export(cli, out, "research.patel", "--force")
    assert replaced.exit_code == 0, replaced.output
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as zf:
        assert set(zf.namelist()) == MEMBERS
    assert len(_exports(db)) == 1


def test_a_disk_that_fails_mid_write_leaves_no_half_zip_and_no_audit_record(
    cli: CliRunner, db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class FullDisk:
        """The command's ``os``, on a disk that fills up as the archive is flushed."""

        def __getattr__(self, name: str) -> object:
            return getattr(os, name)

        def fsync(self, _fd: int) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(command, "os", FullDisk())
    out = tmp_path / "exports" / "research.zip"
    out.parent.mkdir()
    failed = _export(cli, out, "research.patel")
    assert failed.exit_code == 1
    assert failed.output.strip() == "error: No space left on device"
    assert list(out.parent.iterdir()) == [] and _exports(db) == []
