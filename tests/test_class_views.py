"""The instructor's views: ``tutor class report`` on a scripted class of 40 students whose
figures the script works out itself (SQLite and a real PostgreSQL server), its formats and
filters, and the live model behind ``tutor class watch`` (following new answers, who is
stuck, the lesson's steps, a student's history, and the change watchers)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from classhelpers import WRITER, answer_right, session_in, tutor, write_course
from classscript import ABSENT, START, STUDENTS, scripted_class

from tutor.classroom.changes import changes_of
from tutor.classroom.course import load_course
from tutor.classroom.database import open_database
from tutor.classroom.live import Room


@pytest.fixture(scope="module")
def sqlite_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("views") / "week3"
    return folder, scripted_class(folder)


def check_report(data, want) -> None:
    """Every figure of the JSON report against the script's own counts."""
    students = {s["student"]: s for s in data["students"]}
    assert list(students) == STUDENTS  # every roster student, in name order
    for name in STUDENTS:
        s = students[name]
        cell = s["lessons"]["sigmoid-2-2-2"]
        if name in ABSENT:
            assert s["absent"] and cell is None
            continue
        assert not s["absent"]
        assert cell["score"] == want.score[name], name
        assert cell["first_try"] == want.first_try[name], name
        assert cell["hints"] == want.hints[name], name
        assert cell["reveals"] == want.reveals[name], name
        assert cell["seconds"] == pytest.approx(want.seconds[name]), name
        assert cell["steps"] == 53
    steps = {q["step"]: q for q in data["questions"]["sigmoid-2-2-2"]}
    assert list(steps)[: len(want.step_ids)] == want.step_ids  # the lesson's order
    for step in want.step_ids:
        q = steps[step]
        assert q["attempts"] == want.attempts[step], step
        assert q["students"] == len(want.answering[step]), step
        rate = want.first_right[step] / len(want.answering[step])
        assert q["first_try_rate"] == pytest.approx(rate, abs=1e-3), step
        assert q["median_seconds"] == pytest.approx(want.median(step)), step
        assert q["mistakes"] == dict(want.mistakes[step]), step
        assert q["unmatched"] == dict(want.unmatched[step].most_common(3)), step
    assert sum(q["attempts"] for q in steps.values()) == sum(want.attempts.values())


def test_the_report_of_a_scripted_class_of_40(sqlite_class):
    folder, want = sqlite_class
    data = json.loads(tutor("class", "report", str(folder), "--format", "json").stdout)
    check_report(data, want)
    assert sum(want.attempts.values()) > 150 and len(want.mistakes) >= 5  # a real mix


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_report_of_a_scripted_class_on_postgresql(tmp_path, backend, pg_server):
    folder = tmp_path / "week3"
    want = scripted_class(folder, pg_server.new_database())
    data = json.loads(tutor("class", "report", str(folder), "--format", "json").stdout)
    check_report(data, want)


def test_report_formats_agree(sqlite_class):
    folder, want = sqlite_class
    rows = list(
        csv.DictReader(
            io.StringIO(
                tutor(
                    "class", "report", str(folder), "--format", "csv", "--only", "gradebook"
                ).stdout
            )  # fmt: skip
        )
    )
    assert [r["student"] for r in rows] == STUDENTS
    for r in rows:
        if r["student"] in ABSENT:
            assert r["absent"] == "absent" and r["sigmoid-2-2-2 score"] == ""
        else:
            assert float(r["sigmoid-2-2-2 score"]) == want.score[r["student"]]
            assert int(r["sigmoid-2-2-2 first try"]) == want.first_try[r["student"]]
    both = tutor("class", "report", str(folder), "--format", "csv").stdout
    gradebook, questions = both.split("\n\n")
    q = list(csv.DictReader(io.StringIO(questions)))
    assert [r["step"] for r in q][:2] == want.step_ids[:2]
    table = tutor("class", "report", str(folder)).stdout
    assert "40 students, 4 absent" in table
    assert "s39" in table and "absent" in table
    assert "Questions of sigmoid-2-2-2" in table
    md = tutor("class", "report", str(folder), "--format", "markdown").stdout
    assert md.startswith("# Week 3") and "| sum\\_h1 |" in md


def test_report_filters(sqlite_class):
    folder, want = sqlite_class
    one = json.loads(
        tutor("class", "report", str(folder), "--format", "json", "--student", "s05").stdout
    )
    assert [s["student"] for s in one["students"]] == ["s05"]
    attempts = sum(q["attempts"] for q in one["questions"]["sigmoid-2-2-2"])
    assert attempts == sum(1 for e in _events(folder) if e == "s05")
    later = (START + timedelta(days=1)).isoformat()
    none = json.loads(
        tutor("class", "report", str(folder), "--format", "json", "--since", later).stdout
    )
    assert all(s["absent"] for s in none["students"]) and none["events"] == 0
    bad = tutor("class", "report", str(folder), "--lesson", "nope", ok=False)
    assert bad.returncode == 2 and "--lesson 'nope': not a lesson of this course" in bad.stderr
    bad = tutor("class", "report", str(folder), "--student", "zed", ok=False)
    assert bad.returncode == 2 and "not on the roster" in bad.stderr
    bad = tutor("class", "report", str(folder), "--since", "last tuesday", ok=False)
    assert bad.returncode == 2 and "--since" in bad.stderr and "Traceback" not in bad.stderr


