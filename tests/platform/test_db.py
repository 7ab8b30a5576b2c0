"""``platform.db``: rows looked up again by id within one unit of work."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.patients import service as patients
from ketaclinic.patients.models import Patient
from ketaclinic.patients.schemas import PatientIn
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import forget_read, new_ids, read_once, rows_by_id
from ketaclinic.platform.roles import Role
from tests.conftest import counted

ADMIN = Actor(user_id=None, username="tests/platform/test_db.py", roles=frozenset({Role.admin}))


def _patients(db: Session, n: int) -> list[int]:
    ids = []
    for i in range(n):
        row = patients.create_patient(
            db,
            actor=ADMIN,
            data=PatientIn(
                given_name="Row",
                family_name=f"Held{i}",
                sex="female",
                date_of_birth=date(1980, 1, 1 + i),
            ),
        )
        ids.append(row.id)
    db.flush()
    return ids


def test_rows_the_unit_of_work_holds_are_not_read_again_and_the_others_in_one_query(
    db: Session,
) -> None:
    first, second, third = _patients(db, 3)
    db.expunge_all()
    held = db.get(Patient, first)  # one query: now in the identity map
    assert held is not None
    with counted(db) as seen:
        found = rows_by_id(db, Patient, [first, second, third])
    assert found[first] is held
    assert sorted(found) == [first, second, third]
    assert [p.family_name for _, p in sorted(found.items())] == ["Held0", "Held1", "Held2"]
    assert len(seen) == 1  # the two not held, together
    with counted(db) as seen:
        assert rows_by_id(db, Patient, [second, third]) == {
            second: found[second],
            third: found[third],
        }
    assert seen == []


def test_an_expired_row_is_read_again_not_taken_stale_and_no_ids_read_nothing(
    db: Session,
) -> None:
    (only,) = _patients(db, 1)
    row = db.get(Patient, only)
    assert row is not None
    db.expire(row)
    with counted(db) as seen:
        found = rows_by_id(db, Patient, [only])
    assert found[only] is row and found[only].family_name == "Held0"
    assert len(seen) == 1
    with counted(db) as seen:
        assert rows_by_id(db, Patient, []) == {}
    assert seen == []


def test_new_ids_are_ascending_above_every_stored_row_and_none_for_none(db: Session) -> None:
    stored = _patients(db, 2)
    ids = new_ids(db, Patient, 3)
    assert len(set(ids)) == 3 and ids == sorted(ids) and ids[0] > max(stored)
    assert new_ids(db, Patient, 0) == []


def test_read_once_reads_once_a_transaction_and_forgets_at_its_end_or_when_told(
    db: Session,
) -> None:
    reads: list[int] = []

    def read() -> int:
        db.execute(select(1))  # a read begins the transaction, as a service's does
        reads.append(len(reads) + 1)
        return reads[-1]

    assert read_once(db, "k", read) == 1
    assert read_once(db, "k", read) == 1  # the same transaction: not read again
    assert read_once(db, "other", read) == 2  # another key is its own read
    forget_read(db, "k")  # its writer changed it
    assert read_once(db, "k", read) == 3
    db.commit()
    assert read_once(db, "k", read) == 4  # a new transaction reads afresh
    db.rollback()
    assert read_once(db, "k", read) == 5
    with db.begin_nested():
        assert read_once(db, "k", read) == 5
    assert read_once(db, "k", read) == 6  # a savepoint's end forgets too
    assert reads == [1, 2, 3, 4, 5, 6]
