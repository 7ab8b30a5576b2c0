"""Suicidality alerts: raised at once, acknowledged with the action taken, escalated when
nobody has acknowledged them in the clinic's set time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ketaclinic.outcomes.models import SuicidalityAlert
from ketaclinic.outcomes.service import config, context
from ketaclinic.outcomes.service.access import CLINICIANS, JOB, require
from ketaclinic.outcomes.service.outbox import enqueue_for_staff
from ketaclinic.outcomes.service.texts import PUBLIC_URL
from ketaclinic.patients import service as patients
from ketaclinic.platform import jobs
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid, NotFound
from ketaclinic.platform.messaging import clinic_time

Alert = SuicidalityAlert
ACTIONS: dict[str, str] = {
    "safety_plan_reviewed": "Safety plan reviewed",
    "crisis_line_given": "Crisis line given",
    "emergency_escalation": "Emergency escalation",
    "other": "Other (see note)",
}


def _notify(db: Session, alert: Alert, users: list[User], *, kind: str, subject: str) -> None:
    raised = clinic_time(alert.raised_at)
    for user in users:
        # No patient name in the message: it travels by e-mail. The time is the clinic's.
        enqueue_for_staff(
            db,
            user,
            kind=kind,
            subject=subject,
            body=f"{subject}. Alert {alert.id}, raised {raised}. "
            f"Review and acknowledge it with the action taken: {PUBLIC_URL}/outcomes/alerts",
            patient_id=alert.patient_id,
            alert_id=alert.id,
        )


def raise_alert(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    source: str,
    detail: str,
    response_id: int | None,
    now: datetime,
) -> Alert:
    """Open an alert inside the caller's transaction and tell the care team: the primary
    clinician if known, else every prescriber."""
    primary = context.primary_clinician(db, patient_id=patient_id)
    team = [primary] if primary is not None else context.prescribers(db)
    return _open(
        db,
        actor=actor,
        team=team,
        primary=primary.username if primary else None,
        patient_id=patient_id,
        response_id=response_id,
        source=source,
        detail=detail,
        now=now,
        subject="Suicidality alert: action needed",
        audited=detail[:300],
    )


def raise_for_lead(
    db: Session, *, actor: Actor, lead_id: int, detail: str, now: datetime | None = None
) -> int:
    """A self-screen lead reported suicidal thoughts: an alert like a patient's, addressed
    to every prescriber (a lead has no care team yet), escalated the same way. Answers
    ``platform.ports.raise_lead_alert``; returns the alert's id."""
    alert = _open(
        db,
        actor=actor,
        team=context.prescribers(db),
        primary=None,
        lead_id=lead_id,
        source="self_screen",
        detail=detail,
        now=now or utcnow(),
        subject="Suicidality alert (self-screen): action needed",
        audited=f"self-screen lead {lead_id}",
    )
    return alert.id


def _open(
    db: Session,
    *,
    actor: Actor,
    team: list[User],
    primary: str | None,
    source: str,
    detail: str,
    now: datetime,
    subject: str,
    audited: str,
    patient_id: int | None = None,
    lead_id: int | None = None,
    response_id: int | None = None,
) -> Alert:
    """The alert, its messages to ``team``, its escalation check and its audit row, in
    the caller's transaction: the same for a patient's alert and a lead's."""
    alert = Alert(
        patient_id=patient_id,
        lead_id=lead_id,
        response_id=response_id,
        source=source,
        detail=detail[:2000],
        raised_at=now,
        raised_by=actor.username,
        primary_clinician=primary,
        notified=[u.username for u in team],
        escalate_after_min=int(config.setting(db, "escalate_after_minutes")),
        escalated_to=[],
    )
    db.add(alert)
    db.flush()
    _notify(db, alert, team, kind="alert", subject=subject)
    jobs.enqueue(db, "outcomes.escalate_alert", at=escalation_due_at(alert), alert_id=alert.id)
    audit.record(
        db,
        actor=actor,
        action="alert.raise",
        patient_id=patient_id,
        object_type="suicidality_alert",
        object_id=alert.id,
        detail=audited,
    )
    return alert


def attach_lead_alerts(db: Session, *, actor: Actor, lead_id: int, patient_id: int) -> int:
    """The lead's alerts now belong to the patient the lead became (their chart shows them,
    and an open one holds discharge as a patient's does)."""
    found = list(db.scalars(select(Alert).where(Alert.lead_id == lead_id)))
    for alert in found:
        alert.patient_id = patient_id
        audit.record(
            db,
            actor=actor,
            action="alert.attach",
            patient_id=patient_id,
            object_type="suicidality_alert",
            object_id=alert.id,
            detail=f"self-screen lead {lead_id} became this patient",
        )
    db.flush()
    return len(found)


