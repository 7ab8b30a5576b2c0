"""``ketaclinic import fhir FILE`` and ``ketaclinic export fhir --patient MRN``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ketaclinic.cli import app
from ketaclinic.interop.models import ImportedFact
from ketaclinic.patients.models import Patient
from tests.interop.fhir.conftest import charted_record


def test_a_record_exported_is_imported_back_with_its_report(
    cli: CliRunner, db: Session, tmp_path: Path
) -> None:
    charted = charted_record(db)
    out = tmp_path / "record.json"
    exported = cli.invoke(app, ["export", "fhir", "--patient", charted.mrn, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    bundle = json.loads(out.read_text())
    assert bundle["entry"][0]["resource"]["identifier"][0]["value"] == charted.mrn
    dry = cli.invoke(app, ["import", "fhir", str(out), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: 10 would be created" in dry.output
    assert "the patient would be matched" in dry.output
    assert db.scalar(select(func.count(ImportedFact.id))) == 0
    db.rollback()
    done = cli.invoke(app, ["import", "fhir", str(out)])
    assert done.exit_code == 0, done.output
    assert "10 were created" in done.output
    assert f"(Patient/{charted.patient_id})" in done.output
    assert db.scalar(select(func.count(ImportedFact.id))) == 10
    assert db.scalar(select(func.count(Patient.id))) == 2


def test_a_bad_file_is_one_line_and_nothing_is_imported(
    cli: CliRunner, db: Session, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"resourceType": "Bundle", "type": "searchset"}))
    result = cli.invoke(app, ["import", "fhir", str(bad)])
    assert result.exit_code != 0
    assert "cannot be imported" in result.output
    unknown = cli.invoke(app, ["export", "fhir", "--patient", "NOPE"])
    assert unknown.exit_code != 0 and "no patient with MRN 'NOPE'" in unknown.output


def test_import_help_loads_neither_fhir_resources_nor_the_web_stack() -> None:
    probe = (
        "import sys\n"
        "from ketaclinic.cli import app\n"
        "try:\n    app(['import', 'fhir', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED', [m for m in ('fhir', 'fastapi', 'starlette') if m in sys.modules])"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "LOADED []" in shown.stdout, shown.stdout + shown.stderr
