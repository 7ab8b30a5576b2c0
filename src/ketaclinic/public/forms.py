"""Reading the self-screen's web form into validated answers and contact details."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from ketaclinic.clinical import screening
from ketaclinic.public.questions import MAX_TRIALS, QUESTIONS, ROUTES
from ketaclinic.public.schemas import Answer, ContactIn, ScreenIn

CONTACT_FIELDS = ("name", "email", "phone", "preferred_contact", "message", "consent")
YES_NO = {"yes": True, "no": False, "unsure": None, "": None}


def field_name(rule_id: str) -> str:
    return f"q_{rule_id}"


def answers_from_form(
    form: FormData, *, extra_fields: Iterable[str] = ()
) -> tuple[ScreenIn | None, dict[str, str]]:
    """Answers keyed by rule id; a question left blank counts as "not sure"."""
    types = {rule.id: rule.answer_type for rule in screening.rules()}
    asked = [q for q in QUESTIONS if q.rule_id in types]
    allowed = {"csrf_token", "route", *extra_fields, *(field_name(q.rule_id) for q in asked)}
    errors: dict[str, str] = {}
    unexpected = sorted({key for key in form if key not in allowed})
    if unexpected:
        errors["form"] = "the form has fields it should not have: " + ", ".join(unexpected[:5])
    repeated = sorted({key for key in form if len(form.getlist(key)) > 1})
    if repeated:
        errors["form"] = "each question takes one answer: " + ", ".join(repeated[:5])
    route = str(form.get("route") or "intravenous")
    if route not in ROUTES:
        errors["route"] = "choose one of the treatments listed"
    answers: dict[str, Answer] = {}
    for question in asked:
        name = field_name(question.rule_id)
        raw = form.get(name)
        value = raw.strip() if isinstance(raw, str) else ""
        if types[question.rule_id] == "bool":
            if value not in YES_NO:
                errors[name] = "answer yes, no or not sure"
                continue
            answers[question.rule_id] = YES_NO[value]
        elif value in ("", "unsure"):
            answers[question.rule_id] = None
        elif not value.isdigit() or int(value) > MAX_TRIALS:
            errors[name] = f"a whole number from 0 to {MAX_TRIALS}, or leave it empty"
        else:
            answers[question.rule_id] = int(value)
    if errors:
        return None, errors
    return ScreenIn(route=route, answers=answers), {}  # type: ignore[arg-type]


def answers_to_form(answers: dict[str, Answer]) -> list[tuple[str, str]]:
    """The answers as the hidden fields that carry them to the "send to the clinic" form."""
    values = []
    for rule_id, answer in answers.items():
        if answer is None:
            text = "unsure"
        elif isinstance(answer, bool):
            text = "yes" if answer else "no"
        else:
            text = str(answer)
        values.append((field_name(rule_id), text))
    return values


def contact_from_form(form: FormData) -> tuple[ContactIn | None, dict[str, str]]:
    values: dict[str, Any] = {}
    for name in CONTACT_FIELDS:
        raw = form.get(name)
        if isinstance(raw, str) and raw.strip():
            values[name] = raw.strip()
    values["consent"] = values.get("consent") == "yes"
    try:
        return ContactIn.model_validate(values), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "contact"
            errors.setdefault(name, err["msg"].removeprefix("Value error, "))
        return None, errors
