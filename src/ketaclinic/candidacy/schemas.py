from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ketaclinic.clinical import screening
from ketaclinic.platform.ids import RecordId

Route = Literal["intravenous", "intramuscular", "oral", "sublingual", "intranasal"]
Verdict = Literal["eligible", "eligible_with_precautions", "not_eligible", "needs_information"]
assert set(Route.__args__) == set(screening.ROUTES)  # type: ignore[attr-defined]
assert set(Verdict.__args__) == set(screening.VERDICTS)  # type: ignore[attr-defined]
Answer = bool | float | None


class TrialIn(BaseModel):
    """One antidepressant tried in this episode."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    drug: str = Field(min_length=1, max_length=100)
    dose: str | None = Field(default=None, max_length=60, description="e.g. '150 mg daily'")
    duration_weeks: float = Field(ge=0, le=520)
    adequate: bool = Field(description="therapeutic dose for long enough (about 4-6 weeks)")


class IntakeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    taken_on: date
    route: Route = "intravenous"
    protocol_id: str | None = Field(default=None, max_length=60)
    episodes: int | None = Field(default=None, ge=0, le=100, description="depressive episodes")
    trials: list[TrialIn] = Field(default_factory=list, max_length=30)
    findings: dict[str, Answer] = Field(
        default_factory=dict,
        description="answer for every rule of screening.rules() that applies to the route: "
        "true/false, a number for number rules, null for unknown",
    )
    medications: list[str] = Field(default_factory=list, max_length=50)
    allergies: list[str] = Field(default_factory=list, max_length=30)
    # Plausibility bounds against typing errors, not clinical limits.
    heart_rate: int | None = Field(default=None, ge=20, le=250)
    bp_systolic: int | None = Field(default=None, ge=50, le=300)
    bp_diastolic: int | None = Field(default=None, ge=20, le=200)
    spo2: int | None = Field(default=None, ge=50, le=100)
    weight_kg: float | None = Field(default=None, gt=20, lt=400)
    height_cm: float | None = Field(default=None, gt=100, lt=250)
    notes: str | None = Field(default=None, max_length=4000)
    lead_id: RecordId | None = None

    @field_validator("taken_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("an intake cannot be dated in the future")
        return value

    @field_validator("medications", "allergies")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value if v.strip()]
        for name in cleaned:
            if len(name) > 120:
                raise ValueError("each entry is at most 120 characters")
        return cleaned


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    intake: IntakeIn
    reason: str = Field(min_length=3, max_length=1000, description="why the intake changes")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    intake_id: RecordId = Field(description="the intake version the prescriber evaluated")
    decision: Literal["confirm", "override"]
    final_verdict: Verdict | None = Field(default=None, description="required to override")
    reason: str | None = Field(default=None, max_length=4000)


class IntakeOut(BaseModel):
    id: int
    patient_id: int
    version: int
    supersedes_id: int | None
    correction_reason: str | None
    taken_on: date
    route: str
    protocol_id: str | None
    history: dict[str, Any]
    findings: dict[str, Any]
    medications: list[str]
    allergies: list[str]
    vitals: dict[str, Any]
    weight_kg: float | None
    height_cm: float | None
    notes: str | None
    lead_id: int | None
    recorded_by: str
    recorded_at: datetime


class EvaluationOut(BaseModel):
    intake_id: int
    route: str
    verdict: str
    reasons: list[dict[str, Any]]
    workup: list[str]
    unknown: list[str]
    medication_findings: list[dict[str, Any]]
    unknown_medications: list[str]
    rule_ids: list[str]


class DecisionOut(BaseModel):
    id: int
    patient_id: int
    intake_id: int
    route: str
    computed_verdict: str
    final_verdict: str
    decision: str
    reason: str | None
    evaluation: dict[str, Any]
    findings: dict[str, Any]
    rule_ids: list[str]
    decided_by: str
    decided_at: datetime
