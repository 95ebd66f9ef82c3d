"""Scores that reflect the work: hints, wrong tries and reveals per lesson in the summary,
`tutor progress` and both export formats; partial credit (`[quiz] credit`) in drills and
exams; the summary's "other" mistakes, so that the mistakes add up to the wrong tries."""

from __future__ import annotations

import csv
import io
import json

import pytest
from apphelpers import answer_steps, make_app, run, screen_text, wait_for
from conftest import LESSONS

from tutor.catalog import open_lesson
from tutor.cli import main
from tutor.lesson.model import Credit, LessonError
from tutor.lesson.reader import load_lesson, parse_lesson
from tutor.opening import LessonRecorder
from tutor.progress.records import EXAM_POINTS
from tutor.progress.report import LESSON_COLUMNS, lesson_rows
from tutor.progress.store import ProgressStore
from tutor.session import QuizSession
from tutor.ui.screens.summary import SummaryScreen, summary_text

SEED_TEXT = (LESSONS / "sigmoid-2-2-2.toml").read_text()
SEED = load_lesson(LESSONS / "sigmoid-2-2-2.toml")
#: the example of docs/lesson-format.md
CREDIT = "credit = { per_wrong = 0.1, per_hint = 0.1, floor = 0.3 }"


def with_quiz(line: str) -> str:
    """The seed lesson with one more line in its [quiz] table."""
    assert "[quiz]\ndecimals = 5\n" in SEED_TEXT
    return SEED_TEXT.replace("[quiz]\ndecimals = 5\n", f"[quiz]\ndecimals = 5\n{line}\n", 1)


def right(s: QuizSession) -> None:
    s.submit(f"{s.current.value:.5f}")


def worked_learn_session(store: ProgressStore) -> QuizSession:
    """Four wrong tries (one recognised), three hint levels and a reveal in learn mode."""
    s = QuizSession(
        open_lesson(SEED), recorder=LessonRecorder(store, "sigmoid-2-2-2"), mode="learn"
    )
    s.submit("9")  # sum_h1: wrong, no diagnosis
    s.submit("7")  # wrong again: hint level 1 comes up by itself
    s.submit("1/0")  # not a number that can be read: neither a try nor a miss
    s.next_hint()  # asked for: level 2
    right(s)
    s.submit("0.41")  # out_h1: the activation forgotten (a recognised mistake)
    s.submit("0.1")  # wrong, no diagnosis: hint level 1
    right(s)
    s.reveal()  # sum_h2
    return s


def test_summary_counts_wrong_tries_hints_and_other_mistakes(tmp_path):
    s = worked_learn_session(ProgressStore(tmp_path))
    data = s.summary()
    assert (data["misses"], data["hints"], data["revealed"]) == (4, 3, ["sum_h2"])
    assert data["mistakes"] == {"activation_forgotten": 1}
    assert data["other"] == 3
    assert sum(data["mistakes"].values()) + data["other"] == data["misses"]
    text = summary_text("t", data, 5).plain
    assert "Wrong tries: 4   Hints: 3   Revealed: 1 (sum_h2)" in text
    assert "Activation left out: 1" in text and "Other (not recognised): 3" in text
    assert "Step credit" not in text  # learn mode: no partial credit, none claimed


def test_undiagnosed_misses_alone_still_list_as_mistakes():
    data = {
        "score": 1,
        "total": 1,
        "carried": [],
        "seconds": 0,
        "revealed": [],
        "mistakes": {},
        "other": 2,
        "misses": 2,
        "hints": 1,
        "loss_history": [],
    }
    text = summary_text("t", data, 5).plain
    assert "Mistakes by kind:\n  Other (not recognised): 2" in text
    assert "No recognised mistakes" not in text


async def test_the_summary_screen_shows_the_work(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await pilot.press(*"9", "enter")  # one wrong try with no diagnosis
        await pilot.pause()
        await answer_steps(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen))
        text = screen_text(app)
        assert "Score: 53/53" in text
        assert "Wrong tries: 1   Hints: 0   Revealed: none" in text
        assert "Other (not recognised): 1" in text


