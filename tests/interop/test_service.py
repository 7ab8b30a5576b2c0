"""A group of monitor messages charted per session in one pass (``receive_group``): what
each message gets, what is stored and audited, and the alarms, against the same
messages charted one by one."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.interop import service
from ketaclinic.interop.hl7.messages import oru_r01
from ketaclinic.interop.models import Hl7DeadLetter, Hl7Message
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import utcnow
from ketaclinic.sessions import service as sessions
from ketaclinic.sessions.models import SessionAlarm, VitalSign
from tests.conftest import counted
from tests.interop.factories import Chair, infusing_chair
from tests.sessions.factories import Staff, staff

ZONE = ZoneInfo("America/New_York")

# Chair A: SpO2 falling to 86 % and a systolic of 205; chair B: a heart rate of 130.
# (minutes before now, values)
FEED_A = [
    (6.0, {"spo2": 97, "heart_rate": 80}),
    (5.0, {"systolic_bp": 205, "diastolic_bp": 100}),
    (4.0, {"spo2": 91, "heart_rate": 84}),
    (3.0, {"spo2": 86, "heart_rate": 88}),
    (2.0, {"systolic_bp": 150, "diastolic_bp": 90, "mean_bp": 110}),
]
FEED_B = [
    (5.5, {"heart_rate": 76, "spo2": 98}),
    (4.5, {"heart_rate": 130, "spo2": 97, "temperature": 36.9}),
    (3.5, {"heart_rate": 128, "spo2": 97}),
]


@pytest.fixture
def team(db: Session) -> Staff:
    return staff(db)


def _messages(
    chair: Chair, feed: list[tuple[float, dict[str, float]]], tag: str, now: datetime
) -> list[str]:
    return [
        oru_r01(
            control_id=f"{tag}{n}",
            mrn=chair.mrn,
            device_id=chair.device_id,
            at=now - timedelta(minutes=ago),
            values=values,
        )
        for n, (ago, values) in enumerate(feed, start=1)
    ]


def _alarms(db: Session, session_id: int) -> list[tuple[str, float | None, str]]:
    """The session's alarms in the order of the readings that raised them."""
    return [
        (a.rule_id, a.value, a.level)
        for a, _ in db.execute(
            select(SessionAlarm, VitalSign.taken_at)
            .join(VitalSign, VitalSign.id == SessionAlarm.vital_sign_id)
            .where(SessionAlarm.session_id == session_id)
            .order_by(VitalSign.taken_at, SessionAlarm.rule_id)
        )
    ]


def _interleave(*feeds: list[str]) -> list[str]:
    out = []
    for n in range(max(len(f) for f in feeds)):
        out += [f[n] for f in feeds if n < len(f)]
    return out


