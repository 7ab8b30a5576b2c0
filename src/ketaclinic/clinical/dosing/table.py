"""The default dosing protocols and input limits, one frozen row per id.

Each protocol carries a main ``source`` and ``evidence`` (for its standard dose) and a
``citations`` tuple giving the source and evidence of each other clinical number in the
row (range, cap, duration, series, weight rule...). Evidence marks follow
``/work/shared/clinical-reference.md``: ``confirmed`` (primary text, label or abstract
read), ``secondary`` (review or summary only), ``convention`` (clinic practice, no single
authoritative source). A clinic changes any field with an ``Override``.
"""

from __future__ import annotations

from dataclasses import dataclass

EVIDENCE = ("confirmed", "secondary", "convention")
DOSE_UNITS = ("mg/kg", "mg")
WEIGHT_RULES = ("actual", "ideal", "adjusted", "adjusted_if_obese", "none")
ROUTES = ("intravenous", "intramuscular", "oral", "sublingual", "intranasal")

FAVA_2020 = (
    "Fava M et al., Mol Psychiatry 2020;25:1592-1603 (dose-ranging RCT: 0.1, 0.2, 0.5, "
    "1.0 mg/kg IV over 40 min; 0.5 mg/kg the standard subanaesthetic dose)"
)
SANACORA_2017 = "Sanacora G et al., JAMA Psychiatry 2017;74(4):399-405 (consensus statement)"
ANDRADE_2017 = (
    "Andrade C, Ketamine for depression, 4: in what dose, at what rate, by what route, "
    "J Clin Psychiatry 2017;78(7):e852-e857 (review abstract: 0.5 mg/kg most common, "
    "some need up to 0.75 mg/kg)"
)
CHILUKURI_2014 = (
    "Chilukuri H et al., Acute antidepressant effects of intramuscular versus intravenous "
    "ketamine, Indian J Psychol Med 2014;36(1):71-76 (0.5 mg/kg IM and 0.25 mg/kg IM) "
    "[abstract]"
)
ANDRADE_2019 = (
    "Andrade C, Oral ketamine for depression, 2: practical considerations, J Clin "
    "Psychiatry 2019 (review abstract: weight-based 0.25-7.0 mg/kg, fixed 25-300 mg; about "
    "2.0-2.5 mg/kg orally to match IV)"
)
KHEIRABADI_2023 = (
    "KheirAbadi G, Golkar S, Iran J Psychiatry Behav Sci 2023;17(4):e137879 (RCT: oral "
    "1 vs 2 mg/kg twice weekly for 6 weeks; 1 mg/kg preferred) [abstract]"
)
LARA_2013 = (
    "Lara DR et al., Int J Neuropsychopharmacol 2013;16(9):2111-2117 (very low dose "
    "sublingual ketamine 10 mg from a 100 mg/mL solution, held 5 min, every 2-3 days or "
    "weekly) [abstract]"
)
SPRAVATO_PI = "SPRAVATO (esketamine) nasal spray, US prescribing information (Janssen)"
CAP_CONVENTION = (
    "ketaclinic default: no published single-dose cap for this use was found; set at the "
    "top of the allowed mg/kg range for a 100 kg dose weight. Clinic to review"
)
WEIGHT_RULE_CONVENTION = (
    "trials report mg/kg without stating a weight basis and no ketamine-specific source for "
    "ideal or adjusted weight was found: actual weight by convention; set "
    "'adjusted_if_obese' to dose obese patients on adjusted weight"
)
OBESITY_CONVENTION = (
    "common pharmacy convention for switching to adjusted body weight (BMI >= 30 or actual "
    "weight > 1.2 x ideal); not ketamine-specific"
)
ADJUSTED_FACTOR = (
    "adjusted body weight = IBW + 0.4 x (actual - IBW), the factor used in aminoglycoside "
    "dosing; not ketamine-specific"
)


@dataclass(frozen=True)
class Citation:
    """Where one field's value comes from."""

    field: str
    source: str
    evidence: str


@dataclass(frozen=True)
class SchedulePhase:
    """One phase of a labelled dosing schedule (weeks counted from the first dose)."""

    label: str
    first_week: int
    last_week: int | None
    frequency: str
    doses_mg: tuple[float, ...]
    note: str = ""


