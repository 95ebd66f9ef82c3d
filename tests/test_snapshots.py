"""Snapshots of the picker, the quiz mid-lesson, the breakdown, help, the summary and the graph.

Deterministic: fixed size, no cursor blink, an injected clock, and a private progress folder.
Update after an intended change with ``pytest tests/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from apphelpers import answer_steps, make_app, wait_for

SIZE = (80, 24)


async def _ready(pilot) -> None:
    await wait_for(pilot, lambda: pilot.app.session is not None, tries=200)


def test_picker(snap_compare, tmp_path):
    assert snap_compare(make_app(tmp_path, lesson=None), terminal_size=SIZE)


def test_quiz_mid_lesson(snap_compare, tmp_path):
    async def run_before(pilot):
        await _ready(pilot)
        await answer_steps(pilot, 12)
        await pilot.press(*"0.1", "enter")  # a wrong answer with its feedback

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_breakdown(snap_compare, tmp_path):
    async def run_before(pilot):
        await _ready(pilot)
        await answer_steps(pilot, 15)
        await pilot.press("f6")
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare, tmp_path):
    async def run_before(pilot):
        await _ready(pilot)
        await pilot.press("f1")

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_summary(snap_compare, tmp_path):
    async def run_before(pilot):
        await _ready(pilot)
        await answer_steps(pilot)
        for _ in range(10):
            await pilot.pause()

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


async def _graph_at(pilot, answered: int) -> None:
    """Answer ``answered`` steps (to the lesson's decimals), then open the graph (F8)."""
    from apphelpers import fill

    await _ready(pilot)
    session = pilot.app.session
    decimals = session.plan.lesson.quiz.decimals
    for step in list(session.plan)[:answered]:
        await fill(pilot, f"{step.value:.{decimals}f}")
    await pilot.press("f8")
    for _ in range(3):
        await pilot.pause()


def test_graph_sigmoid_2_2_2(snap_compare, tmp_path):
    async def run_before(pilot):
        await _graph_at(pilot, 29)  # the first hidden weight: i1, w1 and h1 lit

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_graph_sigmoid_2_2_2_ascii(snap_compare, tmp_path):
    async def run_before(pilot):
        await _graph_at(pilot, 29)

    app = make_app(tmp_path, ascii_only=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_graph_deep_2_3_2_1(snap_compare, tmp_path):
    """Wider than 80 columns: the whole graph at 120x34, and its scrolled part at 80x24."""

    async def run_before(pilot):
        await _graph_at(pilot, 40)  # the gradient at h1 from both of g1 and g2

    app = make_app(tmp_path, lesson="deep-2-3-2-1")
    assert snap_compare(app, terminal_size=(120, 34), run_before=run_before)


def test_graph_deep_2_3_2_1_at_80x24(snap_compare, tmp_path):
    async def run_before(pilot):
        await _graph_at(pilot, 40)

    app = make_app(tmp_path, lesson="deep-2-3-2-1")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_graph_softmax_ce(snap_compare, tmp_path):
    async def run_before(pilot):
        await _graph_at(pilot, 29)  # the gradient at h1 from all three outputs

    app = make_app(tmp_path, lesson="softmax-ce")
    assert snap_compare(app, terminal_size=(92, 30), run_before=run_before)
