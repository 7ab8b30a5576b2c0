"""A patient's record as FHIR on the command line.

- ``ketaclinic import fhir FILE [--dry-run]``: a transaction or collection Bundle (one
  or several patients), an NDJSON file of resources, or a directory of either, imported
  all-or-nothing in the command's one transaction, with the per-entry and per-patient
  report and a progress bar over the files.
- ``ketaclinic export fhir --patient MRN [--out FILE]``: the patient's whole record as
  one collection Bundle.

Heavy libraries (SQLAlchemy, fhir.resources) are imported when a command runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ketaclinic.cli.common import database, fail, one_line_errors, settings
from ketaclinic.cli.main import app
from ketaclinic.platform.actors import Actor

import_app = typer.Typer(help="Import records from other systems.", no_args_is_help=True)
export_app = typer.Typer(help="Export records for other systems.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

CLI_ACTOR = Actor(user_id=None, username="cli")


def _read(path: Path) -> tuple[Any, int]:
    """A file's Bundle (``.ndjson``: its resources, one a line, as a collection) and
    its size in bytes."""
    raw = path.read_bytes()
    try:
        if path.suffix.lower() == ".ndjson":
            from ketaclinic.interop.fhir import imports

            lines = raw.decode("utf-8").splitlines()
            return imports.collection([json.loads(line) for line in lines if line.strip()]), len(
                raw
            )
        return json.loads(raw), len(raw)
    except (ValueError, UnicodeDecodeError):
        raise fail(f"{path}: not JSON" + (" lines" if path.suffix == ".ndjson" else "")) from None


@import_app.command("fhir")
def import_fhir(
    file: Annotated[Path, typer.Argument(exists=True, readable=True)],
    dry_run: Annotated[bool, typer.Option(help="report only; write nothing")] = False,
) -> None:
    """Import patients' records from FHIR R4: a Bundle (JSON, one or several patients),
    an NDJSON file of resources, or a directory of them. All of it, or nothing."""
    from ketaclinic.interop.fhir import imports
    from ketaclinic.interop.fhir.outcome import FhirError
    from ketaclinic.interop.fhir.reads import Reader

    files = (
        sorted(p for p in file.iterdir() if p.suffix.lower() in (".json", ".ndjson"))
        if file.is_dir()
        else [file]
    )
    if not files:
        raise fail(f"{file}: no .json or .ndjson file in it")
    limit = settings().fhir_max_bundle_bytes
    reports = []
    with (
        database() as db,
        one_line_errors(),
        typer.progressbar(files, label=file.name, file=sys.stderr) as progress,
    ):
        for path in progress:
            body, size = _read(path)
            try:
                reports.append(
                    (
                        path,
                        imports.plan(
                            db,
                            Reader(CLI_ACTOR),
                            body,
                            size=size,
                            max_bytes=limit,
                            dry_run=dry_run,
                        ),
                    )
                )
            except FhirError as exc:
                raise fail(f"{path}: {exc.detail}") from None
    for path, report in reports:
        if len(files) > 1:
            typer.echo(f"== {path.name}")
        for line in report.lines:
            typer.echo(f"{line.index:>4} {line.resource_type:<20} {line.outcome:<8} {line.why}")
        if len(report.people) > 1:
            for part in report.people:
                typer.echo(("dry run: " if dry_run else "") + report.patient_summary(part))
        where = f" (Patient/{report.patient_id})" if len(report.people) == 1 else ""
        typer.echo(
            ("dry run: " if dry_run else "")
            + report.summary()
            + (where if report.patient_id else "")
        )


@export_app.command("fhir")
def export_fhir(
    patient: Annotated[str, typer.Option(help="the patient's MRN")],
    out: Annotated[Path | None, typer.Option(help="write here instead of standard output")] = None,
) -> None:
    """Export one patient's whole record as a FHIR R4 collection Bundle (JSON)."""
    from ketaclinic.interop.fhir import reads
    from ketaclinic.patients import service as patients
    from ketaclinic.platform.errors import NotFound

    with database() as db, one_line_errors():
        patient_id = patients.patient_id_for_mrn(db, patient)
        if patient_id is None:
            raise NotFound(f"no patient with MRN {patient!r}")
        # Audited in the command's own transaction, which commits when it ends.
        bundle = reads.everything(db, reads.Reader(CLI_ACTOR), patient_id)
    text = json.dumps(bundle, indent=1, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {len(bundle['entry'])} resources to {out}", err=True)
