"""Dose plans: dose weight, dose, volumes and pump rate, with every step written out.

Rounding rule (stated in every plan and applied once): each value is rounded half up, once,
where it is first computed, and the rounded value is what later steps use, so that a nurse
can check every line by hand from the line before it. Height in inches to 0.01 in, weights
to 0.1 kg, BMI to 0.1 kg/m2, dose to 0.1 mg, volumes to 0.01 mL, pump rate to 0.1 mL/h.

Infusion volume rule (a protocol field, ``rate_includes_drug_volume``, default true): the
drug is added to the bag and the pump runs the bag total (bag + drug volume) over the
infusion time. Set it false where the clinic withdraws the drug volume from the bag first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ketaclinic.clinical.dosing.arithmetic import (
    KG,
    MG,
    ML,
    RATE,
    ROUNDING_RULE,
    check_finite,
    dec,
    num,
    result,
    round_once,
)
from ketaclinic.clinical.dosing.orders import (
    OrderFieldError,
    check_fields,
    check_value,
    order_ranges,
)
from ketaclinic.clinical.dosing.table import (
    DOSE_UNITS,
    EVIDENCE,
    INPUT_LIMITS,
    ORDER_RANGES,
    PROTOCOLS,
    ROUTES,
    WEIGHT_RULES,
    InputLimits,
    Protocol,
)
from ketaclinic.clinical.dosing.weight import SEXES, choose_dose_weight
from ketaclinic.clinical.overrides import Override, apply


@dataclass(frozen=True)
class DosePlan:
    """A computed dose with the arithmetic behind it (``steps``)."""

    protocol_id: str
    drug: str
    route: str
    dose_mg: float
    dose_mg_per_kg: float | None
    dose_weight_kg: float | None
    dose_weight_basis: str | None
    ideal_body_weight_kg: float | None
    adjusted_body_weight_kg: float | None
    bmi: float | None
    max_dose_mg: float
    concentration_mg_per_ml: float | None
    drug_volume_ml: float | None
    bag_volume_ml: float | None
    total_volume_ml: float | None
    rate_ml_per_h: float | None
    duration_min: float | None
    devices: int | None
    steps: tuple[str, ...]
    source: str
    evidence: str
    overrides_applied: tuple[Override, ...]


# ------------------------------------------------------------------ tables and checks


def _split(overrides: Iterable[Override]) -> tuple[list[Override], list[Override]]:
    """Overrides of the protocols, and those of the input limits and order ranges."""
    limit_ids = {row.id for row in INPUT_LIMITS} | {row.id for row in ORDER_RANGES}
    limits = [o for o in overrides if o.target in limit_ids]
    others = [o for o in overrides if o.target not in limit_ids]
    return others, limits


def _check_protocol(p: Protocol) -> None:
    def bad(message: str) -> ValueError:
        return ValueError(f"protocol {p.id!r}: {message}")

    if p.dose_unit not in DOSE_UNITS:
        raise bad(f"dose_unit {p.dose_unit!r} is not one of {DOSE_UNITS}")
    if p.route not in ROUTES:
        raise bad(f"route {p.route!r} is not one of {ROUTES}")
    if p.dose_weight_rule not in WEIGHT_RULES:
        raise bad(f"dose_weight_rule {p.dose_weight_rule!r} is not one of {WEIGHT_RULES}")
    if (p.dose_unit == "mg/kg") == (p.dose_weight_rule == "none"):
        raise bad("a mg/kg protocol needs a weight rule and a fixed-dose protocol none")
    if p.evidence not in EVIDENCE or any(c.evidence not in EVIDENCE for c in p.citations):
        raise bad(f"evidence must be one of {EVIDENCE}")
    if not 0 < p.dose_min <= p.default_dose <= p.dose_max:
        raise bad("needs 0 < dose_min <= default_dose <= dose_max")
    if p.allowed_doses and p.default_dose not in p.allowed_doses:
        raise bad("default_dose is not one of allowed_doses")
    if p.max_dose_mg <= 0:
        raise bad("max_dose_mg must be > 0")
    if p.infusion and (p.duration_min is None or p.duration_min <= 0):
        raise bad("an infusion needs duration_min > 0")
    if p.mg_per_device is not None and p.mg_per_device <= 0:
        raise bad("mg_per_device must be > 0")
    if p.dose_weight_rule in ("adjusted", "adjusted_if_obese") and not p.adjusted_weight_factor:
        raise bad("an adjusted weight rule needs adjusted_weight_factor")
    if p.older_adult_allowed_doses and (
        p.older_adult_default_dose not in p.older_adult_allowed_doses or p.older_adult_age is None
    ):
        raise bad("older-adult doses need an age and a default among the allowed doses")
    if p.dose_weight_rule == "adjusted_if_obese" and (
        p.obesity_bmi_threshold is None or p.obesity_ibw_ratio is None
    ):
        raise bad("'adjusted_if_obese' needs obesity_bmi_threshold and obesity_ibw_ratio")


def protocols(overrides: Iterable[Override] = ()) -> list[Protocol]:
    """The dosing protocols in table order, with the clinic's overrides applied.

    Overrides aimed at the input limits row (``input_limits``) are left for
    :func:`input_limits`, so one list of clinic overrides serves both.
    """
    others, _ = _split(overrides)
    table = apply({p.id: p for p in PROTOCOLS}, others)
    rows = list(table.values())
    for row in rows:
        _check_protocol(row)
    return rows


def input_limits(overrides: Iterable[Override] = ()) -> InputLimits:
    """The plausibility limits on plan inputs, with overrides aimed at them applied."""
    _, limits = _split(overrides)
    own = [o for o in limits if o.target in {row.id for row in INPUT_LIMITS}]
    return apply({row.id: row for row in INPUT_LIMITS}, own)["input_limits"]


def _protocol(protocol_id: str, overrides: Iterable[Override]) -> Protocol:
    table = {p.id: p for p in protocols(overrides)}
    if protocol_id not in table:
        raise ValueError(f"unknown protocol {protocol_id!r}; known protocols: {', '.join(table)}")
    return table[protocol_id]


def device_mg(protocol: Protocol | str, overrides: Iterable[Override] = ()) -> float:
    """Milligrams per nasal device of a device-dosed protocol (28 mg for esketamine).

    The protocol row is the one home of this number: sessions, prediction and pages ask
    here rather than writing it down again.
    """
    p = _protocol(protocol, overrides) if isinstance(protocol, str) else protocol
    if p.mg_per_device is None:
        raise ValueError(f"protocol {p.id!r} is not dosed in devices")
    return p.mg_per_device


def device_interval_min(protocol: Protocol | str, overrides: Iterable[Override] = ()) -> float:
    """Minutes' rest between nasal devices of a device-dosed protocol (5 for esketamine)."""
    p = _protocol(protocol, overrides) if isinstance(protocol, str) else protocol
    if p.device_interval_min is None:
        raise ValueError(f"protocol {p.id!r} declares no interval between devices")
    return p.device_interval_min