def test_a_group_for_two_sessions_charts_each_once_refuses_the_bad_one_and_audits_a_row_a_session(
    db: Session, team: Staff
) -> None:
    a = infusing_chair(db, team, device_id="MON-A")
    b = infusing_chair(db, team, device_id="MON-B")
    now = utcnow()
    a_raws = _messages(a, FEED_A, "A", now)
    b_raws = _messages(b, FEED_B, "B", now)
    implausible = oru_r01(
        control_id="BAD1",
        mrn=a.mrn,
        device_id=a.device_id,
        at=now - timedelta(minutes=1),
        values={"spo2": 30},  # below the plausible 50 %: a probe off the finger
    )
    raws = _interleave(a_raws, b_raws)
    raws.insert(3, implausible)
    raws.append(a_raws[0])  # sent again within the group: acknowledged, stored once
    answers = service.receive_group(
        db, group=[service.Incoming(r) for r in raws], zone=ZONE, now=now
    )

    assert all(answer is not None for answer in answers)
    codes = [answer.code for answer in answers if answer is not None]
    assert codes == ["AA", "AA", "AA", "AE"] + ["AA"] * 6
    assert answers[-1] is not None and answers[-1].duplicate
    bad = answers[3]
    assert bad is not None and "BAD1" in bad.text and "ERR|" in bad.text

    def charted(session_id: int) -> int:
        return (
            db.scalar(
                select(func.count())
                .select_from(VitalSign)
                .where(VitalSign.session_id == session_id, VitalSign.source == "device")
            )
            or 0
        )

    assert (charted(a.session_id), charted(b.session_id)) == (5, 3)
    assert sorted(db.scalars(select(Hl7Message.control_id))) == sorted(
        [f"A{n}" for n in range(1, 6)] + [f"B{n}" for n in range(1, 4)]
    )
    letters = list(db.scalars(select(Hl7DeadLetter)))
    assert [(x.control_id, x.ack_code, x.patient_id) for x in letters] == [
        ("BAD1", "AE", a.patient_id)
    ]
    # The mean pressure and the temperature are charted with the rest.
    assert db.scalar(select(VitalSign.mean_bp).where(VitalSign.mean_bp.is_not(None))) == 110
    assert db.scalar(
        select(VitalSign.temperature).where(VitalSign.temperature.is_not(None))
    ) == pytest.approx(36.9)

    # The live screen gets them too.
    from ketaclinic.sessions import service as sessions

    live = sessions.live_update(db, session_id=b.session_id, after_vital_id=0)
    assert [r["temperature"] for r in live.readings if r["source"] == "device"] == [
        None,
        pytest.approx(36.9),
        None,
    ]

    # One audit row a session for the group, naming its messages and readings; one for
    # the refusal.
    rows = list(
        db.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "session.vitals.record", AuditEvent.actor.like("device:%"))
            .order_by(AuditEvent.id)
        )
    )
    assert [(r.patient_id, r.actor) for r in rows] == [
        (a.patient_id, "device:MON-A"),
        (b.patient_id, "device:MON-B"),
    ]
    assert "5 reading(s) from 5 message(s): A1 A2 A3 A4 A5" in rows[0].detail
    assert "3 reading(s) from 3 message(s): B1 B2 B3" in rows[1].detail
    refusals = db.scalars(select(AuditEvent.patient_id).where(AuditEvent.action == "hl7.refuse"))
    assert list(refusals) == [a.patient_id]

    # The same messages charted one at a time raise the same alarms, reading for reading.
    c = infusing_chair(db, team, device_id="MON-C")
    d = infusing_chair(db, team, device_id="MON-D")
    for raw in _interleave(_messages(c, FEED_A, "C", now), _messages(d, FEED_B, "D", now)):
        (one,) = service.receive_group(db, group=[service.Incoming(raw)], zone=ZONE, now=now)
        assert one is not None and one.code == "AA"
    assert _alarms(db, a.session_id) == _alarms(db, c.session_id)
    assert _alarms(db, b.session_id) == _alarms(db, d.session_id)
    # And the ones the limits table names (by hand: 205 systolic crosses the stop at 200
    # and the recheck at 180; 86 % crosses the SpO2 warn at 92 and stop at 90).
    rules = {rule for rule, _, _ in _alarms(db, a.session_id)}
    assert {"inf_sbp_stop", "inf_sbp_recheck", "spo2_low_warn", "spo2_low_stop"} <= rules


def test_a_value_that_is_not_a_finite_number_or_a_time_out_of_range_is_a_dead_letter(
    db: Session, team: Staff
) -> None:
    """What the decoder cannot read as a number or a time is refused with its reason and
    kept for review, in a group and alone; the good message beside it is charted."""
    chair = infusing_chair(db, team, device_id="MON-N")
    now = utcnow()
    at = now - timedelta(minutes=1)
    stamp = at.strftime("%Y%m%d%H%M%S") + "+0000"

    def message(control: str) -> str:
        return oru_r01(
            control_id=control, mrn=chair.mrn, device_id=chair.device_id, at=at,
            values={"heart_rate": 71},
        )  # fmt: skip

    bad = [
        message("NAN1").replace("|71|", "|nan|"),
        message("INF1").replace("|71|", "|1e400|"),
        message("OFF1").replace(stamp, stamp[:14] + "+2400"),
    ]
    answers = service.receive_group(
        db, group=[service.Incoming(r) for r in [*bad, message("GOOD")]], zone=ZONE, now=now
    )
    assert [a.code if a is not None else None for a in answers] == ["AE", "AE", "AE", "AA"]
    alone = service.receive(db, raw=message("NAN2").replace("|71|", "|-inf|"), zone=ZONE)
    assert alone.code == "AE" and "is not a number" in alone.text
    letters = {x.control_id: x.reason for x in db.scalars(select(Hl7DeadLetter))}
    assert sorted(letters) == ["INF1", "NAN1", "NAN2", "OFF1"]
    assert "'nan' is not a number" in letters["NAN1"]
    assert "is not an HL7 date and time" in letters["OFF1"]
    assert list(db.scalars(select(Hl7Message.control_id))) == ["GOOD"]
    assert list(
        db.scalars(
            select(VitalSign.heart_rate).where(
                VitalSign.session_id == chair.session_id, VitalSign.source == "device"
            )
        )
    ) == [71]


