"""Ketamine and esketamine pharmacokinetics: plasma and effect-site predictions.

Pure numpy/scipy: no database, no web, no clock. Times are minutes, doses mg,
concentrations ng/mL. See docs/pk.md for a worked example.

    >>> from ketaclinic.clinical import pk
    >>> r = pk.simulate("domino", pk.Patient(weight_kg=70),
    ...                 [pk.Infusion(0, duration_min=40, amount_mg=35)], range(0, 361))
    >>> round(r.summary().time_of_peak_min)
    40
"""

from ketaclinic.clinical.pk.events import (
    Bolus,
    Dose,
    Event,
    Infusion,
    Pause,
    RateChange,
    Segment,
    infusion_segments,
    nasal_device_doses,
)
from ketaclinic.clinical.pk.models import (
    ABSORPTION,
    KETAMINE_MW_G_PER_MOL,
    NMDA_KI_UM,
    Iiv,
    ModelInfo,
    Param,
    get_model,
    models,
    racemic_ki_um,
)
from ketaclinic.clinical.pk.patient import CovariateDistribution, Patient
from ketaclinic.clinical.pk.population import PopulationResult, population
from ketaclinic.clinical.pk.simulation import DEFAULT_THRESHOLDS_NG_ML, Result, simulate
from ketaclinic.clinical.pk.summary import Summary, nmda_occupancy
from ketaclinic.clinical.pk.tci import TciResult, tci

__all__ = [
    "ABSORPTION",
    "DEFAULT_THRESHOLDS_NG_ML",
    "KETAMINE_MW_G_PER_MOL",
    "NMDA_KI_UM",
    "Bolus",
    "CovariateDistribution",
    "Dose",
    "Event",
    "Iiv",
    "Infusion",
    "ModelInfo",
    "Param",
    "Patient",
    "Pause",
    "PopulationResult",
    "RateChange",
    "Result",
    "Segment",
    "Summary",
    "TciResult",
    "get_model",
    "infusion_segments",
    "models",
    "nasal_device_doses",
    "nmda_occupancy",
    "population",
    "racemic_ki_um",
    "simulate",
    "tci",
]
