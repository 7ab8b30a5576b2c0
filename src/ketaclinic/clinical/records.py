"""How long records the clinic hands out stay on its server, and how often it tries to
make them: the FHIR Bulk Data export's files and its retries. A declared table that a
clinic may override (``records.bulk_export``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ketaclinic.clinical.course.outcomes import Evidence
from ketaclinic.clinical.overrides import Override, apply


@dataclass(frozen=True)
class BulkExportRule:
    id: str
    files_kept_hours: int  # after the export completes; then deleted, 410 Gone
    attempts: int  # runs of a failing export before it is marked failed
    description: str
    source: str
    evidence: Evidence


BULK_EXPORT: dict[str, BulkExportRule] = {
    "fhir_bulk_export": BulkExportRule(
        id="fhir_bulk_export",
        files_kept_hours=24,
        attempts=3,
        description="FHIR bulk export files: how long they are kept, how often it is tried",
        source=(
            "Clinic convention, no primary source found: the FHIR Bulk Data Access IG "
            "(2.0.0) leaves how long output files stay available to the server (it may "
            "send an Expires header); a day lets a client that polls daily fetch them and "
            "limits how long copies of identified records sit on the server. Three tries "
            "ride out a passing fault (a lock, a restart) without retrying a broken one "
            "for ever"
        ),
        evidence="convention",
    ),
}


def bulk_export_rule(overrides: Iterable[Override] = ()) -> BulkExportRule:
    return apply(BULK_EXPORT, tuple(overrides))["fhir_bulk_export"]
