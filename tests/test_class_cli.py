"""The instructor's commands, run as the installed ``tutor``: init, roster add|remove|list,
students and export, on SQLite and on a real PostgreSQL server that two session processes
write to at once."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from classhelpers import WRITER, answer_right, fake_key, session_in, tutor, write_course

from tutor.classroom.course import load_course
from tutor.classroom.database import open_database
from tutor.progress.report import lesson_rows
from tutor.progress.store import ProgressStore


def one_error(out: subprocess.CompletedProcess, *words: str) -> str:
    assert out.returncode == 2 and out.stdout == "", (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tutor: "), lines
    assert "Traceback" not in out.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_a_course_from_an_empty_folder(tmp_path):
    folder = tmp_path / "week3"
    out = tutor("class", "init", str(folder), "--title", "Week 3")
    assert "Week 3" in out.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["course.toml", "host_key", "roster.toml"]
    pub = tmp_path / "alice.pub"
    pub.write_text(fake_key(1, "alice@laptop") + "\n")
    assert (
        "Added alice (1 key)"
        in tutor("class", "roster", "add", "alice", "--key", str(pub), "-C", str(folder)).stdout
    )
    tutor("class", "roster", "add", "bob", "--key", fake_key(2), "-C", str(folder))
    made = tutor("class", "roster", "add", "carol", "--code", "-C", str(folder)).stdout
    code = made.split("enrolment code ")[1].split()[0]
    listed = json.loads(
        tutor("class", "roster", "list", "--format", "json", "-C", str(folder)).stdout
    )
    assert [(s["student"], s["keys"], s["code"]) for s in listed] == [
        ("alice", 1, None),
        ("bob", 1, None),
        ("carol", 0, code),
    ]
    db = open_database(load_course(folder))
    assert db.enrol("carol", code, fake_key(3))
    table = tutor("class", "roster", "list", "-C", str(folder)).stdout
    assert f"{code} (used " in table
    assert "Removed bob" in tutor("class", "roster", "remove", "bob", "-C", str(folder)).stdout
    students = tutor("class", "students", str(folder)).stdout
    assert "2 students on the roster, 0 on now." in students
    assert "alice" in students and "bob" not in students and "enrolled" in students


def test_command_errors_are_one_line(tmp_path):
    folder = write_course(tmp_path / "c")
    one_error(
        tutor("class", "roster", "add", "Bob", "--code", "-C", str(folder), ok=False),
        "not a login name",
    )
    one_error(
        tutor("class", "roster", "add", "dan", "--key", "hello", "-C", str(folder), ok=False),
        "--key",
        "neither a file nor",
    )
    one_error(
        tutor("class", "roster", "add", "alice", "--code", "-C", str(folder), ok=False),
        "roster.toml: students.alice: already on the roster",
    )
    one_error(
        tutor("class", "roster", "remove", "zed", "-C", str(folder), ok=False),
        "students.zed: not on the roster",
    )
    one_error(tutor("class", "students", str(tmp_path / "none"), ok=False), "no such course folder")
    one_error(tutor("class", "init", str(folder), ok=False), "already set up")
    (folder / "roster.toml").write_text('[students.alice]\nkeys = ["ssh-rsa AAAA"]\n')
    line = one_error(
        tutor("class", "export", str(folder), ok=False), "roster.toml: students.alice.keys[0]:"
    )
    assert line.startswith(f"tutor: {folder}/roster.toml: ")
    (folder / "course.toml").write_text(
        'title = "x"\ndatabase = "postgresql://tutor@/nothing?host=/nonexistent"\n'
    )
    (folder / "roster.toml").write_text("")
    one_error(
        tutor("class", "students", str(folder), ok=False), "class database", "cannot be reached"
    )


def test_the_gradebook_counts_as_the_learners_own_report(tmp_path):
    folder = write_course(tmp_path / "c")
    db = open_database(load_course(folder))
    alice = db.progress("alice")
    alice.lock()
    answer_right(session_in(alice), 6)
    home = ProgressStore(tmp_path / "home")
    answer_right(session_in(home), 6)
    home.flush()
    data = json.loads(tutor("class", "export", str(folder), "--format", "json").stdout)
    by_name = {s["student"]: s for s in data["students"]}
    assert list(by_name) == ["alice", "bob", "carol"]  # absent students included
    # when and how long are the clock's: the two sessions ran at different moments
    strip = lambda rows: [  # noqa: E731
        {k: v for k, v in r.items() if k not in ("updated", "seconds")} for r in rows
    ]
    assert strip(by_name["alice"]["lessons"]) == strip(lesson_rows(home))
    assert by_name["bob"]["lessons"] == [] and by_name["carol"]["status"] == "code not used yet"
    assert len(by_name["alice"]["attempts"]) == 6
    rows = list(csv.DictReader(io.StringIO(tutor("class", "export", str(folder)).stdout)))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol"]
    expected = lesson_rows(home)[0]
    assert float(rows[0]["sigmoid-2-2-2"]) == expected["score"] == 6.0
    assert int(rows[0]["sigmoid-2-2-2 steps"]) == expected["total"]
    assert rows[1]["sigmoid-2-2-2"] == "" and rows[2]["sigmoid-2-2-2"] == ""
    out = tmp_path / "grades.csv"
    assert "Exported 3 students" in tutor("class", "export", str(folder), "--out", str(out)).stdout
    assert out.stat().st_mode & 0o777 == 0o600


def test_exam_columns_take_the_exam_entry(tmp_path):
    folder = write_course(
        tmp_path / "c",
        course='title = "x"\nlessons = ["sigmoid-2-2-2"]\n[[exams]]\nlesson = "sigmoid-2-2-2"\n',
    )
    db = open_database(load_course(folder))
    bob = db.progress("bob")
    bob.lock()
    seed = db.exam_seed("bob", "sigmoid-2-2-2")
    answer_right(session_in(bob, mode="exam", seed=seed), 3)
    answer_right(session_in(bob), 1)
    rows = list(csv.DictReader(io.StringIO(tutor("class", "export", str(folder)).stdout)))
    bob_row = next(r for r in rows if r["student"] == "bob")
    assert float(bob_row["sigmoid-2-2-2 exam"]) == 3.0
    assert float(bob_row["sigmoid-2-2-2"]) == 1.0


def writers(folder: Path, jobs: list[tuple[str, int]]) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [sys.executable, str(WRITER), str(folder), student, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for student, n in jobs
    ]


def finish(procs: list[subprocess.Popen]) -> list[list[str]]:
    done = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        done.append([line for line in out.splitlines() if line != "ready"])
    return done


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_processes_writing_at_once_make_one_gradebook(tmp_path, backend, request):
    """Session processes (on two lab hosts, with PostgreSQL) write at the same time; the
    gradebook has every committed answer of every student, and the absent one."""
    database = request.getfixturevalue("pg_server").new_database() if backend != "sqlite" else ""
    roster = "".join(f'[students.s{i}]\nkeys = ["{fake_key(i)}"]\n' for i in range(5))
    folder = write_course(
        tmp_path / "c",
        course=f'title = "x"\nlessons = ["sigmoid-2-2-2"]\ndatabase = "{database}"\n',
        roster=roster,
    )
    counts = {"s0": 8, "s1": 5, "s2": 12, "s3": 3}
    done = finish(writers(folder, list(counts.items())))
    assert [len(d) for d in done] == list(counts.values())
    rows = list(csv.DictReader(io.StringIO(tutor("class", "export", str(folder)).stdout)))
    assert {r["student"]: r["sigmoid-2-2-2"] for r in rows} == {
        "s0": "8.0",
        "s1": "5.0",
        "s2": "12.0",
        "s3": "3.0",
        "s4": "",
    }


def test_the_csv_is_spreadsheet_safe_even_for_a_lesson_files_name(tmp_path):
    """A course lesson file named like a formula: its column and its cells stay text."""
    folder = tmp_path / "c"
    (folder / "mine").mkdir(parents=True)
    lesson = Path(__file__).parent.parent / "lessons" / "sigmoid-2-2-2.toml"
    (folder / "mine" / "=SUM(1+1).toml").write_bytes(lesson.read_bytes())
    write_course(folder, course='title = "x"\nlessons = ["mine/=SUM(1+1).toml"]\n')
    out = tutor("class", "export", str(folder)).stdout
    header = next(csv.reader(io.StringIO(out)))
    assert "'=SUM(1+1)" in header and "'=SUM(1+1) steps" in header
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in header)


def test_class_commands_never_import_textual(tmp_path):
    folder = write_course(tmp_path / "c")
    for command in (
        ["students", str(folder)],
        ["export", str(folder)],
        ["roster", "list", "-C", str(folder)],
    ):
        code = (
            "import sys; from tutor.cli import main; rc = main(sys.argv[1:]);"
            "assert not any(m.startswith('textual') for m in sys.modules), 'textual imported';"
            "sys.exit(rc)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, "class", *command], capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