@dataclass(frozen=True)
class Protocol:
    """A dosing protocol: route, dose rule, limits, schedule, each with its source.

    ``dose_unit`` is ``"mg/kg"`` (dose = default_dose x dose weight) or ``"mg"`` (fixed).
    ``dose_min``/``dose_max`` bound the dose a prescriber may choose, in ``dose_unit``;
    ``allowed_doses``, when not empty, lists the only fixed doses allowed. ``max_dose_mg``
    is the single-dose cap in mg. For infusions the pump runs the bag over
    ``duration_min``; ``rate_includes_drug_volume`` says whether the drug volume added to
    the bag counts in the volume run. For patients aged ``older_adult_age`` or more the
    default dose is ``older_adult_default_dose`` and ``older_adult_allowed_doses`` replace
    ``allowed_doses`` (the esketamine label starts patients of 65 and over at 28 mg).
    """

    id: str
    name: str
    drug: str
    route: str
    dose_unit: str
    default_dose: float
    dose_min: float
    dose_max: float
    max_dose_mg: float
    source: str
    evidence: str
    allowed_doses: tuple[float, ...] = ()
    titration_steps: tuple[float, ...] = ()
    infusion: bool = False
    duration_min: float | None = None
    default_bag_volume_ml: float | None = None
    rate_includes_drug_volume: bool = True
    dose_weight_rule: str = "actual"
    obesity_bmi_threshold: float | None = None
    obesity_ibw_ratio: float | None = None
    adjusted_weight_factor: float | None = None
    mg_per_device: float | None = None
    device_interval_min: float | None = None
    typical_series: str = ""
    series_sessions: int | None = None
    min_spacing_hours: float | None = None
    observation_min: float | None = None
    schedule: tuple[SchedulePhase, ...] = ()
    citations: tuple[Citation, ...] = ()
    older_adult_age: float | None = None
    older_adult_default_dose: float | None = None
    older_adult_allowed_doses: tuple[float, ...] = ()

    def citation(self, field: str) -> Citation:
        """The citation for ``field`` (the main source for the standard dose fields)."""
        for cite in self.citations:
            if cite.field == field:
                return cite
        if field in ("default_dose", "dose_unit", "route", "drug"):
            return Citation(field, self.source, self.evidence)
        raise KeyError(f"protocol {self.id!r} has no citation for {field!r}")


@dataclass(frozen=True)
class InputLimits:
    """Plausibility limits on the inputs of a dose plan (not clinical dose limits)."""

    id: str
    weight_min_kg: float
    weight_max_kg: float
    height_min_cm: float
    height_max_cm: float
    source: str
    evidence: str


INPUT_LIMITS: tuple[InputLimits, ...] = (
    InputLimits(
        id="input_limits",
        weight_min_kg=30.0,
        weight_max_kg=350.0,
        height_min_cm=120.0,
        height_max_cm=230.0,
        source="ketaclinic plausibility check against typing errors, not a clinical limit",
        evidence="convention",
    ),
)


@dataclass(frozen=True)
class OrderRange:
    """The plausible range of one order field (for one drug, where ``drug`` is given).

    Outside it an order is refused with an ``OrderFieldError`` naming ``field``: the
    range guards against typing and unit errors, it is not a dose limit.
    """

    id: str
    field: str
    drug: str | None
    minimum: float
    maximum: float
    unit: str
    source: str
    evidence: str


KETALAR_STRENGTHS = (
    "Ketalar (ketamine hydrochloride injection) US label: vials of 10, 50 and 100 mg/mL; "
    "diluted for infusion to about 1 mg/mL (2 mg/mL where fluid is restricted)"
)

