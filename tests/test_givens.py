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
    steps = [(s.id, s.formula.givens(), s.involves) for s in plan]
    assert unseen_givens(lesson.network, lesson.quiz.decimals, steps) == []


@pytest.mark.parametrize(
    "mode, ascii_only", [("learn", False), ("drill", False), ("exam", False), ("learn", True)]
)
@pytest.mark.parametrize("lesson_id", LESSON_IDS)
async def test_every_given_of_the_current_step_is_on_screen(tmp_path, lesson_id, mode, ascii_only):
    les = read(lesson_id)
    seed = 3 if mode == "drill" and les.variants is not None else None
    for width, height in SIZES:
        app = make_app(
            tmp_path / f"{width}", lesson_id, mode=mode, seed=seed, ascii_only=ascii_only
        )
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
                        f"{g.name}"
                        for g in step.formula.givens()
                        if not given_shown(g, text, ascii_only)
                    ]
                    assert not missing, (
                        f"{lesson_id} {mode} {width}x{height} {step.id}: {missing}\n{text}"
                    )
                # straight to the screen's own handler: a Pilot key press per step is slow
                app.screen.submit(app.screen.query_one("#answer", Input), repr(step.value))
                assert session.current is not step
                k += 1
            await wait_for(pilot, lambda a=app: type(a.screen).__name__ == "SummaryScreen")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("mode", ["learn", "drill"])
async def test_the_history_shows_answers_and_values_to_the_decimals_asked(tmp_path, size, mode):
    """`0.8316…` and `−0.104…` were cut where answers are asked to 6 decimals."""
    from tutor.numfmt import fmt_value

    app = make_app(tmp_path, "classic-2-2-2", mode=mode, seed=5 if mode == "drill" else None)
    async with run(app, size=size) as pilot:
        session = app.session
        box = app.screen.query_one("#answer", Input)
        for _ in range(min(6, session.total_asked - 1)):
            step = session.current
            app.screen.submit(box, fmt_value(step.value, 6, ascii_minus=True))
        await pilot.pause()
        text = screen_text(app)
        rows = app.screen.history.keys[-5:]
        for key in rows:
            value = fmt_value(session.plan[key].value, 6)
            assert value in text, f"{key} {value}\n{text}"
            if session.records[key].answer:
                assert session.records[key].answer in text, f"{key}\n{text}"


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
async def test_review_shows_every_given_in_ascii_at_each_size(tmp_path, lesson_id):
    """Review mode fits its drawing as the quiz does: deep-2-3-2-1 cut `b3=0.3` and
    `target_o1` off the right edge in ASCII mode."""
    for width, height in SIZES:
        app = make_app(tmp_path / f"{width}", lesson_id, mode="review", ascii_only=True)
        async with run(app, size=(width, height)) as pilot:
            await wait_for(pilot, lambda a=app: type(a.screen).__name__ == "ReviewScreen")
            screen = app.screen
            steps = list(screen.plan)
            every = max(1, len(steps) // MAX_CHECKED)
            for k, step in enumerate(steps):
                if k % every == 0 or k == len(steps) - 1:
                    await pilot.pause()
                    text = screen_text(app).split("\n" + "-" * 20)[0]  # the drawing alone
                    missing = [
                        g.name for g in step.formula.givens() if not given_shown(g, text, True)
                    ]
                    assert not missing, f"{lesson_id} {width}x{height} {step.id}: {missing}\n{text}"
                screen.action_next()