def _events(folder: Path) -> list[str]:
    """The student of every answer event, read straight from the file."""
    import sqlite3

    conn = sqlite3.connect(folder / "class.db")
    try:
        rows = conn.execute("SELECT student, entry FROM events").fetchall()
    finally:
        conn.close()
    return [s for s, e in rows if json.loads(e)["event"] == "answer"]


def test_the_report_csv_is_spreadsheet_safe(tmp_path):
    folder = tmp_path / "c"
    (folder / "mine").mkdir(parents=True)
    lesson = Path(__file__).parent.parent / "lessons" / "sigmoid-2-2-2.toml"
    (folder / "mine" / "=SUM(1+1).toml").write_bytes(lesson.read_bytes())
    write_course(folder, course='title = "x"\nlessons = ["mine/=SUM(1+1).toml"]\n')
    db = open_database(load_course(folder))
    alice = db.progress("alice")
    alice.lock()
    from classhelpers import SEED

    from tutor.catalog import open_lesson
    from tutor.opening import LessonRecorder
    from tutor.session import QuizSession

    # the server records a course's lesson file by its name
    session = QuizSession(open_lesson(SEED), recorder=LessonRecorder(alice, "=SUM(1+1)"))
    session.submit("-1+9.5")  # typed arithmetic that starts like a formula
    out = tutor("class", "report", str(folder), "--format", "csv").stdout
    gradebook = next(csv.DictReader(io.StringIO(out.split("\n\n")[0])))
    assert gradebook["'=SUM(1+1) steps"] == "53"  # the file was opened for its steps
    assert '"""-1+9.5"" 1' in out  # the answer matched no mistake: shown quoted, as text
    cells = [c for row in csv.reader(io.StringIO(out)) for c in row]
    assert "'=SUM(1+1) score" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells), cells


# --- the live model
def test_the_room_follows_answers_and_finds_who_is_stuck(tmp_path):
    folder = write_course(tmp_path / "c")
    db = open_database(load_course(folder))
    room = Room(open_database(load_course(folder)))
    room.refresh(force_online=True)
    assert [s.student for s in room.rows()] == ["alice", "bob", "carol"]
    assert all(s.lesson is None and not s.online for s in room.rows())
    alice = db.progress("alice")
    alice.lock()
    db.session_opened("alice", "127.0.0.1", 1)
    session = session_in(alice)
    answer_right(session, 3)
    session.submit("7.77")
    session.submit("7.78")
    session.submit("7.79")
    assert room.refresh(force_online=True)
    seat = room.seats["alice"]
    assert seat.online and seat.lesson == "sigmoid-2-2-2" and seat.place == 4
    assert (seat.score, seat.wrong, seat.step_wrong) == (3.0, 3, 3)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    assert seat.stuck(now, 5, 3) == "3 wrong"
    assert seat.stuck(now, 5, 4) is None
    assert seat.stuck(now + timedelta(minutes=6), 5, 4) == "6 min"
    assert room.seats["bob"].stuck(now + timedelta(hours=1), 5, 1) is None  # not on
    bars = room.lesson_view("sigmoid-2-2-2")
    assert [b.passed for b in bars[:4]] == [1, 1, 1, 0]
    assert bars[3].answered == 1 and bars[3].first_try == 0
    history = room.history("alice")
    assert [e.entry["verdict"] for e in history][-3:] == ["incorrect"] * 3
    assert [e.entry["input"] for e in history][-1] == "7.79"
    assert not room.refresh()  # nothing new: nothing read again
    alice.unlock()


def test_sqlite_changes_are_seen_and_an_idle_wait_reads_nothing(tmp_path):
    folder = write_course(tmp_path / "c")
    db = open_database(load_course(folder))
    changes = changes_of(open_database(load_course(folder)).backend)
    assert not changes.wait(0.2)  # the first look only learns where the counter is
    assert not changes.wait(0.6)
    bob = db.progress("bob")
    bob.lock()
    threading.Timer(0.3, lambda: answer_right(session_in(bob), 1)).start()
    began = time.monotonic()
    assert changes.wait(3.0)
    assert time.monotonic() - began < 1.5
    changes.close()