def test_the_clinic_s_overrides_of_the_monitor_codes_reach_the_decoder(
    db: Session, team: Staff
) -> None:
    """The medical director stops charting the monitor's temperature and takes a
    monitor's kPa at 7.6 mmHg (by hand: 16.0 kPa x 7.6 = 121.6, charted 122; the default
    7.50062 gives 120): the next messages, in a group or alone, are decoded with them."""
    from ketaclinic.configuration import service as configuration
    from ketaclinic.platform.accounts import service as accounts
    from tests.conftest import make_user

    chair = infusing_chair(db, team, device_id="MON-O")
    now = utcnow()
    at = now - timedelta(minutes=1)

    def message(control: str) -> str:
        raw = oru_r01(
            control_id=control, mrn=chair.mrn, device_id=chair.device_id, at=at,
            values={"systolic_bp": 120, "diastolic_bp": 80, "temperature": 36.8},
        )  # fmt: skip
        return raw.replace("|120|266016^MDC_DIM_MMHG^MDC|", "|16.0|265987^MDC_DIM_KILO_PASCAL^MDC|")

    def charted() -> list[tuple[int | None, float | None]]:
        return [
            (v.systolic_bp, v.temperature)
            for v in db.scalars(
                select(VitalSign)
                .where(VitalSign.session_id == chair.session_id, VitalSign.source == "device")
                .order_by(VitalSign.id)
            )
        ]

    (first,) = service.receive_group(db, group=[service.Incoming(message("D1"))], zone=ZONE)
    assert first is not None and first.code == "AA"
    assert charted() == [(120, pytest.approx(36.8))]
    director = accounts.actor_for(make_user(db, ["prescriber", "admin"], username="dr.codes"))
    for table_key, target, field, value in (
        ("codes.mdc", "*:150344", "charted", "no"),
        ("codes.mdc_units", "266016:265987", "factor", "7.6"),
    ):
        configuration.override(
            db, actor=director, table_key=table_key, target=target, field=field, value=value,
            reason="our monitors' own calibration sheet",
        )  # fmt: skip
    (grouped,) = service.receive_group(db, group=[service.Incoming(message("D2"))], zone=ZONE)
    alone = service.receive(db, raw=message("D3"), zone=ZONE)
    assert grouped is not None and (grouped.code, alone.code) == ("AA", "AA")
    assert charted() == [(120, pytest.approx(36.8)), (122, None), (122, None)]
    notes = db.scalars(select(Hl7Message.note).where(Hl7Message.control_id == "D2"))
    assert "150344 MDC_TEMP (not charted)" in (notes.one() or "")


def test_a_group_costs_the_same_statements_for_two_messages_a_session_or_twenty(
    db: Session, team: Staff
) -> None:
    chairs = [infusing_chair(db, team, device_id=f"MON-{n}") for n in range(2)]
    now = utcnow()
    costs = []
    # A first group, then one of two messages a session and one of twenty.
    for first, count in ((0, 2), (2, 2), (4, 20)):
        group = [
            service.Incoming(
                oru_r01(
                    control_id=f"S{chair.device_id}-{k}",
                    mrn=chair.mrn,
                    device_id=chair.device_id,
                    # Every message a second after the last, in time order.
                    at=now - timedelta(seconds=60 - k),
                    values={"systolic_bp": 124, "diastolic_bp": 78, "heart_rate": 72, "spo2": 97},
                )
            )
            for k in range(first, first + count)
            for chair in chairs
        ]
        with counted(db) as seen:
            answers = service.receive_group(db, group=group, zone=ZONE, now=now)
        assert {a.code for a in answers if a is not None} == {"AA"}
        costs.append(len(seen))
    assert costs[1] == costs[2], costs


