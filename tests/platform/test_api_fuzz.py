"""A bounded schemathesis pass over the whole JSON API: whatever a client sends, with an
admin's, a prescriber's or a nurse's token, the answer is never a 5xx and its status is
one the OpenAPI document lists for that operation."""

from __future__ import annotations

import os
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import status_code_conformance
from sqlalchemy.orm import Session

from ketaclinic.orders import service as orders
from ketaclinic.orders.schemas import OrderIn
from ketaclinic.patients import service as patients
from ketaclinic.patients.schemas import MeasurementIn
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.roles import Role
from ketaclinic.scheduling import service as scheduling
from ketaclinic.scheduling.schemas import ChairIn
from ketaclinic.sessions import service as sessions
from tests.candidacy.factories import NURSE, PRESCRIBER, cleared_patient
from tests.conftest import PASSWORD, TEST_ACTOR, make_user
from tests.orders.factories import signer
from tests.patients.factories import a_patient

pytestmark = pytest.mark.slow

# Per operation: valid inputs, then inputs that break the schema (fewer: most are refused
# by validation alone). KETACLINIC_FUZZ_EXAMPLES=50 for a longer run by hand.
EXAMPLES = int(os.environ.get("KETACLINIC_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance]
ADMIN = Actor(user_id=None, username="admin.test", roles=frozenset({Role.admin}))


@dataclass
class Tally:
    operations: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)


def _seed(db: Session) -> dict[str, str]:
    """A small clinic: three patients, one weighed and cleared with a course, a signed
    order and an open walk-in session; a chair; and a token for each fuzzing role."""
    first = a_patient(db)
    a_patient(db, given_name="Ana", family_name="Ruiz")
    a_patient(db, given_name="Lee", family_name="Chen", sex="male")
    patients.add_measurement(
        db,
        actor=NURSE,
        patient_id=first.id,
        data=MeasurementIn(
            measured_on=date.today() - timedelta(days=1), weight_kg=80.0, height_cm=175.0
        ),
    )
    cleared_patient(db, first.id)
    course = orders.open_course(
        db,
        actor=PRESCRIBER,
        patient_id=first.id,
        protocol_id="iv_ketamine",
        indication="treatment_resistant_depression",
    )
    draft = orders.draft_order(
        db,
        actor=PRESCRIBER,
        course_id=course.id,
        data=OrderIn(dose_mg_per_kg=0.5, concentration_mg_per_ml=10, bag_volume_ml=100),
    )
    orders.sign_order(db, actor=signer(db), order_id=draft.id, password=PASSWORD)
    sessions.start_walk_in_session(db, actor=NURSE, patient_id=first.id)
    scheduling.add_chair(db, actor=ADMIN, data=ChairIn(name="Chair 1"))
    db.commit()
    tokens = {}
    for role in ("admin", "prescriber", "nurse"):
        user = make_user(db, role, username=f"fuzz-{role}")
        tokens[role] = accounts.create_api_token(db, actor=TEST_ACTOR, user_id=user.id, name="fuzz")
    db.commit()
    return tokens


def fuzz(app: FastAPI, tokens: dict[str, str], *, examples: int = EXAMPLES) -> Tally:
    schema = schemathesis.openapi.from_asgi(
        "/api/openapi.json", app, headers={"Authorization": f"Bearer {tokens['admin']}"}
    )
    tally = Tally()
    bearer = st.sampled_from(sorted(tokens.values()))
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        for mode, count in (
            (schemathesis.GenerationMode.POSITIVE, examples),
            (schemathesis.GenerationMode.NEGATIVE, max(1, examples // 2)),
        ):

            @settings(
                max_examples=count,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode), token=bearer)
            def one(case: schemathesis.Case, token: str) -> None:
                headers = {"Authorization": f"Bearer {token}"}
                tally.requests += 1
                try:
                    response = case.call(headers=headers)
                except Exception as exc:  # an error the app let escape: a 500 for a server
                    tally.statuses[500] += 1
                    tally.failures.setdefault(
                        f"{operation.label} raised {type(exc).__name__}", case.as_curl_command()
                    )
                    return
                tally.statuses[response.status_code] += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except FailureGroup as group:  # collected, reported at the end
                    for failure in group.exceptions:
                        tally.failures.setdefault(
                            f"{operation.label} {response.status_code}: {failure.title}",
                            case.as_curl_command(),
                        )

            with suppress(Unsatisfiable):  # nothing to negate: the operation takes no input
                one()
    return tally


# Each fuzzed request runs in a portal thread of its own; on the test's one shared
# connection the run stalls, so it commits for real.
@pytest.mark.real_commits
def test_no_input_gives_a_server_error_or_an_undocumented_status(app: FastAPI, db: Session) -> None:
    tally = fuzz(app, _seed(db))
    server_errors = sum(n for status, n in tally.statuses.items() if status >= 500)
    summary = (
        f"{tally.operations} operations, {tally.requests} requests, {server_errors} 5xx, "
        f"statuses {dict(sorted(tally.statuses.items()))}"
    )
    print(summary)
    assert tally.operations > 50, summary
    assert not tally.failures, (
        summary
        + "\n"
        + "\n".join(f"{what}\n    {curl}" for what, curl in sorted(tally.failures.items()))
    )
