"""Exams that mean something on one machine: a seed of their own, kept while the exam is
under way whatever is asked for, no method text, only the keys that work, a plain reason
when another mode is asked for, and `solve`/`grade` that keep the exam's numbers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from apphelpers import answer, make_app, run, screen_text
from conftest import LESSONS

from tutor import opening
from tutor.catalog import open_lesson
from tutor.lesson.reader import load_lesson, parse_lesson
from tutor.opening import Opening
from tutor.progress.store import ProgressStore
from tutor.ui.screens.picker import PickerScreen

LESSON = load_lesson(LESSONS / "sigmoid-2-2-2.toml")
EXAM_SEED = 4242


@pytest.fixture
def drawn(monkeypatch):
    """fresh_seed() gives EXAM_SEED first, then other seeds: a seed drawn twice shows."""
    seeds = iter([EXAM_SEED, 777, 778, 779])
    monkeypatch.setattr(opening, "fresh_seed", lambda: next(seeds))


def start_exam(store: ProgressStore, seed: int | None = None, right: bool = False) -> Opening:
    """Open an exam and answer its first step once (wrong, unless ``right``)."""
    op = Opening(store, LESSON, "exam", seed)
    session = op.session(clock=lambda: 0.0)
    session.submit(f"{session.current.value:.5f}" if right else "123")
    store.flush()
    return op


def test_an_exam_draws_a_seed_of_its_own_and_records_it(tmp_path, drawn):
    store = ProgressStore(tmp_path / "p")
    op = start_exam(store)
    assert op.seed == EXAM_SEED and op.key == f"sigmoid-2-2-2@seed={EXAM_SEED}#exam"
    entry = store.lessons()[op.key]
    assert entry["seed"] == EXAM_SEED and entry["mode"] == "exam"
    # its numbers are the variant's, not the lesson's own (which learn mode and solve show)
    assert op.plan()["sum_h1"].value != open_lesson(LESSON)["sum_h1"].value


def test_an_exam_resumes_on_its_own_numbers_whatever_seed_is_asked(tmp_path, drawn):
    store = ProgressStore(tmp_path / "p")
    start_exam(store)
    again = Opening(ProgressStore(tmp_path / "p"), LESSON, "exam")
    assert again.seed == EXAM_SEED and again.saved["steps"]  # resumed, not drawn anew
    other = Opening(store, LESSON, "exam", 5)  # a new seed must not start the exam over
    assert other.seed == EXAM_SEED and other.notice is not None and "seed 5" in other.notice


def test_learn_or_review_during_an_exam_open_that_exam_and_say_why(tmp_path, drawn):
    store = ProgressStore(tmp_path / "p")
    start_exam(store)
    for mode in ("learn", "review", "drill"):
        op = Opening(store, LESSON, mode)
        assert op.mode == "exam" and op.seed == EXAM_SEED  # the exam, not a new one
        assert op.refused is not None
        assert f"{mode.capitalize()} mode on sigmoid-2-2-2 opens again when" in op.refused


def test_a_finished_exam_reopens_its_summary_not_a_new_exam(tmp_path, drawn):
    store = ProgressStore(tmp_path / "p")
    op = Opening(store, LESSON, "exam")
    session = op.session(clock=lambda: 0.0)
    while not session.complete:
        session.submit(f"{session.current.value:.5f}")
    store.flush()
    again = Opening(store, LESSON, "exam")
    assert again.seed == EXAM_SEED and again.saved.get("current") is None
    assert Opening(store, LESSON, "learn").mode == "learn"  # the exam is over


def test_a_lesson_without_variants_keeps_its_own_numbers(tmp_path, drawn):
    text = (LESSONS / "sigmoid-2-2-2.toml").read_text()
    plain = parse_lesson(text.split("[variants]")[0], lesson_id="plain")
    assert plain.variants is None
    op = Opening(ProgressStore(tmp_path / "p"), plain, "exam")
    assert op.seed is None and op.key == "plain#exam"
    assert op.numbers == "the lesson's own numbers"


# --- the screen


def footer_line(app) -> str:
    return screen_text(app).rstrip().splitlines()[-1]


async def test_the_exam_footer_shows_only_the_keys_that_work(tmp_path, drawn):
    app = make_app(tmp_path, mode="exam")
    async with run(app, size=(80, 24)) as pilot:
        await pilot.pause()
        footer = footer_line(app)
        assert "Skip" in footer and "Help" in footer
        for gone in ("Hint", "Breakdown", "Reveal", "Back"):
            assert gone not in footer
        await pilot.press("f2")  # the key is not shown, but says why it does nothing
        await pilot.pause()
        assert "No hints during an exam" in str(app.screen.query_one("#feedback").render())
        await pilot.press("f4", "f4")
        await pilot.pause()
        assert app.session.records["sum_h1"].status == "todo"  # nothing revealed
    app = make_app(tmp_path / "learn")
    async with run(app, size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Hint" in footer_line(app) and "Reveal" in footer_line(app)


async def test_an_exam_shows_no_method_text(tmp_path, drawn):
    app = make_app(tmp_path, mode="exam")
    async with run(app, size=(80, 24)) as pilot:
        text = screen_text(app)
        assert f"seed {EXAM_SEED}" in text and "no hints, no method" in text
        await answer(pilot, f"{app.session.current.value:.5f}")
        assert app.session.current.id == "out_h1"
        text = screen_text(app)
        assert "Exam: no hints, no method text." in text
        assert "Forward pass" not in text and "squeeze" not in text
    app = make_app(tmp_path / "learn")
    async with run(app, size=(80, 24)) as pilot:
        await answer(pilot, f"{app.session.current.value:.5f}")
        assert "Forward pass" in screen_text(app)  # learn mode keeps the method text


async def test_learn_asked_during_an_exam_says_why_on_the_feedback_line(tmp_path, drawn):
    app = make_app(tmp_path, mode="exam")
    async with run(app, size=(80, 24)) as pilot:
        await answer(pilot, "123")
    app = make_app(tmp_path, mode="learn")
    async with run(app, size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.mode == "exam" and app.seed == EXAM_SEED
        said = str(app.screen.query_one("#feedback").render())
        assert "Learn mode on sigmoid-2-2-2 opens again when your exam on it ends" in said
        assert "Here is your exam" in said and "Welcome back" in said
        assert not app._notifications  # no toast over the answer box


async def test_learn_chosen_in_the_picker_during_an_exam_says_why_on_the_picker(tmp_path, drawn):
    app = make_app(tmp_path, mode="exam")
    async with run(app, size=(80, 24)) as pilot:
        await answer(pilot, "123")
    app = make_app(tmp_path, lesson=None, mode="learn")
    async with run(app, size=(80, 24)) as pilot:
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("enter")  # sigmoid-2-2-2, under the cursor: its exam is unfinished
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)  # it stays, and says why where one reads
        said = str(app.screen.query_one("#lesson-intro").render())
        assert "exam" in said and "Choose exam mode (m)" in said
        assert not app._notifications


# --- the command line


def tutor(*args: str, data: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TUTOR_DATA_DIR": data}
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args], capture_output=True, text=True, env=env
    )


def test_solve_and_grade_keep_an_exam_in_progress_to_themselves(tmp_path, drawn):
    data = tmp_path / "p"
    start_exam(ProgressStore(data))
    own = tutor("solve", "sigmoid-2-2-2", data=str(data))
    assert own.returncode == 0 and "0.41" in own.stdout  # the lesson's own numbers
    assert "which are not the exam's numbers" in own.stderr
    exam = tutor("solve", "sigmoid-2-2-2", "--seed", str(EXAM_SEED), data=str(data))
    assert exam.returncode == 2 and not exam.stdout
    assert f"exam on sigmoid-2-2-2 (seed {EXAM_SEED}) is in progress" in exam.stderr
    assert "will not show its numbers until the exam ends" in exam.stderr
    sheet = tmp_path / "answers.csv"
    sheet.write_text("step,answer\nsum_h1,0.5\n")
    graded = tutor("grade", "sigmoid-2-2-2", str(sheet), "--seed", str(EXAM_SEED), data=str(data))
    assert graded.returncode == 2 and "is in progress" in graded.stderr
    # with no exam under way, solve says nothing more
    clean = tutor("solve", "sigmoid-2-2-2", "--seed", str(EXAM_SEED), data=str(tmp_path / "q"))
    assert clean.returncode == 0 and not clean.stderr
