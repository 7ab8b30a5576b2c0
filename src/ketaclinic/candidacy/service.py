"""What people do at intake and candidacy: record the intake (new versions for
corrections), evaluate it against the screening rules and the medication table, and the
prescriber's confirmation or override. Every read and write is audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from ketaclinic.candidacy.models import CandidacyDecision, Intake
from ketaclinic.candidacy.schemas import DecisionIn, IntakeIn
from ketaclinic.clinical import course, dosing, screening
from ketaclinic.configuration import service as configuration
from ketaclinic.patients import service as patients
from ketaclinic.platform import ports
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role

# Nurses and prescribers take the intake; front desk never sees the clinical history.
INTAKE_ROLES = frozenset({Role.prescriber, Role.nurse})
DECIDING_ROLES = frozenset({Role.prescriber})
ELIGIBLE = ("eligible", "eligible_with_precautions")
TRIALS_RULE = "failed_antidepressant_trials"
# Number rules the intake fills itself: age from the date of birth, BP from its vitals.
AGE_RULES = ("age_outside_clinic_range", "esketamine_under_18")
SYSTOLIC_RULE = "measured_systolic_bp"
DIASTOLIC_RULE = "measured_diastolic_bp"
# The questionnaire each indication is followed with, besides the PHQ-9 everyone gets:
# the instrument catalogue's PTSD and suicidality scales (clinic convention).
BASELINE_SCALES = {
    "treatment_resistant_depression": ("phq9", "madrs"),
    "failed_antidepressant_trials": ("phq9", "madrs"),
    "ptsd": ("phq9", "pcl5"),
    "suicidal_ideation": ("phq9", "cssrs_screen"),
    "substance_use_disorder": ("phq9",),
}


def _require(actor: Actor, roles: frozenset[Role], what: str) -> None:
    if not actor.roles & roles:
        raise Forbidden(f"your role does not permit you to {what}")


def applicable_rules(route: str) -> list[screening.Rule]:
    """The rules asked at intake for ``route`` (as they stand for that route)."""
    if route not in screening.ROUTES:
        raise Invalid(f"unknown route {route!r}", fields={"route": "unknown route"})
    return [r.for_route(route) for r in screening.rules() if r.applies_to(route)]


# ------------------------------------------------------------------ intake


def age_in_years(date_of_birth: date, on: date) -> int:
    """Whole years of age on ``on``."""
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - int(before_birthday)


def _measured(data: IntakeIn, date_of_birth: date | None) -> dict[str, tuple[int, str]]:
    """The number rules the intake knows from elsewhere: age from the date of birth, the
    measured blood pressure from the intake's own vital signs."""
    known: dict[str, tuple[int, str]] = {}
    if date_of_birth is not None:
        age = age_in_years(date_of_birth, data.taken_on)
        for rule_id in AGE_RULES:
            known[rule_id] = (age, f"the date of birth gives {age} years")
    if data.bp_systolic is not None:
        known[SYSTOLIC_RULE] = (data.bp_systolic, f"the intake's BP is {data.bp_systolic}")
    if data.bp_diastolic is not None:
        known[DIASTOLIC_RULE] = (data.bp_diastolic, f"the intake's BP is {data.bp_diastolic}")
    return known


def _check_findings(data: IntakeIn, date_of_birth: date | None = None) -> dict[str, Any]:
    rules = {r.id: r for r in applicable_rules(data.route)}
    errors: dict[str, str] = {}
    findings: dict[str, Any] = {}
    for key, answer in data.findings.items():
        rule = rules.get(key)
        if rule is None:
            errors[f"finding.{key}"] = f"no rule {key!r} is asked for the {data.route} route"
            continue
        if answer is not None and rule.answer_type == "bool" and not isinstance(answer, bool):
            errors[f"finding.{key}"] = "answer yes, no or unknown"
        elif answer is not None and rule.answer_type == "number":
            if isinstance(answer, bool) or answer < 0:
                errors[f"finding.{key}"] = f"give a number of {rule.unit or 'units'} (0 or more)"
            elif float(answer).is_integer():
                answer = int(answer)
        findings[key] = answer
    adequate = sum(1 for t in data.trials if t.adequate)
    if TRIALS_RULE in rules and data.trials:
        given = findings.get(TRIALS_RULE)
        if given is None:
            findings[TRIALS_RULE] = adequate
        elif given != adequate:
            errors[f"finding.{TRIALS_RULE}"] = (
                f"the trial list holds {adequate} adequate trial(s) but {given} was given"
            )
    for key, (value, said) in _measured(data, date_of_birth).items():
        if key not in rules or f"finding.{key}" in errors:
            continue
        given = findings.get(key)
        if given is None:
            findings[key] = value
        elif given != value:
            errors[f"finding.{key}"] = f"{said} but {given} was given"
    for key in rules:
        if key not in findings and f"finding.{key}" not in errors:
            errors[f"finding.{key}"] = "answer yes, no or unknown"
    if data.protocol_id is not None:
        protocols = {p.id: p for p in dosing.protocols()}
        chosen = protocols.get(data.protocol_id)
        if chosen is None:
            errors["protocol_id"] = "unknown protocol"
        elif chosen.route != data.route:
            errors["protocol_id"] = f"protocol {chosen.id} is {chosen.route}, not {data.route}"
    if (data.bp_systolic is None) != (data.bp_diastolic is None):
        errors["bp_systolic"] = "give both systolic and diastolic pressure"
    elif (
        data.bp_systolic is not None
        and data.bp_diastolic is not None
        and data.bp_diastolic >= data.bp_systolic
    ):
        errors["bp_diastolic"] = "diastolic must be below systolic"
    if errors:
        raise Invalid("the intake is incomplete or inconsistent", fields=errors)
    return findings


