"""A patient's record as FHIR on the command line.

- ``ketaclinic import fhir FILE [--dry-run]``: a transaction or collection Bundle (one
  patient) imported all-or-nothing, with the per-entry report.
- ``ketaclinic export fhir --patient MRN [--out FILE]``: the patient's whole record as
  one collection Bundle.

Heavy libraries (SQLAlchemy, fhir.resources) are imported when a command runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ketaclinic.cli.common import database, fail, one_line_errors, settings
from ketaclinic.cli.main import app
from ketaclinic.platform.actors import Actor

import_app = typer.Typer(help="Import records from other systems.", no_args_is_help=True)
export_app = typer.Typer(help="Export records for other systems.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

CLI_ACTOR = Actor(user_id=None, username="cli")


@import_app.command("fhir")
def import_fhir(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[bool, typer.Option(help="report only; write nothing")] = False,
) -> None:
    """Import one patient's record from a FHIR R4 Bundle (JSON)."""
    from ketaclinic.interop.fhir import imports
    from ketaclinic.interop.fhir.outcome import FhirError
    from ketaclinic.interop.fhir.reads import Reader

    raw = file.read_bytes()
    limit = settings().fhir_max_bundle_bytes
    with typer.progressbar(length=3, label=f"{file.name}", file=sys.stderr) as progress:
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise fail(f"{file}: not JSON") from None
        progress.update(1)
        with database() as db, one_line_errors():
            try:
                report = imports.plan(
                    db, Reader(CLI_ACTOR), body, size=len(raw), max_bytes=limit, dry_run=dry_run
                )
            except FhirError as exc:
                raise fail(f"{file}: {exc.detail}") from None
            progress.update(1)
        progress.update(1)
    for line in report.lines:
        typer.echo(f"{line.index:>4} {line.resource_type:<20} {line.outcome:<8} {line.why}")
    where = f" (Patient/{report.patient_id})" if report.patient_id else ""
    typer.echo(("dry run: " if dry_run else "") + report.summary() + where)


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
