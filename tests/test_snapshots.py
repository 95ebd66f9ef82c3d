"""Snapshots of the picker, the quiz mid-lesson, the breakdown, help and the summary.

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
