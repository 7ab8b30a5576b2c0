"""Dose weight: actual, Devine ideal, adjusted body weight, chosen by the protocol's rule."""

from __future__ import annotations

from decimal import Decimal

from ketaclinic.clinical.dosing.arithmetic import BMI, INCH, KG, dec, num, result
from ketaclinic.clinical.dosing.table import DEVINE_EVIDENCE, Protocol

SEXES = ("male", "female")
CM_PER_INCH = Decimal("2.54")
DEVINE_BASE_KG = {"male": Decimal("50"), "female": Decimal("45.5")}
DEVINE_KG_PER_INCH = Decimal("2.3")
DEVINE_BASE_INCHES = Decimal("60")


def ideal_body_weight(height_cm: float, sex: str) -> tuple[float, list[str]]:
    """Devine ideal body weight in kg, with the steps (height rounded to 0.01 in)."""
    if sex not in SEXES:
        raise ValueError(f"Devine ideal body weight needs sex 'male' or 'female', got {sex!r}")
    inches, inches_text = result(dec(height_cm) / CM_PER_INCH, INCH, "in")
    base = DEVINE_BASE_KG[sex]
    ibw, ibw_text = result(base + DEVINE_KG_PER_INCH * (inches - DEVINE_BASE_INCHES), KG, "kg")
    steps = [
        f"Height = {num(height_cm)} cm ÷ 2.54 cm/in = {inches_text}",
        f"Ideal body weight (Devine, {sex}) = {base} kg + 2.3 kg × ({inches} in − 60 in)"
        f" = {ibw_text} (Devine BJ, Drug Intell Clin Pharm 1974 [{DEVINE_EVIDENCE}])",
    ]
    return float(ibw), steps


def choose_dose_weight(
    p: Protocol,
    weight: Decimal,
    height_cm: float | None,
    sex: str | None,
    steps: list[str],
) -> tuple[Decimal, str, Decimal | None, Decimal | None, Decimal | None]:
    """Return dose weight, basis, IBW, adjusted weight and BMI (the last three or None)."""
    rule = p.dose_weight_rule
    if rule == "actual":
        steps.append(
            f"Dose weight = actual body weight (protocol weight rule 'actual') = {weight} kg"
        )
        return weight, "actual", None, None, None
    if height_cm is None or sex is None:
        raise ValueError(
            f"protocol {p.id!r} doses on weight rule {rule!r}: height_cm and sex are needed "
            "for the ideal body weight"
        )
    ibw_float, ibw_steps = ideal_body_weight(height_cm, sex)
    steps.extend(ibw_steps)
    ibw = dec(ibw_float)
    height_m = dec(height_cm) / Decimal(100)
    bmi, bmi_text = result(weight / (height_m * height_m), BMI, "kg/m²")
    steps.append(f"BMI = {weight} kg ÷ ({num(height_m)} m)² = {bmi_text}")
    adjusted: Decimal | None = None
    if rule in ("adjusted", "adjusted_if_obese"):
        assert p.adjusted_weight_factor is not None  # checked in _check_protocol
        factor = dec(p.adjusted_weight_factor)
        adjusted, adj_text = result(ibw + factor * (weight - ibw), KG, "kg")
        steps.append(
            f"Adjusted body weight = {ibw} kg + {num(factor)} × ({weight} kg − {ibw} kg)"
            f" = {adj_text}"
        )
    if rule == "ideal":
        if weight < ibw:
            steps.append(
                f"Dose weight = actual weight {weight} kg, as it is below the ideal body weight "
                f"{ibw} kg (the lesser of the two; protocol weight rule 'ideal')"
            )
            return weight, "actual", ibw, adjusted, bmi
        steps.append(f"Dose weight = ideal body weight (protocol weight rule 'ideal') = {ibw} kg")
        return ibw, "ideal", ibw, adjusted, bmi
    assert adjusted is not None
    if rule == "adjusted_if_obese":
        assert p.obesity_bmi_threshold is not None and p.obesity_ibw_ratio is not None
        ratio = dec(p.obesity_ibw_ratio)
        limit, limit_text = result(ratio * ibw, KG, "kg")
        threshold = dec(p.obesity_bmi_threshold)
        obese = bmi >= threshold or weight > limit
        steps.append(
            f"Obesity check: BMI {bmi} {'≥' if bmi >= threshold else '<'} {num(threshold)}; "
            f"actual {weight} kg {'>' if weight > limit else '≤'} {num(ratio)} × {ibw} kg "
            f"= {limit_text} → {'obese: use adjusted weight' if obese else 'use actual weight'}"
        )
        if not obese:
            steps.append(f"Dose weight = actual body weight = {weight} kg")
            return weight, "actual", ibw, adjusted, bmi
    if weight <= ibw:
        steps.append(
            f"Dose weight = actual weight {weight} kg, as it is not above the ideal body "
            f"weight {ibw} kg"
        )
        return weight, "actual", ibw, adjusted, bmi
    steps.append(f"Dose weight = adjusted body weight = {adjusted} kg")
    return adjusted, "adjusted", ibw, adjusted, bmi
