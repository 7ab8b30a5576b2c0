import re

from ketaclinic.platform.charts import Chart, Marker, Rule, Series, nice_ticks, render_svg


def test_a_chart_draws_each_series_rule_and_marker_and_escapes_text() -> None:
    svg = render_svg(
        Chart(
            title="PHQ-9 <total>",
            x_label="days",
            y_label="score",
            series=[Series("PHQ-9", [(0, 20), (7, 12), (14, 6)])],
            rules=[Rule("remission", 5)],
            markers=[Marker("session 1", 1)],
            y_min=0,
            y_max=27,
        )
    )
    assert svg.count("<polyline") == 1
    assert svg.count("<circle") == 3
    assert "remission" in svg and "session 1" in svg
    assert "PHQ-9 &lt;total&gt;" in svg and "<total>" not in svg


def test_an_empty_chart_says_there_is_no_data() -> None:
    assert "no data yet" in render_svg(Chart(title="Vitals", x_label="min", y_label="mmHg"))


def test_ticks_are_round_steps_of_one_two_or_five() -> None:
    # By hand: 5.4 to 95 in steps of 10 needs 0..100, 10 intervals (more than 6); steps
    # of 20 need 0..100, 5 intervals: the smallest 1-2-5 step that fits.
    assert nice_ticks(5.4, 95) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(0, 27) == [0, 5, 10, 15, 20, 25, 30]
    assert nice_ticks(36.2, 38.9) == [36.0, 36.5, 37.0, 37.5, 38.0, 38.5, 39.0]
    assert nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(-3, 47) == [-10, 0, 10, 20, 30, 40, 50]


def test_a_chart_without_fixed_bounds_widens_its_axes_to_round_ticks() -> None:
    svg = render_svg(
        Chart(
            title="Heart rate",
            x_label="min",
            y_label="bpm",
            series=[Series("HR", [(0, 47), (12.5, 95), (40, 5.4)])],
        )
    )
    labels = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert labels == ["0", "20", "40", "60", "80", "100"]
    assert re.findall(r'text-anchor="middle">([-\d.]+)</text>', svg) == [
        "0",
        "10",
        "20",
        "30",
        "40",
    ]
    assert "5.4" not in labels and "47" not in labels


def test_a_fixed_axis_keeps_its_bounds_and_shows_only_the_round_ticks_inside() -> None:
    svg = render_svg(
        Chart(
            title="PHQ-9",
            x_label="days",
            y_label="score",
            series=[Series("PHQ-9", [(0, 20), (14, 6)])],
            y_min=0,
            y_max=27,
        )
    )
    assert re.findall(r'text-anchor="end">([^<]+)</text>', svg) == [
        "0",
        "5",
        "10",
        "15",
        "20",
        "25",
    ]
