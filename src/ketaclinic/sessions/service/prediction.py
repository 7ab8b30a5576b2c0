"""The predicted plasma curve for this patient from the charted dosing, and when it
falls below the clinic's threshold.

Every charted running stretch of the pump is one constant-rate infusion (a paused
infusion is two); while the pump runs, the rest of the bag is assumed to run at the
current rate. Nasal devices are intranasal doses of the protocol's device size at their
charted times, and the devices still to come are assumed the protocol's spacing apart
from now (both from ``dosing.device_mg`` / ``dosing.device_interval_min``). Redrawn on
every page load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ketaclinic.clinical import pk
from ketaclinic.platform.charts import Chart, Marker, Rule, Series, render_svg
from ketaclinic.sessions import pump
from ketaclinic.sessions.service.view import SessionView, minutes

# Default model per route: Domino for IV racemic ketamine (clinical-reference section
# 6, as carried by opentiva); Perez-Ruixo 2021 for nasal esketamine (clinical.pk).
MODELS = {"iv": "domino", "esketamine_nasal": "esketamine"}


class PredictionSettings(BaseSettings):
    """Clinic settings of the prediction (environment ``KETACLINIC_PLASMA_THRESHOLD_NG_ML``).

    Default 100 ng/mL: the lower end of the range where dissociation is reported
    (100-250 ng/mL, Krystal 1994, via Zanos et al., Pharmacol Rev 2018, table 1)
    [secondary]."""

    model_config = SettingsConfigDict(env_prefix="KETACLINIC_", extra="ignore")
    plasma_threshold_ng_ml: float = Field(default=100.0, gt=0, le=5000)


@dataclass
class Prediction:
    model_id: str
    model_name: str
    threshold_ng_ml: float
    peak_ng_ml: float | None
    below_at: datetime | None  # the clock time plasma falls below the threshold
    svg: str
    notes: list[str] = field(default_factory=list)


def _age(view: SessionView) -> float:
    dob, today = view.patient.date_of_birth, view.now.date()
    years = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    return float(min(max(years, 0), 120))


class PredictionUnavailable(ValueError):
    """A prediction that cannot be made from the record; the message says why (the page
    shows it in place of the curve)."""


def nasal_events(view: SessionView) -> tuple[list[pk.Event], list[str]]:
    """The charted devices and, while dosing goes on, the devices still to come, as the
    numbered device doses of ``pk.nasal_device_doses``: the same dose events as
    ``ketaclinic simulate`` (later devices absorbed less through the nose)."""
    notes: list[str] = []
    if view.device_mg is None or view.device_interval_min is None:
        raise PredictionUnavailable("the order's protocol declares no nasal device size")
    interval = view.device_interval_min
    origin = view.dose_start or view.now
    times = [minutes(d.at, origin) for d in view.devices]
    if view.dose_end is None:
        now_min = minutes(view.now, origin)
        first = max(now_min, (times[-1] + interval) if times else 0.0)
        to_come = view.devices_planned - len(view.devices)
        times += [first + i * interval for i in range(to_come)]
        if to_come:
            notes.append(f"{to_come} device(s) still to come assumed {interval:g} minutes apart")
    events: list[pk.Event] = list(pk.nasal_device_doses(times, mg_per_device=view.device_mg))
    return events, notes


def dosing_events(view: SessionView) -> tuple[list[pk.Event], list[str]]:
    """The charted dosing as pharmacokinetic events (minutes from the start of dosing)."""
    if view.esketamine:
        return nasal_events(view)
    notes: list[str] = []
    order = view.order
    if not order.total_volume_ml or order.total_volume_ml <= 0:
        raise PredictionUnavailable("the order gives no total infusion volume")
    # Drug in the running bag: the order's dose in its total volume (mg/mL).
    mg_per_ml = pump.bag_concentration(order.dose_mg, order.total_volume_ml)
    if view.pump is None or view.dose_start is None:
        # Not started: the order as written, from now.
        if not order.rate_ml_per_h or not order.duration_min:
            raise PredictionUnavailable("the order gives no pump rate and infusion duration")
        rate = order.rate_ml_per_h * mg_per_ml / 60.0  # mL/h x mg/mL / (60 min/h) = mg/min
        notes.append("not started: the order as written, starting now")
        infusion = pk.Infusion(0.0, duration_min=float(order.duration_min), rate_mg_per_min=rate)
        return [infusion], notes
    now_min = minutes(view.now, view.dose_start)
    stretches = pump.projected_segments(view.pump, now_min=now_min)
    if view.pump.state == "running":
        notes.append("running: the rest of the bag assumed at the current rate")
    return [
        pk.Infusion(
            s.start_min,
            duration_min=s.end_min - s.start_min,
            rate_mg_per_min=s.rate_ml_per_h * mg_per_ml / 60.0,
        )
        for s in stretches
        if s.end_min - s.start_min > 1e-6
    ], notes


def predict(view: SessionView, *, threshold_ng_ml: float | None = None) -> Prediction:
    threshold = threshold_ng_ml or PredictionSettings().plasma_threshold_ng_ml
    model_id = MODELS[view.route]
    info = pk.get_model(model_id)
    if not view.order.weight_kg:
        raise PredictionUnavailable("no weight on record on the order")
    events, notes = dosing_events(view)
    patient = pk.Patient(
        weight_kg=view.order.weight_kg,
        age=_age(view),
        sex=view.patient.sex if view.patient.sex in ("female", "male") else None,  # type: ignore[arg-type]
    )
    origin = view.dose_start or view.now
    last = max([_end(e) for e in events] + [0.0])
    now_min = minutes(view.now, origin)
    end = max(last + 240.0, now_min + 60.0)
    times = [i * 1.0 for i in range(int(math.ceil(end)) + 1)]
    if not events:
        return Prediction(model_id, info.name, threshold, None, None, "", notes)
    result = pk.simulate(info, patient, events, times)
    summary = result.summary((threshold,))
    below_min = summary.thresholds[0].below_by_min
    below_at = origin + timedelta(minutes=below_min) if below_min is not None else None
    if below_min is None and summary.peak_plasma_ng_ml >= threshold:
        notes.append("still above the threshold at the end of the prediction")
    step = max(1, len(times) // 240)
    points = [(times[i], float(result.plasma_ng_ml[i])) for i in range(0, len(times), step)]
    chart = Chart(
        title=f"Predicted plasma {info.drug} ({info.name})",
        x_label="minutes from the start of dosing",
        y_label="ng/mL",
        series=[Series("predicted plasma", points)],
        rules=[Rule(f"{threshold:g} ng/mL threshold", threshold)],
        markers=_markers(view, origin, now_min),
        y_min=0,
    )
    return Prediction(
        model_id,
        info.name,
        threshold,
        summary.peak_plasma_ng_ml,
        below_at,
        render_svg(chart),
        notes,
    )


def _end(event: pk.Event) -> float:
    if isinstance(event, pk.Infusion):
        return event.start_min + (event.duration_min or 0.0)
    if isinstance(event, pk.Bolus | pk.Dose):
        return event.at_min
    return 0.0


def _markers(view: SessionView, origin: datetime, now_min: float) -> list[Marker]:
    marks = [Marker("now", now_min)]
    for event in view.events:
        if event.entered_in_error_at is None and event.kind in (
            "start",
            "pause",
            "resume",
            "rate_change",
            "stop",
            "device",
        ):
            marks.append(Marker(event.kind.replace("_", " "), minutes(event.at, origin)))
    return marks
