"""A real MLLP client (python-hl7's ``MLLPClient``) over loopback against the listener."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import hl7
import pytest
from hl7.client import MLLPClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ketaclinic.interop.hl7.listener import Listener, _Waiting, running
from ketaclinic.interop.hl7.messages import oru_r01
from ketaclinic.interop.models import Hl7DeadLetter, Hl7Message
from ketaclinic.platform.db import make_session_factory, utcnow
from ketaclinic.sessions.models import SessionAlarm, VitalSign
from tests.interop.factories import Chair, infusing_chair
from tests.sessions.factories import Staff, staff

ZONE = ZoneInfo("America/New_York")


@pytest.fixture
def team(db: Session) -> Staff:
    return staff(db)


@pytest.fixture
def listener(engine: Engine) -> Iterator[tuple[Listener, int]]:
    with running(make_session_factory(engine), zone=ZONE) as found:
        yield found


def _ack(client: MLLPClient, message: str) -> hl7.Message:
    framed = client.send_message(message)
    return hl7.parse(framed.decode("utf-8").strip("\x0b\x1c\r"))


def _code(ack: hl7.Message) -> str:
    return str(ack.segment("MSA")(1))


def _readings(db: Session, session_id: int) -> list[VitalSign]:
    db.rollback()  # see what the listener committed
    return list(
        db.scalars(
            select(VitalSign)
            .where(VitalSign.session_id == session_id, VitalSign.source == "device")
            .order_by(VitalSign.taken_at)
        )
    )


def _message(chair: Chair, control: str, minutes_ago: float, **values: int) -> str:
    return oru_r01(
        control_id=control,
        mrn=chair.mrn,
        device_id=chair.device_id,
        at=utcnow() - timedelta(minutes=minutes_ago),
        values=values,
    )


def test_blood_pressure_and_oximetry_are_charted_and_raise_the_alarms(
    db: Session, team: Staff, listener: tuple[Listener, int]
) -> None:
    chair = infusing_chair(db, team)
    _, port = listener
    with MLLPClient("127.0.0.1", port) as client:
        bp = _ack(client, _message(chair, "BP1", 3, systolic_bp=205, diastolic_bp=100))
        ox = _ack(client, _message(chair, "OX1", 2, spo2=88, heart_rate=96))
    assert (_code(bp), _code(ox)) == ("AA", "AA")
    assert str(bp.segment("MSA")(2)) == "BP1"
    charted = _readings(db, chair.session_id)
    assert [(v.systolic_bp, v.diastolic_bp, v.spo2, v.heart_rate) for v in charted] == [
        (205, 100, None, None),
        (None, None, 88, 96),
    ]
    rules = set(
        db.scalars(select(SessionAlarm.rule_id).where(SessionAlarm.session_id == chair.session_id))
    )
    # 205 systolic once: inf_sbp_stop (>= 200) and inf_sbp_recheck (>= 180); SpO2 88:
    # spo2_low_warn (< 92) and spo2_low_stop (< 90), from the limits table.
    assert rules == {"inf_sbp_stop", "inf_sbp_recheck", "spo2_low_warn", "spo2_low_stop"}


def test_a_repeated_control_id_is_acknowledged_again_and_charted_once(
    db: Session, team: Staff, listener: tuple[Listener, int]
) -> None:
    chair = infusing_chair(db, team)
    _, port = listener
    message = _message(chair, "DUP1", 1, systolic_bp=130, diastolic_bp=80)
    with MLLPClient("127.0.0.1", port) as client:
        codes = [_code(_ack(client, message)) for _ in range(3)]
    assert codes == ["AA", "AA", "AA"]
    assert len(_readings(db, chair.session_id)) == 1
    assert db.scalar(select(func.count()).select_from(Hl7Message)) == 1


def test_refused_messages_get_the_right_code_and_are_kept_for_review(
    db: Session, team: Staff, listener: tuple[Listener, int]
) -> None:
    chair = infusing_chair(db, team)
    _, port = listener
    wrong_patient = oru_r01(
        control_id="P1",
        mrn="NOBODY",
        device_id=chair.device_id,
        at=utcnow(),
        values={"spo2": 97},
    )
    unknown_device = oru_r01(
        control_id="D1", mrn=chair.mrn, device_id="FFFF", at=utcnow(), values={"spo2": 97}
    )
    not_oru = _message(chair, "A1", 0, spo2=97).replace("ORU^R01^ORU_R01", "ADT^A01^ADT_A01")
    wrong_unit = oru_r01(
        control_id="U1",
        mrn=chair.mrn,
        device_id=chair.device_id,
        at=utcnow(),
        values={"systolic_bp": 17, "diastolic_bp": 11},
        units={
            "systolic_bp": "268032^MDC_DIM_KILO_PASCAL^MDC",
            "diastolic_bp": "268032^MDC_DIM_KILO_PASCAL^MDC",
        },
    )
    with MLLPClient("127.0.0.1", port) as client:
        answers = {
            name: _ack(client, text)
            for name, text in [
                ("wrong_patient", wrong_patient),
                ("unknown_device", unknown_device),
                ("not_oru", not_oru),
                ("wrong_unit", wrong_unit),
                ("garbage", "MSH|this is not|hl7"),
            ]
        }
        # Still serving after all of it.
        ok = _ack(client, _message(chair, "OK1", 0, spo2=97))
    assert {k: _code(v) for k, v in answers.items()} == {
        "wrong_patient": "AE",
        "unknown_device": "AE",
        "not_oru": "AR",
        "wrong_unit": "AE",
        "garbage": "AR",
    }
    for ack in answers.values():
        assert str(ack.segment("ERR")(3)(1)(1)) in {"100", "103", "200", "204"}
    assert _code(ok) == "AA"
    assert len(_readings(db, chair.session_id)) == 1
    letters = db.scalars(select(Hl7DeadLetter).order_by(Hl7DeadLetter.id)).all()
    assert [(letter.kind, letter.ack_code) for letter in letters] == [
        ("refused", "AE"),
        ("held", "AE"),
        ("refused", "AR"),
        ("refused", "AE"),
        ("refused", "AR"),
    ]
    assert "KILO_PASCAL" in letters[3].raw or "268032" in letters[3].raw


def test_unframed_bytes_never_stop_the_listener(
    db: Session, team: Staff, listener: tuple[Listener, int]
) -> None:
    import socket

    chair = infusing_chair(db, team)
    _, port = listener
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(b"\x00\xffno start block\x1c\r")
        answer = raw.recv(4096)
    assert b"MSA|AR" in answer
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(b"\x0bMSH|^~\\&|half a message")  # and hang up mid-block
    with MLLPClient("127.0.0.1", port) as client:
        assert _code(_ack(client, _message(chair, "AFTER", 0, spo2=97))) == "AA"


def test_a_corrected_result_replaces_the_earlier_value_and_a_cancelled_one_is_not_charted(
    db: Session, team: Staff, listener: tuple[Listener, int]
) -> None:
    chair = infusing_chair(db, team)
    _, port = listener
    at = utcnow() - timedelta(minutes=1)
    first = oru_r01(
        control_id="C1",
        mrn=chair.mrn,
        device_id=chair.device_id,
        at=at,
        values={"systolic_bp": 150, "diastolic_bp": 90},
    )
    corrected = oru_r01(
        control_id="C2",
        mrn=chair.mrn,
        device_id=chair.device_id,
        at=at,
        values={"systolic_bp": 135, "diastolic_bp": 85},
        status="C",
    )
    cancelled = oru_r01(
        control_id="C3",
        mrn=chair.mrn,
        device_id=chair.device_id,
        at=utcnow(),
        values={"systolic_bp": 190, "diastolic_bp": 95},
        status="X",
    )
    with MLLPClient("127.0.0.1", port) as client:
        codes = [_code(_ack(client, m)) for m in (first, corrected, cancelled)]
    # Nothing chartable in the cancelled message: refused (AE), kept for review.
    assert codes == ["AA", "AA", "AE"]
    rows = _readings(db, chair.session_id)
    assert [(v.systolic_bp, v.entered_in_error_at is not None) for v in rows] == [
        (150, True),
        (135, False),
    ]


def test_a_listener_stopped_mid_stream_loses_no_acknowledged_reading(
    db: Session, team: Staff, engine: Engine
) -> None:
    """The monitor has 12 messages acknowledged and two more on their way, stored by the
    listener but their answers never read, when the listener stops. Restarted, the
    monitor sends again from its first unacknowledged message: those two are answered
    AA again and stored once, and every reading is charted once."""
    chair = infusing_chair(db, team)
    factory = make_session_factory(engine)
    messages = [
        _message(chair, f"S{i}", 10 - i * 0.1, spo2=97, heart_rate=70 + i % 5) for i in range(40)
    ]
    acked: set[str] = set()
    with running(factory, zone=ZONE) as (listener, port):
        client = MLLPClient("127.0.0.1", port)
        for i in range(12):
            if _code(_ack(client, messages[i])) == "AA":
                acked.add(f"S{i}")
        for i in (12, 13):
            client.socket.sendall(b"\x0b" + messages[i].encode() + b"\x1c\r")
        deadline = time.monotonic() + 20
        while listener.handled < 14 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert listener.handled == 14
    client.close()  # the two answers are never read: to the monitor, not acknowledged
    assert acked == {f"S{i}" for i in range(12)}
    db.rollback()
    assert {"S12", "S13"} <= set(db.scalars(select(Hl7Message.control_id)))
    with running(factory, zone=ZONE) as (_, port), MLLPClient("127.0.0.1", port) as client:
        resume = min(i for i in range(40) if f"S{i}" not in acked)
        assert resume == 12
        for i in range(resume, 40):
            if _code(_ack(client, messages[i])) == "AA":
                acked.add(f"S{i}")
    assert acked == {f"S{i}" for i in range(40)}
    rows = _readings(db, chair.session_id)
    assert len(rows) == 40
    assert sorted(db.scalars(select(Hl7Message.control_id))) == sorted(acked)


def test_several_monitors_connected_at_once_each_chart_to_their_own_session(
    db: Session, team: Staff, listener: tuple[Listener, int]
) -> None:
    chairs = [infusing_chair(db, team, device_id=f"MON-{i}") for i in range(4)]
    _, port = listener
    codes: list[str] = []

    def monitor(chair: Chair) -> None:
        with MLLPClient("127.0.0.1", port) as client:
            for n in range(10):
                message = _message(chair, f"{chair.device_id}-{n}", 5 - n * 0.2, spo2=96)
                codes.append(_code(_ack(client, message)))

    threads = [threading.Thread(target=monitor, args=(chair,)) for chair in chairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert codes == ["AA"] * 40
    for chair in chairs:
        assert len(_readings(db, chair.session_id)) == 10


def test_messages_that_arrive_while_a_group_is_written_are_committed_together(
    db: Session, team: Staff, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.interop.hl7 import pcd01

    chair = infusing_chair(db, team)
    other = infusing_chair(db, team, device_id="MON-OTHER")
    decode = pcd01.decode
    writing = threading.Event()
    go_on = threading.Event()

    def held_decode(message: pcd01.Message, **kwargs: object) -> pcd01.Decoded:
        control = message.value(message.segment("MSH"), 10)
        if control == "FIRST":
            writing.set()
            go_on.wait(10)
        if control == "BROKEN":
            raise RuntimeError("a fault while writing one message")
        return decode(message, **kwargs)  # type: ignore[arg-type]

    # Both the group's pass and a message handled alone decode through here.
    monkeypatch.setattr(pcd01, "decode", held_decode)
    # One writer, so that the first message's open transaction holds the others back.
    with running(make_session_factory(engine), zone=ZONE, writers=1) as (listener, _):
        first = listener.submit(_message(chair, "FIRST", 3, spo2=97), None)
        assert writing.wait(10)
        # While the first transaction is open, three monitors' messages arrive.
        g1 = _message(chair, "G1", 2, spo2=96)
        later = [
            listener.submit(g1, None),
            listener.submit(_message(other, "BROKEN", 2, spo2=95), None),
            listener.submit(_message(chair, "G2", 1, spo2=86), None),
            listener.submit(
                oru_r01(
                    control_id="G3",
                    mrn=chair.mrn,
                    device_id="FFFF",
                    at=utcnow(),
                    values={"spo2": 97},
                ),
                None,
            ),
            listener.submit(g1, None),  # sent again before its answer: stored once
        ]
        time.sleep(0.05)
        assert not any(f.done() for f in later)
        go_on.set()
        codes = [first.result(10).code] + [f.result(10).code for f in later]
        assert (listener.groups, listener.handled) == (2, 6)
    # The fault rolled back its own message only (AE: the monitor sends it again);
    # the unknown device's refusal is kept.
    assert codes == ["AA", "AA", "AE", "AA", "AE", "AA"]
    assert [v.spo2 for v in _readings(db, chair.session_id)] == [97, 96, 86]
    assert _readings(db, other.session_id) == []
    assert set(db.scalars(select(Hl7Message.control_id))) == {"FIRST", "G1", "G2"}
    assert [letter.control_id for letter in db.scalars(select(Hl7DeadLetter))] == ["G3"]
    # The 86 % reading raised its alarms in the group like any other.
    assert (
        db.scalar(
            select(func.count())
            .select_from(SessionAlarm)
            .where(
                SessionAlarm.session_id == chair.session_id, SessionAlarm.rule_id == "spo2_low_stop"
            )
        )
        == 1
    )


def test_a_group_whose_one_pass_fails_is_written_again_message_by_message(
    db: Session, team: Staff, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault that fails the group's pass as a whole rolls its transaction back; the
    group is written again, each message alone: every good reading charted once, the
    refusal kept once, the duplicate acknowledged again."""
    from ketaclinic.sessions import service as sessions

    chair = infusing_chair(db, team, device_id="MON-PASS")
    charting = sessions.chart_device_groups
    faults = []

    def failing_once(*args: object, **kwargs: object) -> object:
        if not faults:
            faults.append("raised")
            raise RuntimeError("a fault in the group's pass")
        return charting(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sessions, "chart_device_groups", failing_once)
    first = _message(chair, "P1", 3, spo2=97)
    group = [
        _Waiting(raw, None, None)
        for raw in (
            first,
            _message(chair, "P2", 2, spo2=96),
            oru_r01(
                control_id="P3",
                mrn="NOBODY",
                device_id="FFFF",
                at=utcnow(),
                values={"spo2": 97},
            ),  # fmt: skip
            first,
        )
    ]
    listener = Listener(make_session_factory(engine), zone=ZONE)
    codes = [a.code for a in listener.handle_group(group)]
    assert (listener.groups, listener.handled) == (1, 4)
    assert faults == ["raised"]
    assert codes == ["AA", "AA", "AE", "AA"]
    assert [v.spo2 for v in _readings(db, chair.session_id)] == [97, 96]
    assert sorted(db.scalars(select(Hl7Message.control_id))) == ["P1", "P2"]
    assert [letter.control_id for letter in db.scalars(select(Hl7DeadLetter))] == ["P3"]
