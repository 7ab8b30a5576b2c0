"""From a prescriber's choices and the patient's record to a dose plan (pure of the
database): protocol lookup, series length, overrides and field-level errors."""

from __future__ import annotations

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
        return dosing.plan(
            p.id,
            weight_kg=weight_kg,
            height_cm=height_cm,
            sex=sex if sex in ("male", "female") else None,
            concentration_mg_per_ml=data.concentration_mg_per_ml,
            bag_volume_ml=data.bag_volume_ml,
            dose_mg_per_kg=data.dose_mg_per_kg,
            dose_mg=data.dose_mg,
            overrides=overrides,
        )
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
