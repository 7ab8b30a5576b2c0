from ketaclinic.platform.charts import Chart, Marker, Rule, Series, render_svg


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