def check_order(
    protocol_id: str,
    *,
    concentration_mg_per_ml: float | None = None,
    bag_volume_ml: float | None = None,
    total_volume_ml: float | None = None,
    rate_ml_per_h: float | None = None,
    duration_min: float | None = None,
    dose_mg: float | None = None,
    overrides: Iterable[Override] = (),
) -> None:
    """Refuse an order whose fields cannot be right; call it when saving and when signing.

    Every field is checked against its plausible range in ``ORDER_RANGES`` (concentration
    per drug, bag volume, total volume, pump rate, infusion duration), fields that do not
    apply to the protocol are refused, and ``dose_mg`` must not exceed the protocol's cap.
    Raises ``OrderFieldError`` (a ``ValueError``) whose ``field`` names the field in error.
    ``overrides`` may name protocol rows and ``ORDER_RANGES`` rows.
    """
    overrides = tuple(overrides)
    others, limits = _split(overrides)
    check_fields(
        _protocol(protocol_id, others),
        concentration_mg_per_ml=concentration_mg_per_ml,
        bag_volume_ml=bag_volume_ml,
        total_volume_ml=total_volume_ml,
        rate_ml_per_h=rate_ml_per_h,
        duration_min=duration_min,
        dose_mg=dose_mg,
        overrides=limits,
    )


