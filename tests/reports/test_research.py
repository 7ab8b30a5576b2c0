"""The research export: de-identified (Safe Harbor, the FHIR export's rule), one row per
session and per score, as CSV and Parquet with a data dictionary; the researcher's
aggregate tables with small cells suppressed."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.configuration import service as configuration
from ketaclinic.interop.fhir import deidentify
from ketaclinic.outcomes.models import QuestionnaireResponse
from ketaclinic.patients.models import Patient
from ketaclinic.platform.errors import Forbidden
from ketaclinic.platform.settings import get_settings
from ketaclinic.reports import research, service
from ketaclinic.sessions import service as sessions
from ketaclinic.sessions.models import InfusionSession
from tests.reports.conftest import actor

TODAY = date(2026, 12, 1)


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_the_export_has_a_row_per_session_and_score_in_csv_and_parquet(db: Session) -> None:
    found = service.research_export(db, actor=actor(db, "research.patel"), today=TODAY)
    files = _files(found.content)
    assert set(files) == {
        "sessions.csv",
        "scores.csv",
        "sessions.parquet",
        "scores.parquet",
        "data_dictionary.csv",
        "data_dictionary.md",
    }
    n_sessions = db.scalar(select(func.count()).select_from(InfusionSession))
    n_scores = db.scalar(
        select(func.count())
        .select_from(QuestionnaireResponse)
        .where(QuestionnaireResponse.status == "final", QuestionnaireResponse.total.is_not(None))
    )
    sessions_csv, scores_csv = _rows(files["sessions.csv"]), _rows(files["scores.csv"])
    assert len(sessions_csv) == found.sessions == n_sessions > 0
    assert len(scores_csv) == found.scores == n_scores > 0
    for name, rows, columns in (
        ("sessions", sessions_csv, research.SESSION_COLUMNS),
        ("scores", scores_csv, research.SCORE_COLUMNS),
    ):
        table = pq.read_table(io.BytesIO(files[f"{name}.parquet"]))
        assert table.column_names == [c.name for c in columns] == list(rows[0])
        assert table.num_rows == len(rows)
        parquet_first = table.slice(0, 1).to_pylist()[0]
        for column in columns:
            value = parquet_first[column.name]
            text = rows[0][column.name]
            if value is None:
                assert text == ""
            elif isinstance(value, datetime):
                assert datetime.fromisoformat(text) == value
            elif isinstance(value, float):
                assert float(text) == value
            else:
                assert str(value) == text
    dictionary = _rows(files["data_dictionary.csv"])
    assert {(d["table"], d["column"]) for d in dictionary} == {
        (t, c.name) for t, cols in research.TABLES.items() for c in cols
    }
    assert all(d["description"] for d in dictionary)
    markdown = files["data_dictionary.md"].decode()
    assert "45 CFR 164.514(b)(2)" in markdown and "| `patient` |" in markdown


def test_nothing_that_names_or_reaches_a_patient_is_exported(db: Session) -> None:
    found = service.research_export(db, actor=actor(db, "research.patel"), today=TODAY)
    everything = b"\n".join(_files(found.content).values()).decode(errors="replace")
    for p in db.scalars(select(Patient)):
        for value in (p.mrn, p.family_name, p.email, p.phone, p.date_of_birth.isoformat()):
            if value and len(value) > 3:
                assert value not in everything, value


def test_each_patient_keeps_the_fhir_exports_pseudonym_and_a_date_shift_of_their_own(
    db: Session,
) -> None:
    found = service.research_export(db, actor=actor(db, "research.patel"), today=TODAY)
    rows = _rows(_files(found.content)["sessions.csv"])
    key = get_settings().effective_secret_key.encode()
    shifts = set()
    real = {r.id: r for r in sessions.session_records(db)}
    by_pseudonym: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_pseudonym.setdefault(r["patient"], []).append(r)
    for patient_id in sorted({r.patient_id for r in real.values()})[:12]:
        pseudonym = deidentify.pseudonym(key, "Patient", str(patient_id))
        mine = by_pseudonym[pseudonym]  # the FHIR export's pseudonym names them here too
        by = deidentify.offset(key, str(patient_id))
        shifts.add(by)
        assert abs(by) <= timedelta(days=deidentify.SHIFT_DAYS)
        theirs = sorted(
            r.started_at for r in real.values() if r.patient_id == patient_id and r.started_at
        )
        exported = sorted(datetime.fromisoformat(r["started_at"]) for r in mine if r["started_at"])
        assert exported == [moment.replace(microsecond=0) + by for moment in theirs]
    assert len(shifts) > 1, "each patient has an offset of their own"


def test_ages_over_89_are_grouped_and_their_year_of_birth_left_out(db: Session) -> None:
    oldest = db.scalars(
        select(Patient).where(Patient.id.in_(select(InfusionSession.patient_id))).limit(1)
    ).one()
    oldest.date_of_birth = date(1931, 6, 1)  # 95 on the export day
    db.flush()
    key = get_settings().effective_secret_key.encode()
    pseudonym = deidentify.pseudonym(key, "Patient", str(oldest.id))
    found = service.research_export(db, actor=actor(db, "research.patel"), today=TODAY)
    files = _files(found.content)
    mine = [r for r in _rows(files["sessions.csv"]) if r["patient"] == pseudonym]
    assert mine and {r["age"] for r in mine} == {"90 or older"}
    assert {r["birth_year"] for r in mine} == {""}
    others = [r for r in _rows(files["sessions.csv"]) if r["patient"] != pseudonym]
    assert all(r["age"].isdigit() and int(r["age"]) <= 89 for r in others)


def test_only_a_researcher_takes_the_export(db: Session) -> None:
    for username in ("dr.chen", "nurse.okafor", "admin"):
        with pytest.raises(Forbidden):
            service.research_export(db, actor=actor(db, username), today=TODAY)


def test_the_researchers_tables_suppress_cells_under_eleven(db: Session) -> None:
    researcher = actor(db, "research.patel")
    tables = service.research_tables(
        db, actor=researcher, start=TODAY - timedelta(days=365), end=TODAY, today=TODAY
    )
    assert tables.rule.min_cell == 11
    cells = [c for _, c in tables.by_sex + tables.by_age_band] + [
        c for g in tables.outcomes for c in (g.courses, g.evaluable)
    ]
    assert any(c.suppressed for c in cells), "the demo has small groups"
    for c in cells:
        assert c.text == ("<11" if 0 < c.count < 11 else str(c.count))
    for g in tables.outcomes:
        for r in (g.response, g.remission):
            if r.count.suppressed or r.n.suppressed:
                assert r.text.startswith(("suppressed", "no evaluable"))
                assert f"{r.count.count}/" not in r.text


def test_a_clinic_may_lower_the_minimum_cell_with_a_recorded_reason(db: Session) -> None:
    director = actor(db, "dr.chen")
    configuration.override(
        db,
        actor=director,
        table_key="disclosure.suppression",
        target="research_tables",
        field="min_cell",
        value="3",
        reason="data use agreement with the university allows cells of 3",
    )
    tables = service.research_tables(
        db,
        actor=actor(db, "research.patel"),
        start=TODAY - timedelta(days=365),
        end=TODAY,
        today=TODAY,
    )
    assert tables.rule.min_cell == 3
    for _, c in tables.by_sex + tables.by_age_band:
        assert c.text == ("<3" if 0 < c.count < 3 else str(c.count))