def _new_row(actor: Actor, patient_id: int, data: IntakeIn, findings: dict[str, Any]) -> Intake:
    vitals = {
        k: getattr(data, k)
        for k in ("heart_rate", "bp_systolic", "bp_diastolic", "spo2")
        if getattr(data, k) is not None
    }
    return Intake(
        patient_id=patient_id,
        taken_on=data.taken_on,
        route=data.route,
        protocol_id=data.protocol_id,
        history={"episodes": data.episodes, "trials": [t.model_dump() for t in data.trials]},
        findings=findings,
        medications=list(data.medications),
        allergies=list(data.allergies),
        vitals=vitals,
        weight_kg=data.weight_kg,
        height_cm=data.height_cm,
        notes=data.notes,
        lead_id=data.lead_id,
        recorded_by=actor.username,
    )


def _save(db: Session, actor: Actor, row: Intake, action: str, detail: str) -> Intake:
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action=action,
        patient_id=row.patient_id,
        object_type="intake",
        object_id=row.id,
        detail=detail,
    )
    if row.weight_kg is not None or row.height_cm is not None:
        # Last: the patients service commits, and nothing after this step can fail.
        patients.add_measurement(
            db,
            actor=actor,
            patient_id=row.patient_id,
            data=patients.MeasurementIn(
                measured_on=row.taken_on, weight_kg=row.weight_kg, height_cm=row.height_cm
            ),
        )
    db.flush()
    return row


def create_intake(db: Session, *, actor: Actor, patient_id: int, data: IntakeIn) -> Intake:
    _require(actor, INTAKE_ROLES, "record an intake")
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="intake")
    findings = _check_findings(data, patient.date_of_birth)
    row = _new_row(actor, patient_id, data, findings)
    return _save(db, actor, row, "intake.create", f"version 1, route {data.route}")


def correct_intake(
    db: Session, *, actor: Actor, intake_id: int, data: IntakeIn, reason: str
) -> Intake:
    """A new version replacing ``intake_id``, which must be the latest version."""
    _require(actor, INTAKE_ROLES, "correct an intake")
    if len(reason.strip()) < 3:
        raise Invalid("say why the intake is corrected", fields={"reason": "required"})
    old = _load(db, intake_id)
    latest = _latest(db, old.patient_id)
    if latest is not None and latest.id != old.id:
        raise Conflict(
            f"intake {old.id} was already corrected (now version {latest.version}, "
            f"id {latest.id}); correct the latest version"
        )
    patient = patients.get_patient(db, actor=actor, patient_id=old.patient_id, purpose="intake")
    findings = _check_findings(data, patient.date_of_birth)
    row = _new_row(actor, old.patient_id, data, findings)
    row.version = old.version + 1
    row.supersedes_id = old.id
    row.correction_reason = reason.strip()
    return _save(db, actor, row, "intake.correct", f"version {row.version}: {reason.strip()}")


def _load(db: Session, intake_id: int) -> Intake:
    row = db.get(Intake, intake_id)
    if row is None:
        raise NotFound(f"no intake with id {intake_id}")
    return row


def _latest(db: Session, patient_id: int) -> Intake | None:
    return db.scalars(
        select(Intake).where(Intake.patient_id == patient_id).order_by(Intake.id.desc()).limit(1)
    ).first()


def _read(db: Session, actor: Actor, action: str, patient_id: int, oid: object = None) -> None:
    audit.note_read(
        db, actor=actor, action=action, patient_id=patient_id, object_type="intake", object_id=oid
    )


def get_intake(db: Session, *, actor: Actor, intake_id: int) -> Intake:
    _require(actor, INTAKE_ROLES, "read an intake")
    row = _load(db, intake_id)
    _read(db, actor, "intake.view", row.patient_id, row.id)
    return row


