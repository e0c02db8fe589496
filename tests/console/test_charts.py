"""The console's SVG charts: scales and ticks, empty data, negative values, gaps, the
legend, and what a screen reader gets (role, title, description)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from membership.console.charts import HEIGHT, Chart, Series, nice_step, render, ticks, value_range

SVG = "{http://www.w3.org/2000/svg}"


def _tree(chart: Chart) -> ET.Element:
    return ET.fromstring(str(render(chart)))


def _chart(series: list[Series], kind: str = "line", labels: list[str] | None = None, **kw: object) -> Chart:
    labels = labels if labels is not None else ["Jan 2026", "Feb 2026", "Mar 2026"]
    return Chart("c", "MRR", "What it shows", labels, series, kind=kind, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("span", "step"), [(95, 20), (10, 2), (1, 0.2), (1234, 250), (0.3, 0.1), (7, 2)])
def test_steps_are_round(span: float, step: float) -> None:
    assert nice_step(span) == pytest.approx(step)


def test_ticks_cover_the_range_and_zero() -> None:
    assert ticks(0, 95) == [0, 20, 40, 60, 80, 100]
    assert ticks(10, 95)[0] == 0  # money and counts start from zero
    low = ticks(-37, 120)
    assert low[0] <= -37 and low[-1] >= 120 and 0 in low
    assert ticks(-5, -1)[-1] == 0  # all negative: zero on top
    assert ticks(0.1, 0.3) == [0, 0.1, 0.2, 0.3]  # no 0.30000000000000004


def test_empty_data_still_draws_an_axis_and_says_what_it_is() -> None:
    assert ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    tree = _tree(_chart([], labels=[]))
    assert tree.find(f"{SVG}title").text == "MRR"  # type: ignore[union-attr]
    assert not tree.findall(f".//{SVG}polyline") and not tree.findall(f".//{SVG}rect")
    assert _tree(_chart([Series("MRR", [None, None, None])])).findall(f".//{SVG}circle") == []


def test_a11y_role_title_and_description_are_linked_and_escaped() -> None:
    chart = Chart("chart-x", "Cash <b>&</b>", 'Net "sales" <script>', ["Jan 2026"], [Series("A<", [1])])
    text = str(render(chart))
    assert "<script>" not in text and "<b>" not in text
    tree = ET.fromstring(text)
    assert tree.get("role") == "img"
    assert tree.get("aria-labelledby") == "chart-x-title chart-x-desc"
    assert tree.find(f"{SVG}title").get("id") == "chart-x-title"  # type: ignore[union-attr]
    assert tree.find(f"{SVG}title").text == "Cash <b>&</b>"  # type: ignore[union-attr]
    assert tree.find(f"{SVG}desc").text == 'Net "sales" <script>'  # type: ignore[union-attr]
    assert "style=" not in text  # the CSP allows no inline style


def test_points_sit_on_their_values_and_a_gap_breaks_the_line() -> None:
    chart = _chart([Series("MRR", [0, 50, None, 100][:3] + [])], labels=["a", "b", "c"])
    circles = _tree(chart).findall(f".//{SVG}circle")
    ys = [float(c.get("cy")) for c in circles]  # type: ignore[arg-type]
    assert len(ys) == 2 and ys[0] > ys[1]  # 0 lower on the page than 50
    assert ys[0] == HEIGHT - 44  # zero is the bottom of the plot
    gap = _chart([Series("MRR", [1, 2, None, 4, 5])], labels=list("abcde"))
    assert len(_tree(gap).findall(f".//{SVG}polyline")) == 2
    tip = circles[1].find(f"{SVG}title")
    assert tip is not None and tip.text == "MRR, b: 50.0"


def test_stacked_bars_stack_positives_up_and_negatives_down() -> None:
    chart = _chart([Series("New", [100, 0, 30]), Series("Churn", [-40, -10, 0]), Series("More", [20, 0, 0])],
                   kind="stacked")
    assert value_range(chart) == (-40, 120)
    rects = _tree(chart).findall(f".//{SVG}g/..//{SVG}rect")
    bars = [r for r in rects if r.find(f"{SVG}title") is not None]
    assert len(bars) == 5  # zeros draw nothing
    by_tip = {r.find(f"{SVG}title").text: r for r in bars}  # type: ignore[union-attr]
    new, churn, more = by_tip["New, Jan 2026: 100.0"], by_tip["Churn, Jan 2026: -40.0"], by_tip["More, Jan 2026: 20.0"]
    zero_y = float(new.get("y")) + float(new.get("height"))  # type: ignore[arg-type]
    assert float(churn.get("y")) == pytest.approx(zero_y)  # type: ignore[arg-type]  (hangs from zero)
    assert float(more.get("y")) + float(more.get("height")) == pytest.approx(float(new.get("y")))  # type: ignore[arg-type]
    assert float(churn.get("height")) == pytest.approx(float(new.get("height")) * 0.4, abs=0.2)  # type: ignore[arg-type]


def test_ticks_use_the_formatter_and_the_legend_wraps() -> None:
    chart = _chart([Series("MRR", [0, 1500, 3000])], tick=lambda v: f"${v / 1000:g}k", axis_label="USD per month")
    labels = [t.text for t in _tree(chart).findall(f".//{SVG}g[@class='axis y']/{SVG}text")]
    assert "$0k" in labels and "$3k" in labels and "USD per month" in labels
    many = _chart([Series(f"Series with a long name {n}", [n, n, n]) for n in range(8)])
    rows = {t.get("y") for t in _tree(many).findall(f".//{SVG}g[@class='legend']/{SVG}text")}
    assert len(rows) >= 3
    top_one = min(float(c.get("cy")) for c in _tree(_chart([Series("a", [1, 1, 1])])).findall(f".//{SVG}circle"))  # type: ignore[arg-type]
    top_many = min(float(c.get("cy")) for c in _tree(many).findall(f".//{SVG}circle"))  # type: ignore[arg-type]
    assert top_many > top_one  # the plot moved down to make room
    assert re.search(r"<text[^>]*>Series with a long name 7</text>", str(render(many)))


def test_two_line_labels() -> None:
    chart = _chart([Series("n", [1, 2])], labels=["Dec–Feb\n2025/26", "Mar–May\n2026"], kind="stacked")
    texts = [t.text for t in _tree(chart).findall(f".//{SVG}g[@class='axis x']/{SVG}text")]
    assert texts == ["Dec–Feb", "2025/26", "Mar–May", "2026"]
