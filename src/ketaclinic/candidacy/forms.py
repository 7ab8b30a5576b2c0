"""The intake form: generated from the screening rules, parsed back into ``IntakeIn``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ketaclinic.candidacy.models import Intake
from ketaclinic.candidacy.schemas import IntakeIn
from ketaclinic.candidacy.service import applicable_rules
from ketaclinic.clinical import screening
from ketaclinic.platform.forms import form_values

TRIAL_ROWS = 6
TRIAL_FIELDS = ("drug", "dose", "duration_weeks", "adequate")
SCALARS = (
    "taken_on",
    "route",
    "protocol_id",
    "episodes",
    "heart_rate",
    "bp_systolic",
    "bp_diastolic",
    "spo2",
    "weight_kg",
    "height_cm",
    "notes",
    "lead_id",
)
ANSWERS = {"yes": True, "no": False, "unknown": None}


def route_of(form: Mapping[str, Any]) -> str:
    route = str(form.get("route") or screening.DEFAULT_ROUTE)
    return route if route in screening.ROUTES else screening.DEFAULT_ROUTE


def trial_rows(form: Mapping[str, Any]) -> int:
    used = [i for i in range(50) if any(form.get(f"trial-{i}-{f}") for f in TRIAL_FIELDS)]
    return max(TRIAL_ROWS, (max(used) + 2) if used else 0)


def _lines(value: Any) -> list[str]:
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def parse_intake(form: Mapping[str, Any]) -> tuple[IntakeIn | None, dict[str, str]]:
    route = route_of(form)
    errors: dict[str, str] = {}
    values: dict[str, Any] = form_values(form, set(SCALARS))
    findings: dict[str, Any] = {}
    for rule in applicable_rules(route):
        name = f"finding.{rule.id}"
        raw = str(form.get(name) or "").strip().lower()
        if rule.answer_type == "number":
            if raw in ("", "unknown"):
                findings[rule.id] = None
            else:
                try:
                    findings[rule.id] = float(raw)
                except ValueError:
                    errors[name] = f"give a number of {rule.unit or 'units'}, or leave it blank"
        elif raw in ANSWERS:
            findings[rule.id] = ANSWERS[raw]
        else:
            errors[name] = "answer yes, no or unknown"
    values["findings"] = findings
    values["medications"] = _lines(form.get("medications"))
    values["allergies"] = _lines(form.get("allergies"))
    trials: list[dict[str, Any]] = []
    rows: list[int] = []
    for i in range(trial_rows(form)):
        row = form_values({f: form.get(f"trial-{i}-{f}") for f in TRIAL_FIELDS}, set(TRIAL_FIELDS))
        if not row:
            continue
        if "adequate" in row:
            row["adequate"] = {"yes": True, "no": False}.get(str(row["adequate"]), row["adequate"])
        trials.append(row)
        rows.append(i)
    values["trials"] = trials
    try:
        data = IntakeIn.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            message = err["msg"].removeprefix("Value error, ")
            if loc and loc[0] == "trials" and len(loc) >= 3 and isinstance(loc[1], int):
                name = f"trial-{rows[loc[1]]}-{loc[2]}"
            elif loc and loc[0] == "findings" and len(loc) >= 2:
                name = f"finding.{loc[1]}"
            else:
                name = str(loc[0]) if loc else "form"
            errors.setdefault(name, message)
        return None, errors
    return (None, errors) if errors else (data, {})


def form_of(intake: Intake) -> dict[str, Any]:
    """The form values that reproduce an intake version (for a correction)."""
    form: dict[str, Any] = {
        "taken_on": intake.taken_on.isoformat(),
        "route": intake.route,
        "protocol_id": intake.protocol_id or "",
        "episodes": intake.history.get("episodes"),
        "weight_kg": intake.weight_kg,
        "height_cm": intake.height_cm,
        "notes": intake.notes or "",
        "medications": "\n".join(intake.medications),
        "allergies": "\n".join(intake.allergies),
        "lead_id": intake.lead_id,
    }
    form.update(intake.vitals)
    for key, answer in intake.findings.items():
        form[f"finding.{key}"] = answer_text(answer)
    for i, trial in enumerate(intake.history.get("trials", [])):
        for f in TRIAL_FIELDS:
            value = trial.get(f)
            form[f"trial-{i}-{f}"] = ("yes" if value else "no") if f == "adequate" else value
    return form


def answer_text(answer: Any) -> str:
    if answer is True:
        return "yes"
    if answer is False:
        return "no"
    if answer is None:
        return "unknown"
    return str(int(answer)) if float(answer).is_integer() else str(answer)


def prefill_from_lead(answers: Mapping[str, Any], route: str) -> dict[str, Any]:
    """Form values from a self-screen lead's answers, for the rules asked on ``route``."""
    asked = {r.id for r in applicable_rules(route)}
    return {f"finding.{k}": answer_text(v) for k, v in answers.items() if k in asked}
