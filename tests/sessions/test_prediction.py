"""The glue between an order and the pharmacokinetic solver: units and refusals."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from ketaclinic.clinical import pk
from ketaclinic.sessions.service.prediction import (
    PredictionUnavailable,
    dosing_events,
    predict,
)


def _iv_view(**order: Any) -> Any:
    values = {
        "dose_mg": 35.0,
        "total_volume_ml": 3.5,
        "rate_ml_per_h": 5.25,
        "duration_min": 40.0,
        "weight_kg": 70.0,
    }
    values.update(order)
    return cast(
        Any,
        SimpleNamespace(
            esketamine=False,
            route="iv",
            order=SimpleNamespace(**values),
            pump=None,
            dose_start=None,
        ),
    )


def test_an_order_not_yet_started_feeds_the_solver_mg_per_minute() -> None:
    # 0.5 mg/kg x 70 kg = 35 mg; at 10 mg/mL that is 3.5 mL, run over 40 minutes:
    # 3.5 mL / 40 min x 60 min/h = 5.25 mL/h; 5.25 mL/h x 10 mg/mL / 60 min/h = 0.875 mg/min.
    events, _ = dosing_events(_iv_view())
    assert len(events) == 1
    infusion = events[0]
    assert isinstance(infusion, pk.Infusion)
    assert infusion.start_min == 0.0 and infusion.duration_min == 40.0
    assert infusion.rate_mg_per_min == pytest.approx(0.875, rel=1e-12)
    assert infusion.rate_mg_per_min * 40.0 == pytest.approx(35.0, rel=1e-12)


def test_an_order_without_a_total_volume_is_not_predicted() -> None:
    with pytest.raises(PredictionUnavailable, match="total infusion volume"):
        dosing_events(_iv_view(total_volume_ml=None))


def test_an_order_without_a_pump_rate_is_not_predicted() -> None:
    with pytest.raises(PredictionUnavailable, match="pump rate"):
        dosing_events(_iv_view(rate_ml_per_h=None))


def test_a_prediction_without_a_weight_on_record_says_so() -> None:
    with pytest.raises(PredictionUnavailable, match="no weight on record"):
        predict(_iv_view(weight_kg=None), threshold_ng_ml=100.0)