def test_postgresql_changes_come_with_the_answers_commit(tmp_path, pg_server):
    url = pg_server.new_database()
    folder = write_course(
        tmp_path / "c", course=f'title = "x"\nlessons = ["sigmoid-2-2-2"]\ndatabase = "{url}"\n'
    )
    db = open_database(load_course(folder))
    watcher = open_database(load_course(folder))
    changes = changes_of(watcher.backend)
    room = Room(watcher)
    room.refresh()
    assert not changes.wait(0.3)
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), str(folder), "alice", "2", "0.5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready"
    first = writer.stdout.readline().strip()
    committed = time.monotonic()
    while room.seats["alice"].events < 1:
        assert changes.wait(2.0), "no NOTIFY within 2 s of the commit"
        room.refresh()
    assert time.monotonic() - committed < 2.0
    assert room.history("alice")[0].entry["step"] == first
    writer.communicate(timeout=30)
    changes.close()
    db.close()


def test_events_are_read_through_the_shape_checks(tmp_path):
    """What the views read is what a student's store would accept: text made visible,
    events of the wrong shape or with numbers that are not finite left out, with a warning."""
    from tutor.classroom.activity import ClassLog

    folder = write_course(tmp_path / "c")
    db = open_database(load_course(folder))
    alice = db.progress("alice")
    alice.lock()
    answer_right(session_in(alice), 1)
    good = json.loads(db.backend.run("SELECT entry FROM events")[0][0])
    bad_texts = [
        json.dumps({**good, "input": "\x1b[31mred\u202e"}),  # shown, escaped
        json.dumps({**good, "seconds": float("nan")}),  # NaN
        json.dumps(good).replace('"elapsed": ', '"elapsed": 1e999, "x": '),  # overflows
        json.dumps({**good, "record": "not a record"}),
        "{not json",
    ]
    for text in bad_texts:
        db.backend.run(
            "INSERT INTO events (student, at, entry) VALUES (?, ?, ?)", ("alice", db.clock(), text)
        )
    log = ClassLog(db.backend)
    log.follow()
    events = log.of("alice").events
    assert len(events) == 2
    assert events[1].entry["input"] == "\\x1b[31mred\\u202e"
    assert len(log.warnings) == 4 and all("was left out" in w for w in log.warnings)


def test_a_late_commit_with_a_smaller_id_is_not_missed(tmp_path):
    """PostgreSQL draws an id when the row is written and shows the row when it commits: a
    smaller id can appear after a larger one has been read."""
    from tutor.classroom.activity import ClassLog

    folder = write_course(tmp_path / "c")
    db = open_database(load_course(folder))
    bob = db.progress("bob")
    bob.lock()
    answer_right(session_in(bob), 2)
    rows = db.backend.run("SELECT id, entry FROM events ORDER BY id")
    first_id, first = rows[0]
    db.backend.run("DELETE FROM events WHERE id = ?", (first_id,))  # not committed yet
    log = ClassLog(db.backend)
    log.follow()
    assert [e.id for e in log.of("bob").events] == [rows[1][0]]
    db.backend.run(
        "INSERT INTO events (id, student, at, entry) VALUES (?, ?, ?, ?)",
        (first_id, "bob", db.clock(), first),
    )
    assert log.follow() == 1
    assert [e.id for e in log.of("bob").events] == [first_id, rows[1][0]]
    assert len(log.of("bob").lessons()["sigmoid-2-2-2"]["steps"]) == 2


def test_the_exam_columns_give_the_seed_the_time_and_the_window(tmp_path):
    folder = write_course(
        tmp_path / "c",
        course='title = "x"\nlessons = ["sigmoid-2-2-2"]\n'
        '[[exams]]\nlesson = "sigmoid-2-2-2"\nminutes = 45\n',
    )
    db = open_database(load_course(folder))
    bob = db.progress("bob")
    bob.lock()
    seed = db.exam_seed("bob", "sigmoid-2-2-2")
    db.exam_start("bob", "sigmoid-2-2-2")
    answer_right(session_in(bob, mode="exam", seed=seed), 3)
    data = json.loads(tutor("class", "report", str(folder), "--format", "json").stdout)
    exams = {s["student"]: s["exams"]["sigmoid-2-2-2"] for s in data["students"]}
    assert exams["alice"] is None and exams["carol"] is None
    cell = exams["bob"]
    assert (cell["score"], cell["seed"], cell["attempt"]) == (3.0, seed, 1)
    assert cell["finished"] == "not finished" and 0 <= cell["minutes"] < 1
    assert cell["first_try"] == 3
    text = tutor("class", "report", str(folder)).stdout
    assert "Exam sigmoid-2-2-2" in text and str(seed) in text


def test_the_report_never_imports_textual(sqlite_class):
    folder, _ = sqlite_class
    code = (
        "import sys; from tutor.cli import main; rc = main(sys.argv[1:]);"
        "assert not any(m.startswith('textual') for m in sys.modules), 'textual imported';"
        "sys.exit(rc)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "class", "report", str(folder), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
