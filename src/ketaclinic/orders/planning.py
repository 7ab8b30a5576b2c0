"""From a prescriber's choices and the patient's record to a dose plan (pure of the
database): protocol lookup, series length, overrides and field-level errors."""

from __future__ import annotations

from datetime import date

from ketaclinic.clinical import dosing
from ketaclinic.clinical.overrides import Override
from ketaclinic.orders.schemas import OrderIn
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Invalid


def protocol(protocol_id: str) -> dosing.Protocol:
    table = {p.id: p for p in dosing.protocols()}
    if protocol_id not in table:
        raise Invalid(
            f"unknown protocol {protocol_id!r}", fields={"protocol_id": "unknown protocol"}
        )
    return table[protocol_id]


def series_length(p: dosing.Protocol) -> int | None:
    """The induction series of the protocol: its ``series_sessions``, or for a labelled
    schedule whose first phase is twice a week, two per week of that phase (esketamine:
    weeks 1-4 twice a week = 8, SPRAVATO prescribing information section 2, confirmed)."""
    if p.series_sessions:
        return p.series_sessions
    if p.schedule:
        first = p.schedule[0]
        if first.frequency == "twice a week" and first.last_week is not None:
            return 2 * (first.last_week - first.first_week + 1)
    return None


def overrides_of(actor: Actor, protocol_id: str, data: OrderIn) -> list[Override]:
    found = []
    for i, o in enumerate(data.overrides):
        if o.target != protocol_id:
            raise Invalid(
                f"an override on this order can only change protocol {protocol_id}",
                fields={f"overrides.{i}.target": f"must be {protocol_id}"},
            )
        found.append(Override(o.target, o.field, o.value, by=actor.username, reason=o.reason))
    return found


def age_on(date_of_birth: date, day: date) -> int:
    """Age in completed years on ``day`` (the birthday itself counts as the new year)."""
    before_birthday = (day.month, day.day) < (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - int(before_birthday)


def check_fields(
    protocol_id: str,
    overrides: list[Override],
    *,
    concentration_mg_per_ml: float | None,
    bag_volume_ml: float | None,
    total_volume_ml: float | None,
    rate_ml_per_h: float | None,
    duration_min: float | None,
    dose_mg: float | None,
) -> None:
    """The clinical core's plausibility check of an order's fields (on saving and again on
    signing), its refusal turned into the area's ``Invalid`` naming the field."""
    try:
        dosing.check_order(
            protocol_id,
            concentration_mg_per_ml=concentration_mg_per_ml,
            bag_volume_ml=bag_volume_ml,
            total_volume_ml=total_volume_ml,
            rate_ml_per_h=rate_ml_per_h,
            duration_min=duration_min,
            dose_mg=dose_mg,
            overrides=overrides,
        )
    except dosing.OrderFieldError as exc:
        raise Invalid(str(exc), fields={exc.field: str(exc)}) from exc


def _field_of(message: str, p: dosing.Protocol) -> str:
    dose_field = "dose_mg_per_kg" if p.dose_unit == "mg/kg" else "dose_mg"
    lowered = message.lower()
    if "concentration" in lowered:
        return "concentration_mg_per_ml"
    if "bag" in lowered:
        return "bag_volume_ml"
    if lowered.startswith(("weight", "height")):
        return "form"
    if "override" in lowered and "unknown" in lowered:
        return "overrides"
    return dose_field


def compute(
    p: dosing.Protocol,
    data: OrderIn,
    overrides: list[Override],
    *,
    weight_kg: float | None,
    height_cm: float | None,
    sex: str,
    age_years: float | None = None,
) -> dosing.DosePlan:
    if weight_kg is None:
        raise Invalid(
            "no current weight on the patient's record: record a weight in the chart first",
            fields={"form": "weight missing"},
        )
    if p.infusion and data.concentration_mg_per_ml is None:
        raise Invalid(
            "give the drug concentration so that the volumes and pump rate are computed",
            fields={"concentration_mg_per_ml": "required for an infusion"},
        )
    if not p.infusion and data.bag_volume_ml is not None:
        raise Invalid(
            f"protocol {p.id} is not an infusion: a bag volume does not apply",
            fields={"bag_volume_ml": "not an infusion"},
        )
    try:
        plan = dosing.plan(
            p.id,
            weight_kg=weight_kg,
            height_cm=height_cm,
            sex=sex if sex in ("male", "female") else None,
            concentration_mg_per_ml=data.concentration_mg_per_ml,
            bag_volume_ml=data.bag_volume_ml,
            dose_mg_per_kg=data.dose_mg_per_kg,
            dose_mg=data.dose_mg,
            age_years=age_years,
            overrides=overrides,
        )
    except dosing.OrderFieldError as exc:
        raise Invalid(str(exc), fields={exc.field: str(exc)}) from exc
    except ValueError as exc:
        message = str(exc)
        raise Invalid(message, fields={_field_of(message, p): message}) from exc
    except ArithmeticError as exc:
        # An input so far out of range that the exact arithmetic cannot carry the result
        # (1e-51 mg/mL makes a drug volume of 1e52 mL). The concentration is the one
        # divisor among the inputs; the plausible ranges themselves are the clinical
        # core's to declare.
        field = "concentration_mg_per_ml" if data.concentration_mg_per_ml else "form"
        raise Invalid(
            "these values cannot be computed into a plan: check the concentration and volumes",
            fields={field: "outside any usable range"},
        ) from exc
    check_fields(
        p.id,
        overrides,
        concentration_mg_per_ml=plan.concentration_mg_per_ml,
        bag_volume_ml=plan.bag_volume_ml,
        total_volume_ml=plan.total_volume_ml,
        rate_ml_per_h=plan.rate_ml_per_h,
        duration_min=plan.duration_min,
        dose_mg=plan.dose_mg,
    )
    return plan