ORDER_RANGES: tuple[OrderRange, ...] = (
    OrderRange(
        id="concentration_racemic_ketamine",
        field="concentration_mg_per_ml",
        drug="racemic ketamine",
        minimum=1.0,
        maximum=100.0,
        unit="mg/mL",
        source=KETALAR_STRENGTHS + ": the strength drawn from lies between the 1 mg/mL "
        "dilution and the 100 mg/mL vial",
        evidence="secondary",
    ),
    OrderRange(
        id="bag_volume",
        field="bag_volume_ml",
        drug=None,
        minimum=20.0,
        maximum=1000.0,
        unit="mL",
        source="ketaclinic plausibility range: infusion syringes of 20-60 mL and bags of "
        "50-1000 mL; the protocol default is 100 mL. Clinic to review",
        evidence="convention",
    ),
    OrderRange(
        id="pump_rate",
        field="rate_ml_per_h",
        drug=None,
        minimum=0.1,
        maximum=999.0,
        unit="mL/h",
        source="the programmable range of common clinical volumetric and syringe infusion "
        "pumps (0.1-999 mL/h); check the clinic's pump manual and override",
        evidence="convention",
    ),
    OrderRange(
        id="infusion_duration",
        field="duration_min",
        drug=None,
        minimum=10.0,
        maximum=240.0,
        unit="min",
        source="ketaclinic plausibility range around the 40-minute standard infusion ("
        + FAVA_2020
        + "); longer infusions are reported (Andrade 2017 review), none found beyond 4 hours. "
        "Clinic to review",
        evidence="convention",
    ),
    OrderRange(
        id="total_volume",
        field="total_volume_ml",
        drug=None,
        minimum=20.0,
        maximum=1100.0,
        unit="mL",
        source="follows from the bag range (20-1000 mL) and at most 100 mL of drug added: "
        "convention",
        evidence="convention",
    ),
)

DEVINE = (
    "Devine BJ, Gentamicin therapy, Drug Intell Clin Pharm 1974;8:650-655: ideal body "
    "weight 50 kg (men) or 45.5 kg (women) + 2.3 kg per inch over 5 feet"
)
DEVINE_EVIDENCE = "secondary"

_IV_SERIES = "6 infusions over 2-3 weeks (2 or 3 a week)"
_SPACING_IV = (
    "clinic convention: 2 or 3 infusions a week (clinical-reference section 1, a "
    "convention) leave at least a day between infusions; 48 hours is ketaclinic's default, "
    "no source sets a minimum"
)
_SPACING_ESKETAMINE = (
    "clinic convention: the label's twice-weekly induction (" + SPRAVATO_PI + ", section 2) "
    "implies about 2 to 3 days between doses; the label sets no minimum interval. 48 hours "
    "is ketaclinic's default"
)
_ESKETAMINE_INDUCTION = (
    SchedulePhase(
        label="induction",
        first_week=1,
        last_week=4,
        frequency="twice a week",
        doses_mg=(56.0, 84.0),
        note="day 1: 56 mg; then 56 or 84 mg; evaluate benefit at the end of induction",
    ),
    SchedulePhase(
        label="maintenance",
        first_week=5,
        last_week=8,
        frequency="once a week",
        doses_mg=(56.0, 84.0),
    ),
    SchedulePhase(
        label="maintenance",
        first_week=9,
        last_week=None,
        frequency="every 2 weeks or once a week",
        doses_mg=(56.0, 84.0),
        note="the least frequent dosing that keeps the response",
    ),
)
_ESKETAMINE_CITATIONS = (
    Citation("dose_min", SPRAVATO_PI + ", section 2 (56 or 84 mg)", "confirmed"),
    Citation("dose_max", SPRAVATO_PI + ", section 2 (56 or 84 mg)", "confirmed"),
    Citation("allowed_doses", SPRAVATO_PI + ", section 2 (56 or 84 mg)", "confirmed"),
    Citation("max_dose_mg", SPRAVATO_PI + ", section 2 (84 mg the highest dose)", "confirmed"),
    Citation("mg_per_device", SPRAVATO_PI + " (28 mg per device, 2 sprays)", "confirmed"),
    Citation("device_interval_min", SPRAVATO_PI + " (5 minutes between devices)", "confirmed"),
    Citation("observation_min", SPRAVATO_PI + " (at least 2 hours after each dose)", "confirmed"),
    Citation("min_spacing_hours", _SPACING_ESKETAMINE, "convention"),
)

_ESKETAMINE_65 = (
    SPRAVATO_PI + ", section 2 (treatment-resistant depression, patients 65 years and "
    "older: induction day 1 28 mg, then 28, 56 or 84 mg, adjusted in 28 mg steps); read "
    "from the label as recalled, not re-read here"
)