def test_a_long_surge_sent_a_few_messages_a_group_raises_what_it_raises_charted_by_hand(
    db: Session, team: Staff
) -> None:
    # A systolic of 185 for six minutes (a recheck at once, a pause once it has lasted
    # five), a minute back at 130, then two more minutes at 185 (a recheck again, no
    # pause): a reading every 15 seconds, three messages a group, so that the run lasts
    # longer than the newest readings a group reads first.
    monitored = infusing_chair(db, team, device_id="MON-LONG")
    by_hand = infusing_chair(db, team, device_id="MON-HAND")
    now = utcnow()
    feed = []
    for n in range(36):
        sbp = 130 if 24 <= n < 28 else 185
        at = now - timedelta(seconds=15 * (36 - n))
        feed.append((at, {"systolic_bp": sbp, "diastolic_bp": 85, "heart_rate": 80, "spo2": 97}))
    raws = [
        oru_r01(control_id=f"L{n}", mrn=monitored.mrn, device_id="MON-LONG", at=at, values=v)
        for n, (at, v) in enumerate(feed)
    ]
    for first in range(0, len(raws), 3):
        group = [service.Incoming(r) for r in raws[first : first + 3]]
        answers = service.receive_group(db, group=group, zone=ZONE, now=now)
        assert [a.code if a else None for a in answers] == ["AA"] * len(group)
    for at, values in feed:
        sessions.record_vitals(
            db,
            actor=team.nurse,
            session_id=by_hand.session_id,
            taken_at=at,
            heart_rate=values["heart_rate"],
            systolic_bp=values["systolic_bp"],
            diastolic_bp=values["diastolic_bp"],
            spo2=values["spo2"],
            respiratory_rate=None,
            source="monitor",
            now=at,
        )
    raised = _alarms(db, monitored.session_id)
    assert raised == _alarms(db, by_hand.session_id)
    expected = ["inf_sbp_recheck", "inf_sbp_pause", "inf_sbp_recheck"]
    assert [rule for rule, _, _ in raised] == expected


def test_an_ecg_heart_rate_and_a_pleth_pulse_at_once_chart_one_heart_rate_and_note_the_other(
    db: Session, team: Staff
) -> None:
    """ECG 72 and the oximeter's 75 at the same moment: one reading, heart rate 72 (the
    ECG's priority 1 over the oximeter's 2), the 75 named in the stored message's note;
    in a group or alone alike."""
    chair = infusing_chair(db, team, device_id="MON-P")
    at = utcnow() - timedelta(minutes=1)

    def message(control: str) -> str:
        raw = oru_r01(
            control_id=control, mrn=chair.mrn, device_id=chair.device_id, at=at,
            values={"heart_rate": 72, "spo2": 97},
        )  # fmt: skip
        ecg = next(s for s in raw.split("\r") if "|149546^" in s).replace(
            "149546^MDC_PULS_RATE_NON_INV", "147842^MDC_ECG_HEART_RATE"
        )
        pleth = ecg.replace("147842^MDC_ECG_HEART_RATE", "149530^MDC_PULS_OXIM_PULS_RATE")
        pleth = pleth.replace("|72|", "|75|").replace("OBX|1|", "OBX|3|")
        return "\r".join([ecg if "|149546^" in s else s for s in raw.split("\r")] + [pleth])

    (grouped,) = service.receive_group(db, group=[service.Incoming(message("E1"))], zone=ZONE)
    alone = service.receive(db, raw=message("E2"), zone=ZONE, now=utcnow())
    assert grouped is not None and (grouped.code, alone.code) == ("AA", "AA")
    charted = db.execute(
        select(VitalSign.heart_rate, VitalSign.spo2)
        .where(VitalSign.session_id == chair.session_id, VitalSign.source == "device")
        .order_by(VitalSign.id)
    ).all()
    assert [tuple(r) for r in charted] == [(72, 97), (72, 97)]
    for control in ("E1", "E2"):
        note = db.scalars(select(Hl7Message.note).where(Hl7Message.control_id == control)).one()
        assert "149530 MDC_PULS_OXIM_PULS_RATE 75 at " in (note or "")
        assert "charted from 147842 MDC_ECG_HEART_RATE 72 (priority 1 over 2)" in (note or "")