def latest_intake(db: Session, *, actor: Actor, patient_id: int) -> Intake | None:
    _require(actor, INTAKE_ROLES, "read an intake")
    row = _latest(db, patient_id)
    _read(db, actor, "intake.view", patient_id, row.id if row else None)
    return row


def intake_versions(db: Session, *, actor: Actor, patient_id: int) -> list[Intake]:
    """Every intake version of the patient, newest first."""
    _require(actor, INTAKE_ROLES, "read an intake")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    rows = list(
        db.scalars(select(Intake).where(Intake.patient_id == patient_id).order_by(Intake.id.desc()))
    )
    _read(db, actor, "intake.history", patient_id)
    return rows


# ------------------------------------------------------------------ evaluation


@dataclass(frozen=True)
class Candidacy:
    """The evaluation of one intake version, as shown to the prescriber."""

    intake: Intake
    evaluation: screening.Evaluation
    medications: course.MedicationReport

    @property
    def rule_ids(self) -> list[str]:
        return [r.id for r in applicable_rules(self.intake.route)]

    def snapshot(self) -> dict[str, Any]:
        return {
            "intake_id": self.intake.id,
            "route": self.evaluation.route,
            "verdict": self.evaluation.verdict,
            "reasons": [asdict(r) for r in self.evaluation.reasons],
            "workup": list(self.evaluation.workup),
            "unknown": list(self.evaluation.unknown),
            "medication_findings": [asdict(f) for f in self.medications.findings],
            "unknown_medications": list(self.medications.unknown),
            "rule_ids": self.rule_ids,
        }


def _evaluate(db: Session, intake: Intake) -> Candidacy:
    evaluation = screening.evaluate(
        intake.findings,
        route=intake.route,
        overrides=configuration.overrides_for(db, "screening.rules"),
    )
    report = course.check_medications(intake.medications)
    return Candidacy(intake=intake, evaluation=evaluation, medications=report)


def evaluate_candidacy(db: Session, *, actor: Actor, patient_id: int) -> Candidacy | None:
    """The latest intake evaluated now; None when the patient has no intake."""
    _require(actor, INTAKE_ROLES, "see a candidacy evaluation")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    intake = _latest(db, patient_id)
    if intake is None:
        _read(db, actor, "candidacy.evaluate", patient_id)
        return None
    result = _evaluate(db, intake)
    audit.note_read(
        db,
        actor=actor,
        action="candidacy.evaluate",
        patient_id=patient_id,
        object_type="intake",
        object_id=intake.id,
        detail=f"verdict {result.evaluation.verdict}",
    )
    db.flush()
    return result


def decide(db: Session, *, actor: Actor, patient_id: int, data: DecisionIn) -> CandidacyDecision:
    """A prescriber confirms the computed verdict or overrides it with a written reason."""
    _require(actor, DECIDING_ROLES, "confirm or override a candidacy verdict")
    intake = _latest(db, patient_id)
    if intake is None:
        raise Invalid("record an intake before deciding candidacy")
    if intake.id != data.intake_id:
        raise Conflict(
            f"the intake changed since you evaluated it (now version {intake.version}); "
            "review the new evaluation and decide again",
            fields={"intake_id": "stale"},
        )
    result = _evaluate(db, intake)
    computed = result.evaluation.verdict
    reason = (data.reason or "").strip() or None
    if data.decision == "confirm":
        if data.final_verdict is not None and data.final_verdict != computed:
            raise Invalid(
                "to choose a verdict other than the computed one, override it with a reason",
                fields={"final_verdict": "differs from the computed verdict"},
            )
        final = computed
    else:
        if data.final_verdict is None:
            raise Invalid("choose the final verdict", fields={"final_verdict": "required"})
        if data.final_verdict == computed:
            raise Invalid(
                "the chosen verdict is the computed one: confirm it instead",
                fields={"final_verdict": "same as computed"},
            )
        if reason is None or len(reason) < 10:
            raise Invalid(
                "an override needs a written reason (at least 10 characters)",
                fields={"reason": "required"},
            )
        final = data.final_verdict
    snapshot = result.snapshot()
    row = CandidacyDecision(
        patient_id=patient_id,
        intake_id=intake.id,
        route=intake.route,
        computed_verdict=computed,
        final_verdict=final,
        decision="confirmed" if data.decision == "confirm" else "overridden",
        reason=reason,
        evaluation=snapshot,
        findings=dict(intake.findings),
        rule_ids=snapshot["rule_ids"],
        decided_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action=f"candidacy.{row.decision}",
        patient_id=patient_id,
        object_type="candidacy_decision",
        object_id=row.id,
        detail=f"intake {intake.id}: computed {computed}, final {final}"
        + (f"; reason: {reason}" if reason else ""),
    )
    db.flush()
    return row


