"""Every number a step needs is on screen, in full, at 80x24 and at the minimum size, in every
mode: for every built-in lesson, the screen shows each given of the current step's formula
(its name, and its value as ``fmt_given`` prints it)."""

from __future__ import annotations

import pytest
from apphelpers import make_app, run, screen_text, wait_for
from conftest import LESSONS
from textual.widgets import Input

from tutor.catalog import open_lesson, read
from tutor.drawing import SIZES, given_shown, unseen_givens
from tutor.ui.screens.base import MIN_HEIGHT, MIN_WIDTH

LESSON_IDS = sorted(p.stem for p in LESSONS.glob("*.toml"))
MAX_CHECKED = 10  # steps looked at per lesson, mode and size: spread over the lesson


def test_the_sizes_checked_include_the_minimum():
    assert (MIN_WIDTH, MIN_HEIGHT) in SIZES


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_tutor_check_finds_every_given_in_the_diagram(lesson_id):
    plan = open_lesson(read(lesson_id), None)
    lesson = plan.lesson
    steps = [(s.id, s.formula.givens()) for s in plan]
    assert unseen_givens(lesson.network, lesson.quiz.decimals, steps) == []


@pytest.mark.parametrize("mode", ["learn", "drill", "exam"])
@pytest.mark.parametrize("lesson_id", LESSON_IDS)
async def test_every_given_of_the_current_step_is_on_screen(tmp_path, lesson_id, mode):
    les = read(lesson_id)
    seed = 3 if mode == "drill" and les.variants is not None else None
    for width, height in SIZES:
        app = make_app(tmp_path / f"{width}", lesson_id, mode=mode, seed=seed)
        async with run(app, size=(width, height)) as pilot:
            session = app.session
            total = session.total_asked
            every = max(1, total // MAX_CHECKED)
            k = 0
            while session.current is not None:
                step = session.current
                if k % every == 0 or k == total - 1:
                    await pilot.pause()
                    text = screen_text(app)
                    missing = [
                        f"{g.name}" for g in step.formula.givens() if not given_shown(g, text)
                    ]
                    assert not missing, (
                        f"{lesson_id} {mode} {width}x{height} {step.id}: {missing}\n{text}"
                    )
                # straight to the screen's own handler: a Pilot key press per step is slow
                app.screen.submit(app.screen.query_one("#answer", Input), repr(step.value))
                assert session.current is not step
                k += 1
            await wait_for(pilot, lambda: type(app.screen).__name__ == "SummaryScreen")