# ------------------------------------------------------------------ the plan


def plan(
    protocol_id: str,
    *,
    weight_kg: float,
    height_cm: float | None = None,
    sex: str | None = None,
    concentration_mg_per_ml: float | None = None,
    bag_volume_ml: float | None = None,
    dose_mg_per_kg: float | None = None,
    dose_mg: float | None = None,
    age_years: float | None = None,
    overrides: Iterable[Override] = (),
) -> DosePlan:
    """Compute a dose plan for one session of ``protocol_id``.

    Weight-based protocols take ``dose_mg_per_kg`` (default: the protocol's standard dose);
    fixed-dose protocols take ``dose_mg``. ``age_years`` selects the older-adult doses of
    a protocol that has them (esketamine: 28 mg start at 65 and over); without it the
    plan says it did not consider them. Implausible or inconsistent input is a
    ``ValueError`` that says what is wrong (an ``OrderFieldError`` naming the field for
    the order fields: concentration, bag, total volume, pump rate, duration); nothing is
    silently corrected.
    """
    overrides = tuple(overrides)
    p = _protocol(protocol_id, overrides)
    limits = input_limits(overrides)
    ranges = order_ranges(_split(overrides)[1])
    for name, value in (
        ("weight_kg", weight_kg),
        ("height_cm", height_cm),
        ("concentration_mg_per_ml", concentration_mg_per_ml),
        ("bag_volume_ml", bag_volume_ml),
        ("dose_mg_per_kg", dose_mg_per_kg),
        ("dose_mg", dose_mg),
        ("age_years", age_years),
    ):
        check_finite(name, value)
    if age_years is not None and not 0 <= age_years <= 130:
        raise ValueError(f"age {age_years} years is implausible")
    if not limits.weight_min_kg <= weight_kg <= limits.weight_max_kg:
        raise ValueError(
            f"weight {weight_kg} kg is implausible: expected {limits.weight_min_kg}-"
            f"{limits.weight_max_kg} kg"
        )
    if height_cm is not None and not limits.height_min_cm <= height_cm <= limits.height_max_cm:
        raise ValueError(
            f"height {height_cm} cm is implausible: expected {limits.height_min_cm}-"
            f"{limits.height_max_cm} cm"
        )
    if sex is not None and sex not in SEXES:
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    if concentration_mg_per_ml is not None and concentration_mg_per_ml <= 0:
        raise ValueError(f"concentration must be > 0 mg/mL, got {concentration_mg_per_ml}")
    if bag_volume_ml is not None and bag_volume_ml <= 0:
        raise ValueError(f"bag volume must be > 0 mL, got {bag_volume_ml}")
    if bag_volume_ml is not None and not p.infusion:
        raise ValueError(f"protocol {p.id!r} is not an infusion: a bag volume does not apply")
    if p.mg_per_device is not None and concentration_mg_per_ml is not None:
        raise OrderFieldError(
            "concentration_mg_per_ml",
            f"protocol {p.id!r} is dosed in devices of {p.mg_per_device} mg: a concentration "
            "does not apply",
        )
    check_value(p, "concentration_mg_per_ml", concentration_mg_per_ml, ranges)
    check_value(p, "bag_volume_ml", bag_volume_ml, ranges)
    if p.infusion:
        check_value(p, "duration_min", p.duration_min, ranges)

    steps = [
        f"Protocol {p.id}: {p.name} ({p.drug}, {p.route}). Source: {p.source} [{p.evidence}]",
        ROUNDING_RULE,
    ]
    weight, weight_text = result(dec(weight_kg), KG, "kg")
    if weight != dec(weight_kg):
        steps.append(f"Actual body weight = {weight_text}")

    mg_per_kg: Decimal | None = None
    dose_weight: Decimal | None = None
    basis: str | None = None
    ibw: Decimal | None = None
    adjusted: Decimal | None = None
    bmi: Decimal | None = None
    if p.dose_unit == "mg/kg":
        if dose_mg is not None:
            raise ValueError(
                f"protocol {p.id!r} is dosed in mg/kg: give dose_mg_per_kg, not dose_mg"
            )
        mg_per_kg = dec(dose_mg_per_kg if dose_mg_per_kg is not None else p.default_dose)
        if not dec(p.dose_min) <= mg_per_kg <= dec(p.dose_max):
            cite = p.citation("dose_max")
            raise ValueError(
                f"{num(mg_per_kg)} mg/kg is outside the allowed range of {p.id!r}: "
                f"{num(p.dose_min)}-{num(p.dose_max)} mg/kg ({cite.source})"
            )
        dose_weight, basis, ibw, adjusted, bmi = choose_dose_weight(
            p, weight, height_cm, sex, steps
        )
        dose, dose_text = result(mg_per_kg * dose_weight, MG, "mg")
        steps.append(f"Dose = {num(mg_per_kg)} mg/kg × {dose_weight} kg = {dose_text}")
    else:
        if dose_mg_per_kg is not None:
            raise ValueError(f"protocol {p.id!r} is a fixed dose in mg: give dose_mg")
        older = (
            p.older_adult_age is not None
            and age_years is not None
            and age_years >= p.older_adult_age
        )
        default = p.default_dose
        allowed_doses = p.allowed_doses
        dose_min = p.dose_min
        if older:
            assert p.older_adult_default_dose is not None  # checked in _check_protocol
            default = p.older_adult_default_dose
            allowed_doses = p.older_adult_allowed_doses
            dose_min = min(allowed_doses)
            cite = p.citation("older_adult_default_dose")
            steps.append(
                f"Age {num(dec(age_years or 0))} years ≥ {num(p.older_adult_age or 0)}: "
                f"older-adult doses {' or '.join(num(d) + ' mg' for d in allowed_doses)}, "
                f"start {num(default)} mg ({cite.source} [{cite.evidence}])"
            )
        elif p.older_adult_age is not None and age_years is None:
            steps.append(
                f"Age not given: the start for patients aged {num(p.older_adult_age)} and "
                f"over ({num(p.older_adult_default_dose or 0)} mg) was not considered"
            )
        chosen = dec(dose_mg if dose_mg is not None else default)
        allowed = [dec(d) for d in allowed_doses]
        if allowed and chosen not in allowed:
            raise ValueError(
                f"{num(chosen)} mg is not an allowed dose of {p.id!r}: allowed "
                f"{' or '.join(num(d) + ' mg' for d in allowed)} "
                f"({p.citation('allowed_doses').source})"
            )
        if not dec(dose_min) <= chosen <= dec(p.dose_max):
            raise ValueError(
                f"{num(chosen)} mg is outside the allowed range of {p.id!r}: "
                f"{num(dose_min)}-{num(p.dose_max)} mg ({p.citation('dose_max').source})"
            )
        dose, dose_text = result(chosen, MG, "mg")
        steps.append(f"Dose = fixed {dose_text} (weight not used: protocol {p.id} is a fixed dose)")

    cap = dec(p.max_dose_mg)
    if dose > cap:
        raise ValueError(
            f"dose {dose} mg exceeds the maximum single dose of {p.id!r}, {num(cap)} mg "
            f"({p.citation('max_dose_mg').source}); a prescriber may raise the cap with an "
            "override and a reason"
        )
    steps.append(f"Cap check: {dose} mg ≤ maximum single dose {num(cap)} mg")

    devices: int | None = None
    if p.mg_per_device is not None:
        per_device = dec(p.mg_per_device)
        count = dose / per_device
        if count != count.to_integral_value():
            raise ValueError(
                f"dose {dose} mg is not a whole number of {num(per_device)} mg devices"
            )
        devices = int(count)
        interval = (
            f", {num(p.device_interval_min)} minutes' rest between devices"
            if p.device_interval_min is not None
            else ""
        )
        steps.append(
            f"Devices = {dose} mg ÷ {num(per_device)} mg per device = {devices} devices"
            f" (one spray in each nostril per device{interval})"
        )

    drug_volume: Decimal | None = None
    if concentration_mg_per_ml is not None:
        conc = dec(concentration_mg_per_ml)
        drug_volume, vol_text = result(dose / conc, ML, "mL")
        steps.append(f"Drug volume = {dose} mg ÷ {num(conc)} mg/mL = {vol_text}")

    bag: Decimal | None = None
    total: Decimal | None = drug_volume
    rate: Decimal | None = None
    if p.infusion:
        assert p.duration_min is not None  # checked in _check_protocol
        duration = dec(p.duration_min)
        bag_given = bag_volume_ml if bag_volume_ml is not None else p.default_bag_volume_ml
        if bag_given is None:
            raise ValueError(f"protocol {p.id!r} is an infusion: give bag_volume_ml")
        bag = round_once(dec(bag_given), ML)
        source_words = "given" if bag_volume_ml is not None else "protocol default"
        if p.rate_includes_drug_volume and drug_volume is None:
            total = None
            steps.append(
                f"Bag = {bag} mL ({source_words}); drug volume, total volume and pump rate "
                "not computed: give concentration_mg_per_ml"
            )
        else:
            if p.rate_includes_drug_volume:
                assert drug_volume is not None
                total, total_text = result(bag + drug_volume, ML, "mL")
                steps.append(
                    f"Total volume = bag {bag} mL ({source_words}) + drug {drug_volume} mL = "
                    f"{total_text} (drug added to the bag; the pump runs the bag total)"
                )
            else:
                total = bag
                steps.append(
                    f"Total volume = bag {bag} mL ({source_words}); the drug volume is not "
                    "counted (protocol: drug volume withdrawn from the bag first)"
                )
            check_value(p, "total_volume_ml", float(total), ranges)
            rate, rate_text = result(total / duration * Decimal(60), RATE, "mL/h")
            check_value(p, "rate_ml_per_h", float(rate), ranges)
            steps.append(f"Pump rate = {total} mL ÷ {num(duration)} min × 60 min/h = {rate_text}")

    def out(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    return DosePlan(
        protocol_id=p.id,
        drug=p.drug,
        route=p.route,
        dose_mg=float(dose),
        dose_mg_per_kg=out(mg_per_kg),
        dose_weight_kg=out(dose_weight),
        dose_weight_basis=basis,
        ideal_body_weight_kg=out(ibw),
        adjusted_body_weight_kg=out(adjusted),
        bmi=out(bmi),
        max_dose_mg=float(cap),
        concentration_mg_per_ml=concentration_mg_per_ml,
        drug_volume_ml=out(drug_volume),
        bag_volume_ml=out(bag),
        total_volume_ml=out(total),
        rate_ml_per_h=out(rate),
        duration_min=p.duration_min,
        devices=devices,
        steps=tuple(steps),
        source=p.source,
        evidence=p.evidence,
        overrides_applied=overrides,
    )


__all__ = [
    "DosePlan",
    "OrderFieldError",
    "check_order",
    "device_interval_min",
    "device_mg",
    "input_limits",
    "plan",
    "protocols",
]
