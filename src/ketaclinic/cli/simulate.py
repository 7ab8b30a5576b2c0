"""``ketaclinic simulate``: predicted ketamine concentrations for one dosing, from the shell."""

from __future__ import annotations

import csv as csv_module
import json
import math
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ketaclinic.cli.main import app

if TYPE_CHECKING:
    import numpy as np
    from rich.table import Table

# numpy, scipy (under ``clinical.pk``) and rich are imported inside the functions that
# use them: ``ketaclinic --help`` and every other command start without them.

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_DOSE = re.compile(rf"^\s*{_NUMBER}\s*(mg/kg|mg)\s*$", re.IGNORECASE)
_DURATION = re.compile(rf"^\s*{_NUMBER}\s*(s|sec|min|m|h)\s*$", re.IGNORECASE)
_MINUTES = {"s": 1 / 60, "sec": 1 / 60, "min": 1.0, "m": 1.0, "h": 60.0}


class CliError(ValueError):
    """A problem with what the user typed: reported as one line, no traceback."""


def parse_dose_mg(text: str, weight_kg: float) -> float:
    m = _DOSE.match(text)
    if not m:
        raise CliError(f"dose {text!r} is not understood: use e.g. 0.5mg/kg or 35mg")
    value = float(m.group(1))
    if value <= 0:
        raise CliError("dose must be more than zero")
    return value * weight_kg if m.group(2).lower() == "mg/kg" else value


def parse_minutes(text: str, what: str, allow_zero: bool = False) -> float:
    if allow_zero and text.strip() == "0":
        return 0.0
    m = _DURATION.match(text)
    if not m:
        raise CliError(f"{what} {text!r} is not understood: use e.g. 10s, 40min or 6h")
    value = float(m.group(1)) * _MINUTES[m.group(2).lower()]
    if value <= 0 and not allow_zero:
        raise CliError(f"{what} must be more than zero")
    return value


