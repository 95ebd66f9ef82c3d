"""The network drawn as a graph (tutor.graph): every unit, weight and given number on it, each
weight's label on a line that reaches its target, values filling in, ASCII only in ASCII mode,
and the full-screen view that F8 opens and closes."""

from __future__ import annotations

import re

import pytest
from apphelpers import answer_steps, make_app, run, screen_text, wait_for

from tutor.catalog import open_lesson, read
from tutor.graph import MAX_GRAPH_UNITS, graph_rows, graph_text
from tutor.numfmt import fmt_given, fmt_value

LESSONS = ["sigmoid-2-2-2", "deep-2-3-2-1", "softmax-ce", "per-unit-bias", "logistic-bce"]
LINES = set("─│┌┐└┘├┤┬┴┼▶")


def _draw(lesson_id: str, answered: int = 0, ascii_only: bool = False):
    lesson = read(lesson_id)
    plan = open_lesson(lesson, None)
    steps = plan.complete()
    known = {s.id: s.value for s in steps[:answered]}
    current = steps[answered] if answered < len(steps) else None
    highlight = set(current.involves) if current else set()
    rows = graph_rows(
        lesson.network, known, highlight, lesson.quiz.decimals, ascii_only, plan.index_of
    )
    return lesson, plan, rows


@pytest.mark.parametrize("lesson_id", LESSONS)
def test_every_unit_weight_and_given_is_drawn(lesson_id):
    lesson, _, rows = _draw(lesson_id)
    text = graph_text(rows)
    net = lesson.network
    for layer in net.layers:
        assert layer.name in text
        for u in layer.units:
            assert f" {u} " in text or f" {u}\n" in text
    for w in net.weights:
        assert f"{w.name} {fmt_given(w.value)} " in text
    for x in net.inputs:
        assert f"out {fmt_given(x)}" in text
    for y in net.targets:
        assert f"target {fmt_given(y)}" in text
    assert f"η={fmt_given(net.learning_rate)}" in text
    for name, _, value in net.bias_params():
        assert f"{name}={fmt_given(value)}" in text


UP, DOWN, RIGHT = (-1, 0), (1, 0), (0, 1)
# the ways a line goes on from a character, by the way it arrived
GOES = {
    ("─", RIGHT): [RIGHT], ("┼", RIGHT): [RIGHT], ("┼", UP): [UP], ("┼", DOWN): [DOWN],
    ("│", UP): [UP], ("│", DOWN): [DOWN],
    ("┐", RIGHT): [DOWN], ("┘", RIGHT): [UP], ("┤", RIGHT): [UP, DOWN],
    ("┤", UP): [UP], ("┤", DOWN): [DOWN],
    ("└", DOWN): [RIGHT], ("┌", UP): [RIGHT], ("├", UP): [UP, RIGHT], ("├", DOWN): [DOWN, RIGHT],
}  # fmt: skip


def _reached(lines: list[str], y: int, x: int, way=RIGHT) -> set[tuple[int, int]]:
    """Where a line that arrives at (y, x) going ``way`` ends: the (row, column) of each box
    it enters (after a ▶). It passes a crossing straight and turns or forks at a join."""
    ends: set[tuple[int, int]] = set()
    stack = [(y, x, way)]
    seen = set()
    while stack:
        y, x, way = stack.pop()
        if (y, x, way) in seen or not (0 <= y < len(lines) and 0 <= x < len(lines[y])):
            continue
        seen.add((y, x, way))
        ch = lines[y][x]
        if ch == "▶":
            ends.add((y, x + 1))
            continue
        for dy, dx in GOES.get((ch, way), []):
            stack.append((y + dy, x + dx, (dy, dx)))
    return ends