def test_progress_and_export_show_hints_wrong_tries_and_reveals(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path))
    store = ProgressStore(tmp_path)
    worked_learn_session(store)
    exam = QuizSession(
        open_lesson(SEED),
        recorder=LessonRecorder(store, "sigmoid-2-2-2", None, "exam"),
        mode="exam",
    )
    exam.submit("9")
    right(exam)  # half a point
    store.flush()

    rows = {r["mode"]: r for r in lesson_rows(store)}
    learn = rows["learn"]
    assert (learn["misses"], learn["hints"], learn["revealed"]) == (4, 3, 1)
    assert (rows["exam"]["misses"], rows["exam"]["hints"]) == (1, 0)
    # one number type in the score column: learn counts steps, exams add points
    assert learn["score"] == 2.0 and isinstance(learn["score"], float)
    assert rows["exam"]["score"] == EXAM_POINTS[1] and isinstance(rows["exam"]["score"], float)

    assert main(["progress"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "LESSON",
        "SCORE",
        "CORRECT",
        "CARRIED",
        "REVEALED",
        "MISSES",
        "HINTS",
        "TIME",
        "NEXT",
    ]
    learn_line = next(line for line in table if line.startswith("sigmoid-2-2-2 "))
    assert learn_line.split()[1:7] == ["2/53", "2", "0", "1", "4", "3"]

    assert main(["export"]) == 0
    exported = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(exported[0]) == LESSON_COLUMNS
    by_mode = {r["mode"]: r for r in exported}
    assert (by_mode["learn"]["misses"], by_mode["learn"]["hints"]) == ("4", "3")
    assert (by_mode["learn"]["revealed"], by_mode["learn"]["score"]) == ("1", "2.0")
    assert (by_mode["exam"]["misses"], by_mode["exam"]["score"]) == ("1", "0.5")

    assert main(["export", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    learn_json = next(r for r in data["lessons"] if r["mode"] == "learn")
    assert (learn_json["misses"], learn_json["hints"], learn_json["revealed"]) == (4, 3, 1)
    assert {type(r["score"]) for r in data["lessons"]} == {float}
    # the counts come from the attempt log's own records, not from a second tally
    last = {a["step"]: a["record"] for a in data["attempts"] if a["lesson_key"] == "sigmoid-2-2-2"}
    assert sum(r["misses"] for r in last.values()) == 4
    assert sum(r["hint_level"] for r in last.values()) == 3


def credit_lesson(tmp_path, line: str = CREDIT):
    path = tmp_path / "lessons" / "credit-demo.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(with_quiz(line))
    return load_lesson(path)


def test_credit_falls_with_wrong_tries_and_hints_asked_for_in_a_drill(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTOR_LESSONS_PATH", str(tmp_path / "lessons"))
    lesson = credit_lesson(tmp_path)
    assert lesson.quiz.credit == Credit(per_wrong=0.1, per_hint=0.1, floor=0.3)
    store = ProgressStore(tmp_path / "progress")
    s = QuizSession(
        open_lesson(lesson),
        recorder=LessonRecorder(store, "credit-demo", None, "drill"),
        mode="drill",
    )
    right(s)  # sum_h1, first try: 1
    s.next_hint()
    right(s)  # out_h1, one hint asked for: 0.9
    s.submit("9")
    s.submit("9")  # the second wrong try brings hint level 1 up by itself: not charged
    right(s)  # sum_h2: 0.8
    s.next_hint()
    s.next_hint()
    s.submit("9")
    right(s)  # out_h2, two hints asked for and a wrong try: 0.7
    for _ in range(8):
        s.submit("9")
    right(s)  # sum_o1, eight wrong tries: 0.2, raised to the floor 0.3
    s.reveal()  # out_o1: a reveal earns nothing
    points = [s.records[k].points for k in ("sum_h1", "out_h1", "sum_h2", "out_h2", "sum_o1")]
    assert points == [1.0, 0.9, 0.8, 0.7, 0.3]
    assert s.records["out_o1"].points == 0.0
    assert s.score == 3.7
    assert "Step credit: 1 - 0.1 per wrong try - 0.1 per hint asked for, min 0.3" in (
        summary_text("t", s.summary(), 5).plain
    )
    store.flush()
    (row,) = lesson_rows(store)
    assert row["score"] == 3.7 and row["mode"] == "drill"


def test_credit_in_an_exam_replaces_the_halving_points(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTOR_LESSONS_PATH", str(tmp_path / "lessons"))
    lesson = credit_lesson(tmp_path)
    store = ProgressStore(tmp_path / "progress")
    s = QuizSession(
        open_lesson(lesson),
        recorder=LessonRecorder(store, "credit-demo", None, "exam"),
        mode="exam",
    )
    right(s)  # 1
    s.submit("9")
    right(s)  # 0.9 (0.5 without credit)
    for _ in range(3):
        s.submit("9")  # sum_h2 is still lost after three wrong tries: 0
    assert s.score == 1.9
    store.flush()
    (row,) = lesson_rows(store)
    assert (row["score"], row["failed"], row["misses"]) == (1.9, 1, 4)


def test_credit_leaves_learn_mode_and_lessons_without_it_as_they_were(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTOR_LESSONS_PATH", str(tmp_path / "lessons"))
    lesson = credit_lesson(tmp_path)
    learn = QuizSession(open_lesson(lesson), mode="learn")
    learn.next_hint()
    learn.submit("9")
    right(learn)
    assert learn.score == 1.0 and learn.summary()["credit"] is None
    drill = QuizSession(open_lesson(SEED), mode="drill")  # no credit in the lesson
    drill.next_hint()
    drill.submit("9")
    right(drill)
    assert drill.score == 1.0
    assert SEED.quiz.credit is None


@pytest.mark.parametrize(
    ("line", "where", "fragment"),
    [
        ("credit = { per_wrong = 1.5 }", "quiz.credit.per_wrong", "must be a number from 0 to 1"),
        ("credit = { per_hint = -0.1 }", "quiz.credit.per_hint", "must be a number from 0 to 1"),
        ('credit = { floor = "half" }', "quiz.credit.floor", "must be a number, not a string"),
        ("credit = { per_wrng = 0.1 }", "quiz.credit.per_wrng", "did you mean 'per_wrong'"),
        ("credit = 0.1", "quiz.credit", "must be a table, not a number"),
        ("credit = { floor = true }", "quiz.credit.floor", "must be a number, not true/false"),
    ],
)
def test_bad_credit_settings_are_named(line, where, fragment):
    with pytest.raises(LessonError) as err:
        parse_lesson(with_quiz(line), file="x.toml")
    found = [str(p) for p in err.value.problems]
    assert any(p.startswith(f"x.toml: {where}: ") and fragment in p for p in found), found


def test_validate_reports_a_bad_credit_setting(tmp_path, capsys):
    bad = tmp_path / "x.toml"
    bad.write_text(with_quiz("credit = { per_wrong = 2 }"))
    assert main(["validate", str(bad)]) == 1
    assert f"{bad}: quiz.credit.per_wrong: must be a number from 0 to 1" in capsys.readouterr().out


def test_partial_credit_settings_default_to_zero():
    lesson = parse_lesson(with_quiz("credit = { per_wrong = 0.25 }"), file="x.toml")
    assert lesson.quiz.credit == Credit(per_wrong=0.25, per_hint=0.0, floor=0.0)
    assert lesson.quiz.credit.points(5, 0) == 0.0


def test_a_hint_asked_before_wrong_tries_is_still_charged(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTOR_LESSONS_PATH", str(tmp_path / "lessons"))
    store = ProgressStore(tmp_path / "progress")
    s = QuizSession(
        open_lesson(credit_lesson(tmp_path)),
        recorder=LessonRecorder(store, "credit-demo", None, "drill"),
        mode="drill",
    )
    s.next_hint()  # asked for, at the first try
    s.submit("9")
    s.submit("9")  # would have brought level 1 up by itself
    right(s)
    assert s.records["sum_h1"].points == 0.7  # 1 − 2·0.1 − 1·0.1
    store.flush()
    (row,) = lesson_rows(store)
    assert row["score"] == 0.7