PROTOCOLS: tuple[Protocol, ...] = (
    Protocol(
        id="iv_ketamine",
        name="Intravenous racemic ketamine infusion",
        drug="racemic ketamine",
        route="intravenous",
        dose_unit="mg/kg",
        default_dose=0.5,
        dose_min=0.1,
        dose_max=1.0,
        max_dose_mg=100.0,
        source=FAVA_2020 + "; " + SANACORA_2017,
        evidence="confirmed",
        titration_steps=(0.5, 0.75, 1.0),
        infusion=True,
        duration_min=40.0,
        default_bag_volume_ml=100.0,
        rate_includes_drug_volume=True,
        dose_weight_rule="actual",
        obesity_bmi_threshold=30.0,
        obesity_ibw_ratio=1.2,
        adjusted_weight_factor=0.4,
        typical_series=_IV_SERIES,
        series_sessions=6,
        min_spacing_hours=48.0,
        citations=(
            Citation("min_spacing_hours", _SPACING_IV, "convention"),
            Citation("dose_min", FAVA_2020 + " [abstract]", "confirmed"),
            Citation("dose_max", FAVA_2020 + " [abstract]", "confirmed"),
            Citation(
                "titration_steps",
                "escalation sequence by convention; 0.75 mg/kg from "
                + ANDRADE_2017
                + "; 1.0 mg/kg the top arm of "
                + FAVA_2020,
                "convention",
            ),
            Citation("max_dose_mg", CAP_CONVENTION, "convention"),
            Citation("duration_min", FAVA_2020, "confirmed"),
            Citation(
                "default_bag_volume_ml",
                "common practice: the dose diluted in 100 mL 0.9% saline",
                "convention",
            ),
            Citation(
                "rate_includes_drug_volume",
                "the drug is added to the bag and the pump runs the bag total over the "
                "infusion time",
                "convention",
            ),
            Citation("dose_weight_rule", WEIGHT_RULE_CONVENTION, "convention"),
            Citation("obesity_bmi_threshold", OBESITY_CONVENTION, "convention"),
            Citation("obesity_ibw_ratio", OBESITY_CONVENTION, "convention"),
            Citation("adjusted_weight_factor", ADJUSTED_FACTOR, "convention"),
            Citation(
                "typical_series",
                "clinic convention (clinical-reference.md section 1); consensus wording "
                "unconfirmed",
                "convention",
            ),
            Citation("series_sessions", "clinic convention (clinical-reference.md)", "convention"),
        ),
    ),
    Protocol(
        id="im_ketamine",
        name="Intramuscular racemic ketamine injection",
        drug="racemic ketamine",
        route="intramuscular",
        dose_unit="mg/kg",
        default_dose=0.5,
        dose_min=0.25,
        dose_max=0.5,
        max_dose_mg=50.0,
        source=CHILUKURI_2014,
        evidence="confirmed",
        dose_weight_rule="actual",
        obesity_bmi_threshold=30.0,
        obesity_ibw_ratio=1.2,
        adjusted_weight_factor=0.4,
        typical_series="not established; clinics commonly mirror the IV series",
        citations=(
            Citation("dose_min", CHILUKURI_2014, "confirmed"),
            Citation("dose_max", CHILUKURI_2014, "confirmed"),
            Citation("max_dose_mg", CAP_CONVENTION, "convention"),
            Citation("dose_weight_rule", WEIGHT_RULE_CONVENTION, "convention"),
            Citation("obesity_bmi_threshold", OBESITY_CONVENTION, "convention"),
            Citation("obesity_ibw_ratio", OBESITY_CONVENTION, "convention"),
            Citation("adjusted_weight_factor", ADJUSTED_FACTOR, "convention"),
            Citation("typical_series", "clinic convention", "convention"),
        ),
    ),
    Protocol(
        id="oral_ketamine",
        name="Oral racemic ketamine",
        drug="racemic ketamine",
        route="oral",
        dose_unit="mg/kg",
        default_dose=1.0,
        dose_min=0.25,
        dose_max=2.5,
        max_dose_mg=300.0,
        source=KHEIRABADI_2023,
        evidence="confirmed",
        dose_weight_rule="actual",
        obesity_bmi_threshold=30.0,
        obesity_ibw_ratio=1.2,
        adjusted_weight_factor=0.4,
        typical_series="twice a week for 6 weeks",
        series_sessions=12,
        citations=(
            Citation(
                "dose_min", ANDRADE_2019 + " (lowest weight-based dose reported)", "secondary"
            ),
            Citation("dose_max", ANDRADE_2019 + " (estimated IV-equivalent dose)", "secondary"),
            Citation("max_dose_mg", ANDRADE_2019 + " (highest fixed dose reported)", "secondary"),
            Citation("dose_weight_rule", WEIGHT_RULE_CONVENTION, "convention"),
            Citation("obesity_bmi_threshold", OBESITY_CONVENTION, "convention"),
            Citation("obesity_ibw_ratio", OBESITY_CONVENTION, "convention"),
            Citation("adjusted_weight_factor", ADJUSTED_FACTOR, "convention"),
            Citation("typical_series", KHEIRABADI_2023, "confirmed"),
            Citation("series_sessions", KHEIRABADI_2023, "confirmed"),
        ),
    ),
    Protocol(
        id="sublingual_ketamine",
        name="Sublingual racemic ketamine (very low dose)",
        drug="racemic ketamine",
        route="sublingual",
        dose_unit="mg",
        default_dose=10.0,
        dose_min=10.0,
        dose_max=10.0,
        max_dose_mg=10.0,
        source=LARA_2013,
        evidence="confirmed",
        dose_weight_rule="none",
        typical_series="every 2-3 days or once a week",
        citations=(
            Citation("dose_min", LARA_2013 + " (the only dose studied)", "confirmed"),
            Citation("dose_max", LARA_2013 + " (the only dose studied)", "confirmed"),
            Citation("max_dose_mg", LARA_2013 + " (the only dose studied)", "confirmed"),
            Citation("dose_weight_rule", "fixed dose", "confirmed"),
            Citation("typical_series", LARA_2013, "confirmed"),
        ),
    ),
    Protocol(
        id="in_esketamine",
        name="Intranasal esketamine (Spravato), treatment-resistant depression",
        drug="esketamine",
        route="intranasal",
        dose_unit="mg",
        default_dose=56.0,
        dose_min=56.0,
        dose_max=84.0,
        max_dose_mg=84.0,
        source=SPRAVATO_PI + ", section 2 (day 1: 56 mg)",
        evidence="confirmed",
        allowed_doses=(56.0, 84.0),
        dose_weight_rule="none",
        mg_per_device=28.0,
        device_interval_min=5.0,
        observation_min=120.0,
        min_spacing_hours=48.0,
        typical_series=(
            "weeks 1-4 twice a week (day 1 56 mg), weeks 5-8 once a week, from week 9 every "
            "2 weeks or once a week"
        ),
        schedule=_ESKETAMINE_INDUCTION,
        older_adult_age=65.0,
        older_adult_default_dose=28.0,
        older_adult_allowed_doses=(28.0, 56.0, 84.0),
        citations=(
            *_ESKETAMINE_CITATIONS,
            Citation("dose_weight_rule", SPRAVATO_PI + " (fixed doses)", "confirmed"),
            Citation("typical_series", SPRAVATO_PI + ", section 2", "confirmed"),
            Citation("schedule", SPRAVATO_PI + ", section 2", "confirmed"),
            Citation("older_adult_age", _ESKETAMINE_65, "secondary"),
            Citation("older_adult_default_dose", _ESKETAMINE_65, "secondary"),
            Citation("older_adult_allowed_doses", _ESKETAMINE_65, "secondary"),
        ),
    ),
    Protocol(
        id="in_esketamine_suicidal",
        name="Intranasal esketamine (Spravato), depression with acute suicidal ideation",
        drug="esketamine",
        route="intranasal",
        dose_unit="mg",
        default_dose=84.0,
        dose_min=56.0,
        dose_max=84.0,
        max_dose_mg=84.0,
        source=SPRAVATO_PI + ", section 2 (84 mg twice a week for 4 weeks)",
        evidence="confirmed",
        allowed_doses=(56.0, 84.0),
        dose_weight_rule="none",
        mg_per_device=28.0,
        device_interval_min=5.0,
        observation_min=120.0,
        min_spacing_hours=48.0,
        typical_series="84 mg twice a week for 4 weeks (may reduce to 56 mg); longer use not "
        "studied",
        series_sessions=8,
        schedule=(
            SchedulePhase(
                label="treatment",
                first_week=1,
                last_week=4,
                frequency="twice a week",
                doses_mg=(84.0, 56.0),
                note="84 mg; may reduce to 56 mg by tolerability; use beyond 4 weeks not studied",
            ),
        ),
        citations=(
            *_ESKETAMINE_CITATIONS,
            Citation("dose_weight_rule", SPRAVATO_PI + " (fixed doses)", "confirmed"),
            Citation("typical_series", SPRAVATO_PI + ", section 2", "confirmed"),
            Citation("series_sessions", SPRAVATO_PI + " (twice a week for 4 weeks)", "confirmed"),
            Citation("schedule", SPRAVATO_PI + ", section 2", "confirmed"),
        ),
    ),
)
