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


def _carebundle(out: Path, count: int) -> list[Path]:
    subprocess.run(
        [
            str(Path(sys.executable).parent / "carebundle"),
            "generate",
            "--profile",
            "hypertension",
            "--count",
            str(count),
            "--seed",
            "7",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return sorted(out.glob("*.json"))


def test_a_directory_of_bundles_imports_every_patient_or_none(
    cli: CliRunner, db: Session, tmp_path: Path
) -> None:
    folder = tmp_path / "referrals"
    folder.mkdir()
    files = _carebundle(folder, 2)
    assert len(files) == 2
    dry = cli.invoke(app, ["import", "fhir", str(folder), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert all(f"== {f.name}" in dry.output for f in files)
    assert dry.output.count("the patient would be created") == 2
    assert db.scalar(select(func.count(Patient.id))) == 0
    db.rollback()
    broken = json.loads(files[1].read_text())
    broken["type"] = "searchset"
    (folder / "zz-broken.json").write_text(json.dumps(broken))
    refused = cli.invoke(app, ["import", "fhir", str(folder)])
    assert refused.exit_code != 0 and "zz-broken.json" in refused.output
    assert db.scalar(select(func.count(Patient.id))) == 0  # the good files neither
    db.rollback()
    (folder / "zz-broken.json").unlink()
    done = cli.invoke(app, ["import", "fhir", str(folder)])
    assert done.exit_code == 0, done.output
    assert db.scalar(select(func.count(Patient.id))) == 2


def test_an_ndjson_file_of_resources_imports_as_one_record(
    cli: CliRunner, db: Session, tmp_path: Path
) -> None:
    charted = charted_record(db)
    out = tmp_path / "record.json"
    assert cli.invoke(app, ["export", "fhir", "--patient", charted.mrn, "--out", str(out)])
    resources = [e["resource"] for e in json.loads(out.read_text())["entry"]]
    resources[0].pop("identifier")  # as another system sends it: a new record
    resources[0]["name"][0]["given"] = ["Maria"]
    lines = tmp_path / "record.ndjson"
    lines.write_text("".join(json.dumps(r) + "\n" for r in resources))
    done = cli.invoke(app, ["import", "fhir", str(lines)])
    assert done.exit_code == 0, done.output
    assert "11 were created" in done.output and "the patient was created" in done.output
    assert db.scalar(select(func.count(ImportedFact.id))) == 10
    assert db.scalar(select(func.count(Patient.id))) == 3
