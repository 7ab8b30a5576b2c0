"""The medical director overrides a clinical default with a reason; it is recorded and
reaches the clinical functions."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ketaclinic.clinical import monitoring
from ketaclinic.configuration import service
from ketaclinic.configuration.models import ClinicOverride
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid
from ketaclinic.platform.roles import Role
from tests.conftest import counted

DIRECTOR = Actor(user_id=None, username="dr.chen", roles=frozenset({Role.prescriber, Role.admin}))
PRESCRIBER = Actor(user_id=None, username="dr.rivera", roles=frozenset({Role.prescriber}))


def _hr_limit_id() -> str:
    """The during-infusion heart-rate rule (its id as the clinical table declares it)."""
    rows = [
        r
        for r in monitoring.limits()
        if r.parameter == "heart_rate" and "infusion" in r.phases and r.comparison in (">", ">=")
    ]
    return sorted(rows, key=lambda r: r.threshold)[0].id


def _raise_hr_limit(db: Session, rule: str) -> ClinicOverride:
    """The medical director raises the during-infusion heart-rate limit to 130."""
    return service.override(
        db,
        actor=DIRECTOR,
        table_key="monitoring.limits",
        target=rule,
        field="threshold",
        value="130",
        reason="our anaesthetist's protocol",
    )


def test_an_override_is_recorded_and_changes_what_the_alarm_rules_use(db: Session) -> None:
    rule = _hr_limit_id()
    reading = monitoring.VitalSigns(at_min=10, heart_rate=125)
    sustained = [reading, monitoring.VitalSigns(at_min=16, heart_rate=125)]
    assert any(a.rule_id == rule for a in monitoring.assess(sustained, phase="infusion"))
    _raise_hr_limit(db, rule)
    overrides = service.overrides_for(db, "monitoring.limits")
    assert [(o.target, o.field, o.value, o.by) for o in overrides] == [
        (rule, "threshold", 130.0, "dr.chen")
    ]
    alarms = monitoring.assess(sustained, phase="infusion", overrides=overrides)
    assert not any(a.rule_id == rule for a in alarms)


def test_only_the_medical_director_may_override(db: Session) -> None:
    with pytest.raises(Forbidden, match="medical director"):
        service.override(
            db,
            actor=PRESCRIBER,
            table_key="course.series",
            target="iv_6",
            field="sessions",
            value="8",
            reason="longer induction here",
        )


def test_a_value_of_the_wrong_kind_is_refused_naming_the_field(db: Session) -> None:
    with pytest.raises(Invalid, match="sessions: a whole number is needed"):
        service.override(
            db,
            actor=DIRECTOR,
            table_key="course.series",
            target="iv_6",
            field="sessions",
            value="6.5",
            reason="longer induction here",
        )
    with pytest.raises(Invalid, match="cannot be overridden"):
        service.override(
            db,
            actor=DIRECTOR,
            table_key="course.series",
            target="iv_6",
            field="source",
            value="x",
            reason="not a number field",
        )


def test_a_second_override_of_the_same_field_waits_for_the_first_to_retire(db: Session) -> None:
    first = service.override(
        db,
        actor=DIRECTOR,
        table_key="course.series",
        target="iv_6",
        field="sessions",
        value="8",
        reason="longer induction here",
    )
    with pytest.raises(Conflict, match="already overridden"):
        service.override(
            db,
            actor=DIRECTOR,
            table_key="course.series",
            target="iv_6",
            field="sessions",
            value="4",
            reason="shorter after all",
        )
    service.retire(db, actor=DIRECTOR, override_id=first.id, reason="back to the published")
    assert service.overrides_for(db, "course.series") == []
    history = service.history(db)
    assert (history[0].retired_by, history[0].retire_reason) == ("dr.chen", "back to the published")


def test_the_overrides_are_read_once_an_act_and_an_act_sees_its_own_changes(
    db: Session,
) -> None:
    rule = _hr_limit_id()
    with counted(db) as seen:
        assert service.overrides_for(db, "monitoring.limits") == []
        assert service.overrides_by_table(db, "monitoring.limits", "course.series") == {
            "monitoring.limits": [],
            "course.series": [],
        }
        assert service.clinic_overrides(db, "course.series") == []
    assert len([s for s in seen if "clinic_overrides" in s]) == 1
    made = _raise_hr_limit(db, rule)
    # The act that made it sees it at once.
    assert [o.value for o in service.overrides_for(db, "monitoring.limits")] == [130.0]
    # A caller changing what it was handed changes nothing kept.
    service.overrides_for(db, "monitoring.limits").clear()
    assert [o.value for o in service.overrides_for(db, "monitoring.limits")] == [130.0]
    service.retire(db, actor=DIRECTOR, override_id=made.id, reason="back to the protocol")
    assert service.overrides_for(db, "monitoring.limits") == []
    db.commit()
    with counted(db) as seen:
        service.overrides_for(db, "monitoring.limits")
    assert len([s for s in seen if "clinic_overrides" in s]) == 1  # a new act reads again
