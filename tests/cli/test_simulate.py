"""``ketaclinic simulate`` from the shell's point of view."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from ketaclinic.cli import app

runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    # With one registered command Typer runs it without its name; with several it is a
    # group. Other commands are registered by other modules, so both are handled.
    is_group = hasattr(typer.main.get_command(app), "list_commands")
    prefix = ["simulate"] if is_group else []
    return runner.invoke(app, [*prefix, *args])


BASE = ("--model", "domino", "--weight", "70", "--dose", "0.5mg/kg", "--over", "40min")


def test_json_output_has_the_shape_other_tools_rely_on() -> None:
    r = invoke(*BASE, "--until", "6h", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["model"] == "domino"
    s, series = doc["summary"], doc["series"]
    assert s["time_of_peak_min"] == 40.0
    assert 200 < s["peak_plasma_ng_ml"] < 280
    t = series["t_min"]
    assert t[0] == 0.0 and t[-1] == 360.0 and len(t) == 6 * 360 + 1
    assert 40.0 in t
    assert len(series["plasma_ng_ml"]) == len(t) == len(series["effect_ng_ml"])


def test_the_end_of_an_infusion_is_an_output_time_even_off_the_grid() -> None:
    r = invoke(*BASE[:-1], "37min", "--until", "1h", "--step", "10min", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["series"]["t_min"] == [0, 10, 20, 30, 37, 40, 50, 60]


def test_a_population_adds_percentile_series_and_summary() -> None:
    args = ("--model", "hijazi", "--weight", "70", "--dose", "35mg", "--over", "40min")
    r = invoke(*args, "--until", "2h", "--population", "300", "--seed", "1", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    for p in ("p5", "p50", "p95"):
        assert len(doc["series"][f"plasma_ng_ml_{p}"]) == len(doc["series"]["t_min"])
    s = doc["summary"]
    assert s["peak_plasma_ng_ml_p5"] <= s["peak_plasma_ng_ml_p50"] <= s["peak_plasma_ng_ml_p95"]
    again = invoke(*args, "--until", "2h", "--population", "300", "--seed", "1", "--json")
    assert json.loads(again.stdout) == doc


def test_intranasal_esketamine_runs_by_route() -> None:
    r = invoke(
        "--model", "esketamine", "--weight", "70", "--dose", "56mg", "--route", "intranasal",
        "--until", "3h", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["series"]["effect_ng_ml"] is None
    assert 20 < doc["summary"]["time_of_peak_min"] < 60


def test_the_default_output_is_a_summary_table() -> None:
    r = invoke(*BASE)
    assert r.exit_code == 0, r.output
    assert "peak plasma" in r.stdout and "below 50 ng/mL by" in r.stdout


def test_csv_output_has_a_header_and_one_row_per_time() -> None:
    r = invoke(*BASE, "--until", "1h", "--step", "1min", "--csv")
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "t_min,plasma_ng_ml,effect_ng_ml"
    assert len(lines) == 62


def test_a_plot_is_written_with_population_bands(tmp_path: Path) -> None:
    out = tmp_path / "pk.png"
    r = invoke(*BASE, "--until", "2h", "--population", "50", "--seed", "2", "--plot", str(out))
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def one_error_line(*args: str) -> str:
    r = invoke(*args)
    assert r.exit_code != 0
    assert "Traceback" not in r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    return lines[0]


def test_a_bad_dose_unit_is_one_clear_error_line() -> None:
    assert "dose" in one_error_line("--weight", "70", "--dose", "0.5mg/lb")


def test_a_bad_duration_is_one_clear_error_line() -> None:
    assert "--over" in one_error_line("--weight", "70", "--dose", "35mg", "--over", "40 years")


def test_a_bad_weight_is_one_clear_error_line() -> None:
    assert "weight" in one_error_line("--weight", "seventy", "--dose", "35mg")


def test_an_unknown_model_is_one_clear_error_line() -> None:
    assert "unknown" in one_error_line("--model", "marsh", "--weight", "70", "--dose", "35mg")


def test_a_route_the_model_lacks_is_one_clear_error_line() -> None:
    line = one_error_line(
        "--model", "esketamine", "--weight", "70", "--dose", "28mg", "--route", "im"
    )
    assert "route" in line
