"""The research export's files: one row per session and one per score, as CSV and as
Parquet (typed columns), with a data dictionary (CSV and Markdown) describing every
column and how it was de-identified; all in one ZIP archive.

pyarrow is imported when an export is written (the CLI and the web app stay fast to
start)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Kind = Literal["string", "integer", "float", "timestamp"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    description: str
    deidentification: str = "kept as recorded"


PSEUDONYM = (
    "keyed pseudonym (HMAC-SHA-256 with the clinic's secret key), the same as in the "
    "clinic's de-identified FHIR export; not reversible without the key"
)
SHIFTED = (
    "moved by the patient's own date offset (the same for every date of one patient, so "
    "intervals survive)"
)
AGE = "whole years on that day; everyone over 89 is grouped as '90 or older'"

SESSION_COLUMNS: tuple[Column, ...] = (
    Column("patient", "string", "The patient (one value per person across both tables)", PSEUDONYM),
    Column("session", "string", "The treatment session", PSEUDONYM),
    Column("session_number", "integer", "The session's number in the patient's course"),
    Column("protocol", "string", "Treatment protocol id (dosing table of the clinic)"),
    Column("protocol_name", "string", "Treatment protocol as the clinic names it"),
    Column("route", "string", "iv (intravenous infusion) or esketamine_nasal"),
    Column("status", "string", "open, discharged, signed, cosigned or cancelled"),
    Column("started_at", "timestamp", "First charted reading or event (UTC)", SHIFTED),
    Column("ended_at", "timestamp", "Last charted event once the session is over (UTC)", SHIFTED),
    Column(
        "dose_mg",
        "float",
        "Drug given in the session (mg): the pump record's replay or the nasal devices",
    ),
    Column("sex", "string", "Sex as recorded"),
    Column("age", "string", "Age at the session", AGE),
    Column("birth_year", "string", "Year of birth, shifted; empty for everyone over 89", SHIFTED),
)
SCORE_COLUMNS: tuple[Column, ...] = (
    Column("patient", "string", "The patient (one value per person across both tables)", PSEUDONYM),
    Column("response", "string", "The questionnaire response", PSEUDONYM),
    Column("session", "string", "The session it was taken at, if any", PSEUDONYM),
    Column("instrument", "string", "Questionnaire id (phq9, gad7, pcl5, madrs...)"),
    Column("instrument_name", "string", "Questionnaire name"),
    Column("total", "integer", "Total score"),
    Column("severity", "string", "Severity band (or risk level) of the total"),
    Column("context", "string", "When it was taken: baseline, weekly, pre_session, visit..."),
    Column("completed_at", "timestamp", "When the questionnaire was completed (UTC)", SHIFTED),
    Column(
        "days_from_first_session",
        "float",
        "Days from the patient's first session to this score (negative: before)",
    ),
    Column("sex", "string", "Sex as recorded"),
    Column("age", "string", "Age when completed", AGE),
)
TABLES = {"sessions": SESSION_COLUMNS, "scores": SCORE_COLUMNS}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def csv_bytes(columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    for row in rows:
        writer.writerow([_text(row.get(c.name)) for c in columns])
    return out.getvalue().encode()


def parquet_bytes(columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = {
        "string": pa.string(),
        "integer": pa.int64(),
        "float": pa.float64(),
        "timestamp": pa.timestamp("s", tz="UTC"),
    }
    schema = pa.schema([pa.field(c.name, kinds[c.kind]) for c in columns])
    table = pa.Table.from_pylist(
        [{c.name: row.get(c.name) for c in columns} for row in rows], schema=schema
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def dictionary_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "column", "type", "description", "de-identification"])
    for table, columns in TABLES.items():
        for c in columns:
            writer.writerow([table, c.name, c.kind, c.description, c.deidentification])
    return out.getvalue().encode()


def dictionary_markdown(*, method: str, shift: str, made: str, counts: dict[str, int]) -> bytes:
    lines = [
        "# Research export: data dictionary",
        "",
        f"Made {made}. {counts['patients']} patients, {counts['sessions']} sessions, "
        f"{counts['scores']} scores.",
        "",
        f"De-identification: {method}. Dates: {shift}. No names, record numbers, contact "
        "details, addresses or free text are exported.",
        "",
        "Files: `sessions.csv` / `sessions.parquet` (one row per session) and `scores.csv` / "
        "`scores.parquet` (one row per scored questionnaire); the same rows in both formats.",
        "",
    ]
    for table, columns in TABLES.items():
        lines += [f"## {table}", "", "| column | type | description | de-identification |"]
        lines.append("| --- | --- | --- | --- |")
        lines += [
            f"| `{c.name}` | {c.kind} | {c.description} | {c.deidentification} |" for c in columns
        ]
        lines.append("")
    return "\n".join(lines).encode()


def archive(
    sessions: Sequence[dict[str, Any]],
    scores: Sequence[dict[str, Any]],
    *,
    method: str,
    shift: str,
    made: str,
    patients: int,
) -> bytes:
    out = io.BytesIO()
    counts = {"patients": patients, "sessions": len(sessions), "scores": len(scores)}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sessions.csv", csv_bytes(SESSION_COLUMNS, sessions))
        zf.writestr("scores.csv", csv_bytes(SCORE_COLUMNS, scores))
        zf.writestr("sessions.parquet", parquet_bytes(SESSION_COLUMNS, sessions))
        zf.writestr("scores.parquet", parquet_bytes(SCORE_COLUMNS, scores))
        zf.writestr("data_dictionary.csv", dictionary_csv())
        zf.writestr(
            "data_dictionary.md",
            dictionary_markdown(method=method, shift=shift, made=made, counts=counts),
        )
    return out.getvalue()