def flag_by_clinician(
    db: Session, *, actor: Actor, patient_id: int, note: str, now: datetime | None = None
) -> Alert:
    require(actor, CLINICIANS, "raising a suicidality alert")
    note = note.strip()
    if len(note) < 3:
        raise Invalid("say what you observed", fields={"note": "required"})
    patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="alert")
    alert = raise_alert(
        db,
        actor=actor,
        patient_id=patient_id,
        source="clinician",
        detail=f"Clinician's concern ({actor.full_name or actor.username}): {note}",
        response_id=None,
        now=now or utcnow(),
    )
    db.flush()
    return alert


def acknowledge(
    db: Session,
    *,
    actor: Actor,
    alert_id: int,
    action: str,
    note: str = "",
    now: datetime | None = None,
) -> Alert:
    require(actor, CLINICIANS, "acknowledging a suicidality alert")
    alert = db.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    if alert.status != "open":
        raise Conflict(f"this alert was already acknowledged by {alert.acknowledged_by}", fields={})
    if action not in ACTIONS:
        raise Invalid(
            f"choose the action taken: {', '.join(ACTIONS.values())}", fields={"action": "required"}
        )
    note = note.strip()
    if action == "other" and len(note) < 3:
        raise Invalid("say what was done", fields={"note": "required when the action is other"})
    if len(note) > 2000:
        raise Invalid("the note is too long (2000 characters at most)", fields={"note": "too long"})
    alert.status = "acknowledged"
    alert.acknowledged_at = now or utcnow()
    alert.acknowledged_by = actor.username
    alert.action = action
    alert.action_note = note or None
    audit.record(
        db,
        actor=actor,
        action="alert.acknowledge",
        patient_id=alert.patient_id,
        object_type="suicidality_alert",
        object_id=alert.id,
        detail=f"{action}: {note}"[:300],
    )
    db.flush()
    return alert


def escalation_due_at(alert: Alert) -> datetime:
    return alert.raised_at + timedelta(minutes=alert.escalate_after_min)


def _escalate(db: Session, alert: Alert, users: dict[str, User], *, now: datetime) -> bool:
    """Escalate ``alert`` unless someone acknowledged or escalated it first: one
    conditional UPDATE decides, so two workers never escalate the same alert twice."""
    result = db.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.status == "open", Alert.escalated_at.is_(None))
        .values(escalated_at=now, escalated_to=sorted(users))
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return False
    db.refresh(alert)
    _notify(
        db,
        alert,
        list(users.values()),
        kind="alert_escalation",
        subject="ESCALATED suicidality alert: not acknowledged in time",
    )
    audit.record(
        db,
        actor=JOB,
        action="alert.escalate",
        patient_id=alert.patient_id,
        object_type="suicidality_alert",
        object_id=alert.id,
        detail=f"after {alert.escalate_after_min} min to {', '.join(sorted(users))}",
    )
    return True


def message_staff(
    db: Session,
    *,
    usernames: Sequence[str],
    kind: str,
    subject: str,
    body: str,
    patient_id: int | None,
    path: str,
) -> list[str]:
    """Another area's notice to named staff, through the same outbox as alerts (see
    ``platform.ports.message_staff``): each active user gets one message."""
    wanted = sorted(set(usernames))
    if not wanted:
        return []
    users = list(db.scalars(select(User).where(User.username.in_(wanted), User.active.is_(True))))
    for user in users:
        enqueue_for_staff(
            db,
            user,
            kind=kind,
            subject=subject,
            body=f"{body} {PUBLIC_URL}{path}",
            patient_id=patient_id,
        )
    return sorted(u.username for u in users)


def escalation_usernames(db: Session) -> list[str]:
    return sorted(_escalation_team(db))


def prescriber_usernames(db: Session) -> list[str]:
    return [u.username for u in context.prescribers(db)]


def _escalation_team(db: Session) -> dict[str, User]:
    return {u.username: u for u in context.prescribers(db) + context.medical_directors(db)}


def escalate_due(db: Session, *, now: datetime) -> list[Alert]:
    """Escalate every open alert past its time to all prescribers and medical directors."""
    due = [
        a
        for a in db.scalars(
            select(Alert).where(Alert.status == "open", Alert.escalated_at.is_(None))
        )
        if escalation_due_at(a) <= now
    ]
    if not due:
        return []
    users = _escalation_team(db)
    escalated = [alert for alert in due if _escalate(db, alert, users, now=now)]
    db.flush()
    return escalated


