"""The course's rules as the class server's sessions apply them, on a real class database
(SQLite in a temporary course folder): the course's lessons in its order, and exams on the
student's own seed, inside their window, within their time limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tutor.classroom.course import init_course, load_course
from tutor.classroom.database import open_database
from tutor.classroom.gradebook import grade_rows, students
from tutor.classserver.rules import CourseRules
from tutor.opening import NotOpened, Opening

# the database keeps real times (an exam's start), so the window is set around now
NOW = datetime.now(UTC).replace(microsecond=0)
OPENS = NOW - timedelta(minutes=30)
CLOSES = NOW + timedelta(minutes=90)
EXAM = f"""
[[exams]]
lesson = "sigmoid-2-2-2"
opens = {OPENS.isoformat()}
closes = {CLOSES.isoformat()}
minutes = 45
"""


@pytest.fixture
def course(tmp_path):
    folder = tmp_path / "course"
    init_course(folder, "Rules")
    (folder / "course.toml").write_text(
        'title = "Rules"\nlessons = ["classic-2-2-2", "sigmoid-2-2-2", "tanh-sigmoid"]\n' + EXAM
    )
    (folder / "roster.toml").write_text(
        '[students.alice]\ncode = "K7QM-2XWD"\n[students.bob]\ncode = "K7QM-2XWE"\n'
    )
    course = load_course(folder)
    database = open_database(course)
    yield course, database
    database.close()


def rules(course, name: str = "alice", at: datetime = NOW) -> CourseRules:
    course, database = course
    return CourseRules(course, database, name, database.progress(name), clock=lambda: at)


def lesson(r: CourseRules, lesson_id: str):
    return next(x for x in r.catalogue()[0] if x.id == lesson_id)


def test_the_picker_lists_the_course_in_its_order(course):
    lessons, problems = rules(course).catalogue()
    assert [x.id for x in lessons] == ["classic-2-2-2", "sigmoid-2-2-2", "tanh-sigmoid"]
    assert problems == []


def test_in_its_window_the_exam_lesson_opens_as_the_students_exam_in_any_mode(course):
    r = rules(course)
    seed = course[1].exam_seed("alice", "sigmoid-2-2-2")
    for mode, asked in (("learn", None), ("review", None), ("exam", 12345), ("drill", 7)):
        assert r.admit(lesson(r, "sigmoid-2-2-2"), mode, asked) == ("exam", seed)
    assert course[1].exam_started("alice", "sigmoid-2-2-2") is not None  # the clock runs
    other = rules(course, "bob")
    assert other.admit(lesson(other, "sigmoid-2-2-2"), "exam", None)[1] == course[1].exam_seed(
        "bob", "sigmoid-2-2-2"
    )
    # other lessons open as asked
    assert r.admit(lesson(r, "tanh-sigmoid"), "learn", None) == ("learn", None)
    assert r.first_lesson().id == "sigmoid-2-2-2"  # at login, straight into the exam


def test_the_time_limit_counts_from_the_first_start_and_then_shuts_the_exam(course):
    r = rules(course)
    sigmoid = lesson(r, "sigmoid-2-2-2")
    assert r.seconds_left(sigmoid, "exam") == pytest.approx(45 * 60)  # not started: all of it
    r.admit(sigmoid, "exam", None)
    started = course[1].exam_started("alice", "sigmoid-2-2-2")  # recorded: the real now
    assert abs((started - NOW).total_seconds()) < 600
    later = rules(course, at=started + timedelta(minutes=40))
    assert later.seconds_left(sigmoid, "exam") == pytest.approx(5 * 60, abs=1)
    assert later.seconds_left(sigmoid, "learn") is None
    r.admit(sigmoid, "exam", None)  # opened again: the clock goes on from the first start
    assert course[1].exam_started("alice", "sigmoid-2-2-2") == started
    late = rules(course, at=started + timedelta(minutes=46))
    with pytest.raises(NotOpened, match="Your time for the exam on sigmoid-2-2-2 is up"):
        late.admit(sigmoid, "learn", None)
    assert late.first_lesson() is None  # the picker, not the exam


def test_the_window_closes_the_time_limit_too(course):
    r = rules(course, at=CLOSES - timedelta(minutes=15))
    assert r.seconds_left(lesson(r, "sigmoid-2-2-2"), "exam") == pytest.approx(15 * 60)


def test_before_and_after_the_window_exam_mode_is_refused_and_practice_is_not(course):
    before = rules(course, at=OPENS - timedelta(hours=1))
    sigmoid = lesson(before, "sigmoid-2-2-2")
    with pytest.raises(NotOpened, match=f"opens at {OPENS:%Y-%m-%d %H:%M} UTC"):
        before.admit(sigmoid, "exam", None)
    assert before.admit(sigmoid, "learn", None) == ("learn", None)
    assert before.first_lesson() is None
    after = rules(course, at=CLOSES)
    with pytest.raises(NotOpened, match=f"closed at {CLOSES:%Y-%m-%d %H:%M} UTC"):
        after.admit(sigmoid, "exam", None)
    assert after.admit(sigmoid, "review", None) == ("review", None)


# --- attempts and hints (course.toml's `attempts` and `hints` of an exam)
def retake_course(tmp_path, extra: str):
    folder = tmp_path / "retakes"
    init_course(folder, "Retakes")
    (folder / "course.toml").write_text(
        'title = "Retakes"\nlessons = ["sigmoid-2-2-2"]\n' + EXAM + extra
    )
    (folder / "roster.toml").write_text('[students.alice]\ncode = "K7QM-2XWD"\n')
    return load_course(folder), open_database(load_course(folder))


def take_exam(r: CourseRules, wrong: int = 0):
    """Open the exam as the app does and answer every step: the first ``wrong`` steps once
    wrong first, the rest right."""
    sigmoid = lesson(r, "sigmoid-2-2-2")
    mode, seed = r.admit(sigmoid, "exam", None)
    assert mode == "exam"
    session = Opening(r.store, sigmoid, mode, seed, ruled=True).session()
    assert session.mode == "exam" and not session.complete
    for k in range(session.total_asked):
        step = session.current
        if k < wrong:
            assert not session.submit("12345").advanced
        assert session.submit(f"{step.value:.6f}").advanced
    assert session.complete
    return seed


def test_attempts_give_a_finished_exam_again_on_fresh_numbers_up_to_the_number(tmp_path):
    course, database = retake_course(tmp_path, "attempts = 2\n")
    try:
        r = CourseRules(course, database, "alice", database.progress("alice"), clock=lambda: NOW)
        first = take_exam(r, wrong=3)
        assert database.exam_attempt("alice", "sigmoid-2-2-2") == 1
        assert r.first_lesson() is None  # finished: the picker at login, not a new attempt
        second = take_exam(r)  # opened from the picker: the second attempt
        assert second != first
        assert database.exam_attempt("alice", "sigmoid-2-2-2") == 2
        # no third: the exam opens on the last attempt, finished (its summary)
        assert r.admit(lesson(r, "sigmoid-2-2-2"), "exam", None) == ("exam", second)
        assert database.exam_attempt("alice", "sigmoid-2-2-2") == 2

        found = students(database)
        rows = [x for x in found[0]["lessons"] if x["mode"] == "exam"]
        assert sorted(x["seed"] for x in rows) == sorted([first, second])  # each, in JSON
        scores = {x["seed"]: x["score"] for x in rows}
        assert scores[first] < scores[second]
        book = grade_rows(database, found)[0]
        assert book["sigmoid-2-2-2 exam"] == scores[second]  # the CSV: the best attempt
    finally:
        database.close()


def test_an_attempt_whose_time_ran_out_is_followed_by_a_fresh_one(tmp_path):
    course, database = retake_course(tmp_path, "attempts = 2\n")
    try:
        r = CourseRules(course, database, "alice", database.progress("alice"), clock=lambda: NOW)
        sigmoid = lesson(r, "sigmoid-2-2-2")
        _, first = r.admit(sigmoid, "exam", None)
        opened = Opening(r.store, sigmoid, "exam", first, ruled=True).session()
        opened.submit("12345")  # started, not finished
        database.backend.run(
            "UPDATE exams SET started = ? WHERE student = ?",
            ((NOW - timedelta(minutes=50)).isoformat(), "alice"),
        )
        assert r.seconds_left(sigmoid, "exam") < 0
        mode, second = r.admit(sigmoid, "exam", None)
        assert (mode, database.exam_attempt("alice", "sigmoid-2-2-2")) == ("exam", 2)
        assert second != first
        started = database.exam_started("alice", "sigmoid-2-2-2")  # the new attempt's: now
        assert abs((datetime.now(UTC) - started).total_seconds()) < 60
        left = started.timestamp() + 45 * 60 - NOW.timestamp()  # the rules' clock is NOW
        assert r.seconds_left(sigmoid, "exam") == pytest.approx(left)
        # the app opens the new attempt, not the first one left open
        again = Opening(r.store, sigmoid, "exam", second, ruled=True)
        assert again.seed == second and again.saved == {"steps": {}}
    finally:
        database.close()


def test_one_attempt_is_the_default_and_hints_stay_off(tmp_path):
    course, database = retake_course(tmp_path, "")
    try:
        r = CourseRules(course, database, "alice", database.progress("alice"), clock=lambda: NOW)
        first = take_exam(r)
        assert r.admit(lesson(r, "sigmoid-2-2-2"), "exam", None) == ("exam", first)
        assert database.exam_attempt("alice", "sigmoid-2-2-2") == 1
        assert r.exam_hints(lesson(r, "sigmoid-2-2-2")) is False
    finally:
        database.close()


def test_an_exam_with_hints_gives_them_and_records_them(tmp_path):
    course, database = retake_course(tmp_path, "hints = true\n")
    try:
        r = CourseRules(course, database, "alice", database.progress("alice"), clock=lambda: NOW)
        sigmoid = lesson(r, "sigmoid-2-2-2")
        assert r.exam_hints(sigmoid) is True
        mode, seed = r.admit(sigmoid, "exam", None)
        opening = Opening(r.store, sigmoid, mode, seed, ruled=True)
        opening.exam_hints = r.exam_hints(sigmoid)
        session = opening.session()
        outcome = session.next_hint()
        assert outcome.message == "Hint 1 of 3." and outcome.hint
        assert not session.helps_allowed  # breakdowns and reveals stay shut
        assert "No reveals during an exam" in session.reveal().message
        step = session.current.id
        assert r.store.lesson_state(opening.key)["steps"][step]["hints_asked"] == 1
        # without the course's leave, the same exam gives none
        plain = Opening(r.store, sigmoid, mode, seed, ruled=True).session()
        assert "No hints during an exam" in plain.next_hint().message
    finally:
        database.close()