def parse_number(text: str, what: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CliError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise CliError(f"{what} must be between {low:g} and {high:g}")
    return value


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _series(a: np.ndarray | None) -> list[float | None] | None:
    if a is None:
        return None
    return [_clean(round(float(v), 6) + 0.0) for v in a]


def run(
    *,
    model: str,
    weight: str,
    dose: str,
    over: str,
    until: str,
    step: str,
    route: str,
    age: str,
    sex: str | None,
    population: int,
    seed: int | None,
    thresholds: list[float],
) -> dict[str, Any]:
    """Everything the command computes, as the JSON document it prints."""
    import numpy as np

    from ketaclinic.clinical import pk

    try:
        info = pk.get_model(model)
    except KeyError as e:
        raise CliError(str(e.args[0])) from None
    weight_kg = parse_number(weight, "weight", 1, 400)
    age_y = parse_number(age, "age", 0, 120)
    if sex is not None and sex not in ("female", "male"):
        raise CliError("sex must be female or male")
    route = route.lower()
    if route not in info.routes:
        raise CliError(f"model {info.id} has no route {route}; it has {', '.join(info.routes)}")
    dose_mg = parse_dose_mg(dose, weight_kg)
    over_min = parse_minutes(over, "--over", allow_zero=True)
    until_min = parse_minutes(until, "--until")
    step_min = parse_minutes(step, "--step")
    if step_min > until_min:
        raise CliError("--step is longer than --until")
    if over_min > 0 and route != "iv":
        raise CliError("--over is for intravenous infusions; other routes are single doses")
    if population < 0:
        raise CliError("--population must be zero or more")
    patient = pk.Patient(weight_kg=weight_kg, age=age_y, sex=sex)  # type: ignore[arg-type]
    events: list[pk.Event]
    if over_min > 0:
        events = [pk.Infusion(0.0, duration_min=over_min, amount_mg=dose_mg)]
    elif route == "iv":
        events = [pk.Bolus(0.0, dose_mg)]
    else:
        events = [pk.Dose(0.0, dose_mg, route)]
    grid = np.arange(0.0, until_min + step_min * 1e-9, step_min)
    extra = [over_min] if 0 < over_min < until_min else []
    times = np.unique(np.concatenate([grid, extra, [until_min]]))
    result = pk.simulate(info, patient, events, times)
    summary = result.summary(tuple(thresholds)).as_dict()
    doc: dict[str, Any] = {
        "model": info.id,
        "model_name": info.name,
        "drug": info.drug,
        "route": route,
        "dose_mg": dose_mg,
        "infusion_min": over_min,
        "weight_kg": weight_kg,
        "summary": {k: _clean(v) for k, v in summary.items()},
        "series": {
            "t_min": _series(times),
            "plasma_ng_ml": _series(result.plasma_ng_ml),
            "effect_ng_ml": _series(result.effect_ng_ml),
        },
    }
    if result.metabolite_ng_ml is not None:
        doc["series"]["metabolite_ng_ml"] = _series(result.metabolite_ng_ml)
    if population:
        pop = pk.population(
            info, population, patient, events, times, seed=seed, thresholds_ng_ml=thresholds
        )
        for p, band in pop.plasma_ng_ml.items():
            doc["series"][f"plasma_ng_ml_p{p:g}"] = _series(band)
        for key, value in pop.summary.items():
            doc["summary"][key] = _clean(value)
        doc["population"] = {"n": population, "seed": seed, "note": pop.note}
    return doc


def _table(doc: dict[str, Any]) -> Table:
    from rich.table import Table

    s = doc["summary"]
    table = Table(title=f"{doc['model_name']}: {doc['dose_mg']:.1f} mg {doc['route']}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    if "population" in doc:
        table.add_column("p5 - p95", justify="right")

    def fmt(v: Any, unit: str) -> str:
        return "-" if v is None else f"{v:.1f} {unit}"

    rows = [
        ("peak plasma", "peak_plasma_ng_ml", "ng/mL"),
        ("time of peak", "time_of_peak_min", "min"),
        ("peak effect site", "peak_effect_ng_ml", "ng/mL"),
        ("peak metabolite", "peak_metabolite_ng_ml", "ng/mL"),
        ("AUC plasma", "auc_plasma_ng_h_ml", "ng.h/mL"),
    ]
    rows += [
        (f"below {k.removeprefix('below_').removesuffix('_ng_ml_by_min')} ng/mL by", k, "min")
        for k in s
        if k.startswith("below_") and k.endswith("_ng_ml_by_min")
    ]
    for label, key, unit in rows:
        if key not in s or (s[key] is None and ("effect" in key or "metabolite" in key)):
            continue
        cells = [label, fmt(s[key], unit)]
        if "population" in doc:
            lo, hi = s.get(f"{key}_p5"), s.get(f"{key}_p95")
            cells.append("-" if lo is None or hi is None else f"{lo:.1f} - {hi:.1f}")
        table.add_row(*cells)
    return table


def _plot(doc: dict[str, Any], path: Path, thresholds: list[float]) -> None:
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = doc["series"]
    t = np.asarray(series["t_min"], dtype=float)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if "plasma_ng_ml_p5" in series:
        lo = np.asarray(series["plasma_ng_ml_p5"], dtype=float)
        hi = np.asarray(series["plasma_ng_ml_p95"], dtype=float)
        ax.fill_between(t, lo, hi, alpha=0.25, label="plasma, 5th-95th percentile")
        ax.plot(t, series["plasma_ng_ml_p50"], lw=1, ls="--", label="plasma, median")
    ax.plot(t, series["plasma_ng_ml"], lw=2, label="plasma, this patient")
    if series.get("effect_ng_ml") is not None:
        ax.plot(t, series["effect_ng_ml"], lw=1.5, label="effect site")
    if series.get("metabolite_ng_ml") is not None:
        ax.plot(t, series["metabolite_ng_ml"], lw=1, label="metabolite")
    for thr in thresholds:
        ax.axhline(thr, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("minutes")
    ax.set_ylabel("ng/mL")
    ax.set_title(f"{doc['model_name']}: {doc['dose_mg']:.1f} mg {doc['route']}")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _write_csv(doc: dict[str, Any]) -> None:
    cols = [k for k, v in doc["series"].items() if v is not None]
    writer = csv_module.writer(sys.stdout, lineterminator="\n")
    writer.writerow(cols)
    for row in zip(*(doc["series"][c] for c in cols), strict=True):
        writer.writerow(["" if v is None else v for v in row])


@app.command("simulate")
def simulate_command(
    model: str = typer.Option("kamp", help="Model id: domino, clements, hijazi, kamp, ..."),
    weight: str = typer.Option(..., help="Body weight in kg."),
    dose: str = typer.Option(..., help="Dose in mg or mg/kg, e.g. 0.5mg/kg or 56mg."),
    over: str = typer.Option("0", help="Infusion duration (e.g. 40min); 0 for a bolus."),
    until: str = typer.Option("6h", help="How long to follow (s, min or h)."),
    step: str = typer.Option("10s", help="Output resolution (s, min or h)."),
    route: str = typer.Option("iv", help="iv, intranasal, oral, sublingual or im."),
    age: str = typer.Option("40", help="Age in years (used by the esketamine model)."),
    sex: str | None = typer.Option(None, help="female or male (no current model uses it)."),
    population: int = typer.Option(0, help="Also simulate this many virtual patients."),
    seed: int | None = typer.Option(None, help="Random seed for --population."),
    threshold: list[float] = typer.Option(
        [100.0, 50.0], help="Concentrations (ng/mL) to report times below; repeatable."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the series as CSV."),
    plot: Path | None = typer.Option(None, help="Write a plot (PNG) to this path."),
) -> None:
    """Predict plasma and effect-site ketamine concentrations for one dosing."""
    try:
        if as_json and as_csv:
            raise CliError("choose one of --json and --csv")
        doc = run(
            model=model,
            weight=weight,
            dose=dose,
            over=over,
            until=until,
            step=step,
            route=route,
            age=age,
            sex=sex,
            population=population,
            seed=seed,
            thresholds=list(threshold),
        )
        if plot is not None:
            _plot(doc, plot, list(threshold))
    except (CliError, ValueError, OSError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(doc))
    elif as_csv:
        _write_csv(doc)
    else:
        from rich.console import Console

        Console().print(_table(doc))