def escalate_alert(db: Session, *, alert_id: int, now: datetime) -> bool:
    """The escalation check of one alert, at its escalation time: true if it escalated
    now (an acknowledged or already escalated alert is left as it is)."""
    alert = db.get(Alert, alert_id)
    if alert is None or alert.status != "open" or alert.escalated_at is not None:
        return False
    if escalation_due_at(alert) > now:
        # Run early (a clock apart, or the clinic's setting changed): check again then.
        jobs.enqueue(db, "outcomes.escalate_alert", at=escalation_due_at(alert), alert_id=alert.id)
        return False
    done = _escalate(db, alert, _escalation_team(db), now=now)
    db.flush()
    return done


def names_on_alerts(db: Session, alerts: Iterable[Alert]) -> dict[str, str]:
    """The full names of everyone the alerts name (who raised, the care team told, the
    primary clinician, whom it escalated to, who acknowledged), read in one statement
    for the page; a page shows the username where no name is on record."""
    people: set[str | None] = set()
    for alert in alerts:
        people.update((alert.raised_by, alert.primary_clinician, alert.acknowledged_by))
        people.update(alert.notified or ())
        people.update(alert.escalated_to or ())
    return accounts.full_names(db, people)


def open_alerts(db: Session, *, actor: Actor) -> list[Alert]:
    require(actor, CLINICIANS, "reading suicidality alerts")
    found = list(db.scalars(select(Alert).where(Alert.status == "open").order_by(Alert.raised_at)))
    audit.note_read(
        db,
        actor=actor,
        action="alert.list",
        object_type="suicidality_alert",
        detail=f"{len(found)} open",
    )
    db.flush()
    return found


def recently_acknowledged(db: Session, *, actor: Actor, since: datetime) -> list[Alert]:
    require(actor, CLINICIANS, "reading suicidality alerts")
    found = list(
        db.scalars(
            select(Alert)
            .where(Alert.status == "acknowledged", Alert.acknowledged_at >= since)
            .order_by(Alert.acknowledged_at.desc())
        )
    )
    audit.note_read(
        db,
        actor=actor,
        action="alert.list",
        object_type="suicidality_alert",
        detail=f"{len(found)} acknowledged since {since:%Y-%m-%d}",
    )
    db.flush()
    return found


def open_counts(db: Session) -> tuple[int, int]:
    """(open, escalated) counts: no patient data, so no audit (polled every 20 s, and on
    every page's banner): one statement."""
    total, escalated = db.execute(
        select(
            func.count(),
            func.count().filter(Alert.escalated_at.is_not(None)),
        )
        .select_from(Alert)
        .where(Alert.status == "open")
    ).one()
    return int(total or 0), int(escalated or 0)


def for_patient(db: Session, patient_id: int) -> list[Alert]:
    """Inside a caller that audits the read."""
    return list(
        db.scalars(
            select(Alert).where(Alert.patient_id == patient_id).order_by(Alert.raised_at.desc())
        )
    )


def has_open_alert(db: Session, *, patient_id: int) -> bool:
    """Whether the patient has an open (unacknowledged) suicidality alert. A flush-only
    read for other areas' safety checks (discharge); the caller audits its own read."""
    found = db.scalar(
        select(SuicidalityAlert.id)
        .where(SuicidalityAlert.patient_id == patient_id, SuicidalityAlert.status == "open")
        .limit(1)
    )
    return found is not None


def patients_with_open_alert(db: Session, *, patient_ids: Sequence[int]) -> set[int]:
    """Which of these patients have an open suicidality alert: ``has_open_alert`` for
    several at once (one query), flush-only, for the chairs of the day."""
    wanted = sorted(set(patient_ids))
    if not wanted:
        return set()
    return set(
        db.scalars(
            select(SuicidalityAlert.patient_id)
            .where(SuicidalityAlert.patient_id.in_(wanted), SuicidalityAlert.status == "open")
            .distinct()
        )
    )


def open_alerts_named(db: Session, *, actor: Actor) -> list[tuple[Alert, str]]:
    """``open_alerts`` with the name each is about (a self-screen lead has no patient
    record yet): one query for the alerts, one for the names."""
    found = open_alerts(db, actor=actor)
    names = patients.display_names(db, {a.patient_id for a in found if a.patient_id})
    for a in found:
        if a.patient_id is not None:
            audit.note_read(
                db,
                actor=actor,
                action="alert.list",
                patient_id=a.patient_id,
                object_type="suicidality_alert",
                object_id=a.id,
            )
    return [
        (a, names.get(a.patient_id, "?") if a.patient_id else "A self-screen lead") for a in found
    ]