def decisions(db: Session, *, actor: Actor, patient_id: int) -> list[CandidacyDecision]:
    """Every decision for the patient, newest first."""
    _require(actor, INTAKE_ROLES, "read candidacy decisions")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    rows = list(
        db.scalars(
            select(CandidacyDecision)
            .where(CandidacyDecision.patient_id == patient_id)
            .order_by(CandidacyDecision.id.desc())
        )
    )
    _read(db, actor, "candidacy.decisions", patient_id)
    return rows


@dataclass(frozen=True)
class Clearance:
    """Whether the latest candidacy decision clears the patient for a course."""

    decision: CandidacyDecision | None
    cleared: bool
    why: str


def clearance(db: Session, *, actor: Actor, patient_id: int) -> Clearance:
    """Cleared only by a decision on the latest intake whose final verdict is eligible."""
    _require(actor, INTAKE_ROLES, "read candidacy decisions")
    intake = _latest(db, patient_id)
    decision = db.scalars(
        select(CandidacyDecision)
        .where(CandidacyDecision.patient_id == patient_id)
        .order_by(CandidacyDecision.id.desc())
        .limit(1)
    ).first()
    if intake is None:
        why, cleared = "no intake has been recorded for this patient", False
    elif decision is None:
        why, cleared = "no prescriber has decided candidacy on the intake yet", False
    elif decision.intake_id != intake.id:
        why = (
            f"the intake was corrected (version {intake.version}) after the last decision; "
            "a prescriber must decide candidacy again"
        )
        cleared = False
    elif decision.final_verdict not in ELIGIBLE:
        why = (
            f"the candidacy decision of {decision.decided_by} is "
            f"{decision.final_verdict.replace('_', ' ')}"
        )
        cleared = False
    else:
        why = (
            f"{decision.final_verdict.replace('_', ' ')} ({decision.decision} by "
            f"{decision.decided_by})"
        )
        cleared = True
    _read(db, actor, "candidacy.clearance", patient_id, intake.id if intake else None)
    return Clearance(decision=decision, cleared=cleared, why=why)


# ------------------------------------------------------------------ at the chair


def medication_summary(
    db: Session, *, actor: Actor, patient_id: int
) -> ports.MedicationSummary | None:
    """The latest intake's medications and allergies with the interaction findings of
    the clinical core, for the chart header and the session screen. None when there is
    no intake, or for a role that does not read intakes."""
    if not actor.roles & INTAKE_ROLES:
        return None
    row = latest_intake(db, actor=actor, patient_id=patient_id)
    if row is None:
        return None
    report = course.check_medications(row.medications)
    return ports.MedicationSummary(
        taken_on=row.taken_on,
        medications=tuple(row.medications or ()),
        allergies=tuple(row.allergies or ()),
        findings=tuple(
            ports.InteractionFinding(
                medication=f.medication,
                drug_class=f.drug_class,
                severity=f.severity,
                effect=f.effect,
                advice=f.advice,
                source=f.source,
                evidence=f.evidence,
            )
            for f in report.findings
        ),
        unknown=tuple(report.unknown),
    )


def latest_intakes(db: Session, patient_ids: Iterable[int] | None = None) -> dict[int, Intake]:
    """Each patient's latest intake version (``None``: every patient), for another area's
    act that audits itself (the interop area's FHIR reads)."""
    query = select(Intake).order_by(Intake.id)
    if patient_ids is not None:
        query = query.where(Intake.patient_id.in_(sorted(set(patient_ids))))
    return {row.patient_id: row for row in db.scalars(query)}


def intake_patient(db: Session, intake_id: int) -> int | None:
    """The patient an intake version belongs to, for another area's act that audits
    itself."""
    row = db.get(Intake, intake_id)
    return row.patient_id if row else None


@dataclass(frozen=True)
class Waiting:
    intake: Intake
    patient_name: str


def decisions_waiting(db: Session, *, actor: Actor, limit: int = 50) -> list[Waiting]:
    """Patients whose current intake (their latest) has no prescriber's decision
    yet, oldest intake first: one query, and one for the names."""
    _require(actor, DECIDING_ROLES, "decide on candidacy")
    latest = select(func.max(Intake.id)).group_by(Intake.patient_id)
    rows = list(
        db.scalars(
            select(Intake)
            .where(
                Intake.id.in_(latest),
                ~exists().where(CandidacyDecision.intake_id == Intake.id),
            )
            .order_by(Intake.recorded_at, Intake.id)
            .limit(limit)
        )
    )
    names = patients.display_names(db, {r.patient_id for r in rows})
    for r in rows:
        _read(db, actor, "candidacy.waiting", r.patient_id, r.id)
    return [Waiting(r, names.get(r.patient_id, "?")) for r in rows]