@pytest.mark.parametrize("lesson_id", ["sigmoid-2-2-2", "deep-2-3-2-1", "softmax-ce"])
def test_each_weights_line_reaches_its_target(lesson_id):
    """From the ├ where a weight leaves its source, the line (through the label and a bus)
    arrives at the box of the weight's target, for some bus the line can turn onto."""
    lesson, _, rows = _draw(lesson_id)
    lines = graph_text(rows).splitlines()
    width = max(map(len, lines))
    lines = [line.ljust(width) for line in lines]
    found = 0
    for w in lesson.network.weights:
        label = f"├─ {w.name} {fmt_given(w.value)} "
        hits = [(y, line.index(label)) for y, line in enumerate(lines) if label in line]
        assert len(hits) == 1, label
        y, x = hits[0]
        # from its first join onto a bus (before it, the label and the crossings)
        jx = x + 1
        while lines[y][jx] not in "┤┘┐":
            jx += 1
        ends = _reached(lines, y, jx)
        assert len(ends) == 1, label
        ey, ex = ends.pop()
        # the box there names the target on its first line
        top = max(k for k in range(ey + 1) if lines[k][ex] == "╭")
        assert re.split("[│├]", lines[top + 1][ex + 1 :])[0].strip() == w.target, label
        found += 1
    assert found == len(lesson.network.weights)


def test_values_fill_in_as_they_are_found():
    before = graph_text(_draw("sigmoid-2-2-2", 0)[2])
    _, plan, rows = _draw("sigmoid-2-2-2", 10_000)
    after = graph_text(rows)
    assert "Σ ?" in before and "new ?" in before
    assert "?" not in after
    by_id = {s.id: s for s in plan}
    assert f"out {fmt_value(by_id['out_h1'].value, 5)}" in after
    assert f"new {fmt_value(by_id['new_w1'].value, 5)}" in after
    assert f"∂ {fmt_value(by_id['dE_total/dw1'].value, 5)}" in after
    deep = graph_text(_draw("deep-2-3-2-1", 200)[2])
    assert "δ 0." in deep or "δ −0." in deep


def test_the_current_step_is_highlighted():
    _, plan, rows = _draw("sigmoid-2-2-2", 4)  # sum_o1: h1, h2, o1, w5, w6, b2
    reversed_text = {t.strip() for row in rows for t, st in row if "reverse" in st}
    assert {"w5 0.5", "w6 0.6", "b2=0.35", "h1", "h2", "o1"} <= reversed_text
    assert "w7 0.7" not in reversed_text and "i1" not in reversed_text
    bold_lines = [t for row in rows for t, st in row if st == "bold" and set(t) <= LINES]
    assert bold_lines  # the lit weights' paths


def test_ascii_mode_is_ascii_only():
    for lesson_id in LESSONS:
        text = graph_text(_draw(lesson_id, 30, ascii_only=True)[2])
        assert text.isascii(), lesson_id
        assert "+- w1 " in text and "eta=" in text


def test_a_large_layer_is_cut_with_a_count():
    from netgen import lesson_toml

    from tutor.lesson.reader import parse_lesson

    sizes = [3, 10, 2]
    weights = [[[0.1] * a for _ in range(b)] for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    text = lesson_toml(
        sizes,
        "sigmoid",
        "sigmoid",
        "half_sse",
        weights,
        [[0.0] * 10, [0.0] * 2],
        [0.1, 0.2, 0.3],
        [0.0, 1.0],
    )
    lesson = parse_lesson(text, lesson_id="big")
    drawn = graph_text(graph_rows(lesson.network, {}, set(), 5))
    assert f"{10 - MAX_GRAPH_UNITS} more units" in drawn
    units = lesson.network.layers[1].units
    assert units[MAX_GRAPH_UNITS - 1] in drawn.split()
    assert units[MAX_GRAPH_UNITS] not in drawn.split()


# --- the screen


async def test_f8_opens_the_graph_and_esc_closes_it(tmp_path):
    from tutor.ui.screens.graph import GraphScreen

    app = make_app(tmp_path)
    async with run(app, size=(100, 40)) as pilot:
        await answer_steps(pilot, 4)
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, GraphScreen))
        text = screen_text(app)
        assert "w5 0.5" in text and "Σ 0.41000" in text and "╭─" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, GraphScreen))
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, GraphScreen))
        await pilot.press("f8")
        await wait_for(pilot, lambda: not isinstance(app.screen, GraphScreen))
        assert app.screen.query_one("#answer").has_focus
