"""The course folder, the roster and the class database (SQLite): the contract the class
server uses, checked on real files, real processes and a real tutor session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from classhelpers import answer_right, fake_key, right_steps, session_in, write_course

from tutor.classroom.course import CourseError, init_course, load_course
from tutor.classroom.database import DatabaseFailed, migrate, open_database
from tutor.classroom.roster import (
    Student,
    add_student,
    load_roster,
    new_code,
    public_key,
    remove_student,
)
from tutor.classroom.schema import VERSION
from tutor.progress.interface import ProgressLocked
from tutor.progress.report import lesson_rows
from tutor.progress.store import ProgressStore


def problems(err: CourseError) -> list[str]:
    return str(err).splitlines()


# --- course.toml
def test_init_makes_a_course_that_loads_with_a_private_host_key(tmp_path):
    course = init_course(tmp_path / "c", "Neural networks, week 3")
    assert course.title == "Neural networks, week 3"
    assert course.lessons[0] == "sigmoid-2-2-2" and len(course.lessons) >= 5
    assert course.database == "" and course.max_sessions == 100 and course.idle_minutes == 30
    key = tmp_path / "c" / "host_key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert load_roster(tmp_path / "c") == {}
    assert load_course(tmp_path / "c") == course
    with pytest.raises(CourseError, match="already set up"):
        init_course(tmp_path / "c", "Again")
    assert load_course(tmp_path / "c").title == "Neural networks, week 3"


def test_course_problems_are_all_reported_as_file_where_what(tmp_path):
    folder = write_course(
        tmp_path / "c",
        course=textwrap.dedent(
            """\
            lessons = ["sigmoid-2-2-2", "no-such-lesson", "mine/missing.toml", 3]
            databse = ""
            database = "mysql://x"
            [[exams]]
            lesson = "sigmoid-2-2-2"
            opens = 2026-12-07T09:00:00
            closes = 2026-12-07T08:00:00+01:00
            minutes = 0
            [[exams]]
            opens = 2026-12-07T09:00:00+01:00
            [server]
            max_sessions = -1
            """
        ),
    )
    with pytest.raises(CourseError) as caught:
        load_course(folder)
    lines = problems(caught.value)
    file = str(folder / "course.toml")
    assert all(line.startswith(f"{file}: ") for line in lines), lines
    text = "\n".join(lines)
    for expected in (
        "title: missing",
        "lessons[1]: no lesson 'no-such-lesson'",
        "lessons[2]: no lesson file 'mine/missing.toml'",
        "lessons[3]: must be a string, not a whole number",
        "databse: unknown key (did you mean 'database'?)",
        "database: must be",
        "exams[0].opens: give the time's UTC offset",
        "exams[0].minutes: must be between 1 and",
        "exams[1]: lesson: missing",
        "server.max_sessions: must be between 1 and",
    ):
        assert expected in text, (expected, lines)


def test_exam_windows_and_lesson_files_of_the_course(tmp_path):
    folder = tmp_path / "c"
    (folder / "mine").mkdir(parents=True)
    (folder / "mine" / "own.toml").write_bytes(
        (Path(__file__).parent.parent / "lessons" / "sigmoid-2-2-2.toml").read_bytes()
    )
    write_course(
        folder,
        course=textwrap.dedent(
            """\
            title = "Lab"
            lessons = ["sigmoid-2-2-2", "mine/own.toml"]
            database = "postgresql://tutor@db.example.org/lab"
            [[exams]]
            lesson = "mine/own.toml"
            opens = 2026-12-07T09:00:00+01:00
            closes = 2026-12-07T11:00:00Z
            minutes = 45
            attempts = 2
            hints = true
            """
        ),
    )
    course = load_course(folder)
    own = str((folder / "mine" / "own.toml").resolve())
    assert course.lessons == ("sigmoid-2-2-2", own)
    exam = course.exams[0]
    assert (exam.lesson, exam.minutes, exam.attempts, exam.hints) == (own, 45, 2, True)
    assert exam.opens is not None and exam.opens.utcoffset() is not None
    assert course.exam_for("own") is exam and course.exam_for("sigmoid-2-2-2") is None
    from datetime import datetime

    assert exam.open_at(datetime.fromisoformat("2026-12-07T09:30:00+01:00"))
    assert not exam.open_at(datetime.fromisoformat("2026-12-07T11:00:00+00:00"))
    assert course.database.startswith("postgresql://")


def test_a_course_file_that_is_not_toml_or_not_text_is_one_line(tmp_path):
    folder = write_course(tmp_path / "c")
    (folder / "course.toml").write_bytes(b"title = \xff\n")
    with pytest.raises(CourseError, match=r"course.toml: \(file\): is not UTF-8 text"):
        load_course(folder)
    (folder / "course.toml").write_text("title = [\n")
    with pytest.raises(CourseError, match=r"course.toml: \(toml\): not valid TOML"):
        load_course(folder)
    (folder / "course.toml").write_text('title = "a\\u001b[31m"\n')
    with pytest.raises(CourseError, match="title: contains"):
        load_course(folder)
    with pytest.raises(CourseError, match="no such course folder"):
        load_course(tmp_path / "nowhere")


# --- roster.toml
def test_roster_problems_are_all_reported(tmp_path):
    folder = write_course(
        tmp_path / "c",
        roster=textwrap.dedent(
            f"""\
            [students.Alice]
            keys = ["{fake_key(1)}"]
            [students.bob]
            keys = ["-----BEGIN OPENSSH PRIVATE KEY-----", "ssh-ed25519 !!!", "{fake_key(1)}"]
            [students.carol]
            code = "hello"
            [students.dave]
            [students.erin]
            keys = ["{fake_key(1)}"]
            email = "x"
            """
        ),
    )
    with pytest.raises(CourseError) as caught:
        load_roster(folder)
    text = str(caught.value)
    file = str(folder / "roster.toml")
    assert all(line.startswith(f"{file}: ") for line in problems(caught.value))
    for expected in (
        'students."Alice": not a login name',
        "students.bob.keys[0]: this is a private key: give the public key",
        "students.bob.keys[1]: the key's data is not base64",
        "students.carol.code: not an enrolment code",
        "students.dave: give the student's keys or an enrolment code",
        "students.erin.keys: this key is also bob's",
        "students.erin.email: unknown key",
    ):
        assert expected in text, (expected, text)


def test_public_keys_are_compared_without_their_comment():
    assert public_key(fake_key(5, "me@laptop")) == fake_key(5)
    with pytest.raises(ValueError, match="does not match its type"):
        public_key("ssh-rsa " + fake_key(5).split()[1])


def test_roster_commands_keep_the_instructors_comments(tmp_path):
    folder = write_course(tmp_path / "c")
    roster = folder / "roster.toml"
    roster.write_text("# week 3 lab\n" + roster.read_text() + "\n# late joiners below\n")
    code = new_code()
    add_student(folder, Student("dave", (), code))
    add_student(folder, Student("erin", (fake_key(9),), None))
    assert set(load_roster(folder)) == {"alice", "bob", "carol", "dave", "erin"}
    assert load_roster(folder)["dave"].code == code
    removed = remove_student(folder, "bob")
    assert removed.keys == (fake_key(2),)
    assert set(load_roster(folder)) == {"alice", "carol", "dave", "erin"}
    text = roster.read_text()
    assert "# week 3 lab" in text and "# late joiners below" in text
    with pytest.raises(CourseError, match="students.alice: already on the roster"):
        add_student(folder, Student("alice", (fake_key(3),), None))
    with pytest.raises(CourseError, match=r"students.zoe.keys: this key is also alice's"):
        add_student(folder, Student("zoe", (fake_key(1),), None))
    assert "zoe" not in roster.read_text()
    with pytest.raises(CourseError, match="students.zed: not on the roster"):
        remove_student(folder, "zed")


# --- the database: every test on SQLite and on a real PostgreSQL server
@pytest.fixture(params=["sqlite", "postgresql"])
def course(request, tmp_path):
    database = ""
    if request.param == "postgresql":
        database = request.getfixturevalue("pg_server").new_database()
    text = f'title = "Lab"\nlessons = ["sigmoid-2-2-2"]\ndatabase = "{database}"\n'
    return load_course(write_course(tmp_path / "c", course=text))


def test_keys_from_the_roster_and_enrolment_codes(course):
    db = open_database(course)
    assert db.student_for_key("alice", fake_key(1, "alice@laptop"))
    assert not db.student_for_key("alice", fake_key(2))  # bob's key
    assert not db.student_for_key("mallory", fake_key(1))
    assert not db.student_for_key("alice", "not a key")
    carol = fake_key(30)
    assert not db.student_for_key("carol", carol)
    assert not db.enrol("carol", "ABCD-EFGX", carol)  # a wrong code
    assert not db.enrol("carol", "abcd efgh", fake_key(1))  # alice's key: one key, one student
    assert db.enrol("carol", "abcd efgh", carol)  # case, space and dash do not matter
    assert db.student_for_key("carol", carol + " carol@lab")
    assert not db.enrol("carol", "ABCD-EFGH", fake_key(31))  # spent
    assert not db.student_for_key("carol", fake_key(31))
    # a new code from the instructor ends the old binding (a lost laptop)
    roster = course.roster_file
    roster.write_text(roster.read_text().replace("ABCD-EFGH", "WXYZ-2345"))
    assert not db.student_for_key("carol", carol)
    assert db.enrol("carol", "WXYZ-2345", fake_key(31))


def test_a_session_writes_through_the_class_store_and_reports_count_as_at_home(course, tmp_path):
    db = open_database(course)
    store = db.progress("alice")
    store.lock()
    done = answer_right(session_in(store), 5)
    store.unlock()
    again = open_database(course).progress("alice")
    assert right_steps(again) == set(done)
    assert open_database(course).progress("bob").lessons() == {}
    home = ProgressStore(tmp_path / "home")
    answer_right(session_in(home), 5)
    home.flush()
    strip = lambda rows: [{k: v for k, v in r.items() if k != "updated"} for r in rows]  # noqa: E731
    assert strip(lesson_rows(again)) == strip(lesson_rows(home))
    assert [a["step"] for a in again.attempts()] == done


def test_one_session_per_student_across_processes(course):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(course.folder), "alice"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        db = open_database(course)
        with pytest.raises(ProgressLocked, match="another session of yours is already open"):
            db.progress("alice").lock()
        db.progress("bob").lock()  # another student is not held back
        assert "alice" in db.online()
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        # a killed session is not shown as on: PostgreSQL drops its lock once the server
        # process has seen the connection close, which a busy machine may take a moment to do
        end = time.monotonic() + 10
        while "alice" in db.online() and time.monotonic() < end:
            time.sleep(0.05)
        assert "alice" not in db.online()
        db.progress("alice").lock()  # the kernel dropped the lock with the process
    finally:
        holder.kill()
        holder.wait()


HOLD = """
import os, sys, time
from pathlib import Path
from tutor.classroom.course import load_course
from tutor.classroom.database import open_database
db = open_database(load_course(Path(sys.argv[1])))
db.session_opened(sys.argv[2], "10.1.2.3", os.getpid())
db.progress(sys.argv[2]).lock()
print("locked", flush=True)
time.sleep(60)
"""


def test_a_second_session_in_the_same_process_is_refused_too(course):
    db = open_database(course)
    db.progress("alice").lock()
    with pytest.raises(ProgressLocked):
        db.progress("alice").lock()


def test_a_forged_entry_cannot_change_who_it_is_recorded_for(course):
    db = open_database(course)
    alice = db.progress("alice")
    alice.lock()
    forged = {
        "time": "2026-12-04T10:00:00+0000",
        "event": "answer",
        "lesson": "sigmoid-2-2-2",
        "lesson_key": "sigmoid-2-2-2",
        "step": "sum_h1",
        "student": "bob",
        "user": "bob",
        "record": {"status": "correct", "attempts": 1, "points": 1.0},
    }
    alice.record(forged)
    bob = open_database(course).progress("bob")
    assert bob.lessons() == {} and bob.attempts() == []
    assert right_steps(open_database(course).progress("alice")) == {"sum_h1"}
    rows = db.backend.run("SELECT student FROM events", ())
    assert rows == [("alice",)]


def test_an_event_of_the_wrong_shape_is_not_kept(course):
    from tutor.progress.interface import ProgressNotSaved

    store = open_database(course).progress("alice")
    with pytest.raises(ProgressNotSaved, match="wrong shape"):
        store.record(
            {"event": "answer", "lesson_key": "x", "step": "y", "record": {"attempts": -1}}
        )
    assert store.attempts() == []


def test_exam_seeds_are_drawn_once_and_kept_across_processes(course):
    db = open_database(course)
    assert db.exam_started("alice", "sigmoid-2-2-2") is None
    seed = db.exam_seed("alice", "sigmoid-2-2-2")
    out = subprocess.run(
        [sys.executable, "-c", SEED_OF, str(course.folder)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == seed
    started = db.exam_start("alice", "sigmoid-2-2-2")
    time.sleep(0.01)
    assert db.exam_start("alice", "sigmoid-2-2-2") == started
    assert open_database(course).exam_started("alice", "sigmoid-2-2-2") == started
    assert db.exam_started("bob", "sigmoid-2-2-2") is None


def test_an_exam_retake_draws_new_numbers_and_starts_again(course):
    db = open_database(course)
    assert db.exam_attempt("alice", "x") == 0
    first = db.exam_seed("alice", "x")
    db.exam_start("alice", "x")
    assert db.exam_attempt("alice", "x") == 1
    seeds = {first}
    for attempt in (2, 3):
        assert db.exam_retake("alice", "x") == attempt
        assert db.exam_started("alice", "x") is None
        seeds.add(db.exam_seed("alice", "x"))
    assert len(seeds) > 1  # three draws from a million: the same thrice is no chance
    assert db.exam_attempt("bob", "x") == 0


SEED_OF = """
import sys
from pathlib import Path
from tutor.classroom.course import load_course
from tutor.classroom.database import open_database
print(open_database(load_course(Path(sys.argv[1]))).exam_seed("alice", "sigmoid-2-2-2"))
"""


def test_sessions_opened_and_closed(course):
    db = open_database(course)
    sid = db.session_opened("alice", "10.0.0.7", os.getpid())
    assert set(db.online()) == {"alice"}  # this process runs
    db.session_closed(sid, "quit")
    assert db.online() == {}
    assert db.backend.run("SELECT how FROM sessions WHERE id = ?", (sid,)) == [("quit",)]
    assert "alice" in db.last_seen()


def test_each_process_opens_its_own_connection_after_fork(course):
    db = open_database(course)
    store = db.progress("alice")
    store.lock()
    mine = session_in(store)
    answer_right(mine, 1)
    pid = os.fork()
    if pid == 0:  # the child: the parent's connection must not be used
        code = 1
        try:
            child = db.progress("bob")
            child.lock()
            answer_right(session_in(child), 2)
            code = 0 if db.backend._conn is not db.backend._inherited[0] else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    answer_right(mine, 1)  # the parent's connection still works
    assert len(right_steps(open_database(course).progress("bob"))) == 2
    assert len(right_steps(open_database(course).progress("alice"))) == 2


def test_migrations_are_recorded_and_a_newer_database_is_refused(course):
    db = open_database(course)
    versions = db.backend.run("SELECT version FROM migrations ORDER BY version", ())
    assert versions == [(v,) for v in range(1, VERSION + 1)] and VERSION >= 2
    assert migrate(db.backend) == VERSION  # again: nothing to do
    db.backend.run("INSERT INTO migrations (version, applied) VALUES (99, 'x')", ())
    with pytest.raises(DatabaseFailed, match="made by a newer version of the tutor"):
        open_database(course)


def test_the_database_file_is_private(tmp_path):
    course = load_course(write_course(tmp_path / "c"))
    open_database(course)
    assert course.sqlite_file.stat().st_mode & 0o777 == 0o600
