"""The course folder: ``course.toml`` (the title, the lessons in order, the exams, where the
results are kept, the server's settings), the roster and the server's host key.

Every problem with ``course.toml`` is reported as ``FILE: where: what`` (:class:`CourseError`),
every problem at once, as lesson files are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tutor.classroom.tomlfile import CourseError, check_text, checked, fail, read_toml
from tutor.lesson.fields import Reader
from tutor.locations import LESSON_ID_RE, lesson_files
from tutor.progress import files

__all__ = ["CourseError", "Exam", "Course", "load_course", "init_course", "HOST_KEY"]

COURSE_FILE = "course.toml"
ROSTER_FILE = "roster.toml"
HOST_KEY = "host_key"  # OpenSSH private key (ed25519), made by init, 0600
SQLITE_FILE = "class.db"
TOP_KEYS = {"title", "lessons", "exams", "database", "server"}
EXAM_KEYS = {"lesson", "opens", "closes", "minutes", "attempts", "hints"}
SERVER_KEYS = {"max_sessions", "idle_minutes"}
DATABASE_SCHEMES = ("postgresql://", "postgres://")
MAX_TITLE = 200


@dataclass(frozen=True)
class Exam:
    """A lesson taken as an exam: its window, its time limit from the student's start, how
    many attempts and whether hints are allowed. Each student gets a seed of their own."""

    lesson: str  # a lesson id, or the absolute path of a lesson file of the course
    opens: datetime | None
    closes: datetime | None
    minutes: int | None  # None: the window alone limits the time
    attempts: int = 1
    hints: bool = False

    def open_at(self, when: datetime) -> bool:
        """Whether the exam's window holds ``when`` (an aware datetime)."""
        return (self.opens is None or self.opens <= when) and (
            self.closes is None or when < self.closes
        )


@dataclass(frozen=True)
class Course:
    folder: Path
    title: str
    lessons: tuple[str, ...]  # in course order: lesson ids, or absolute paths of lesson files
    exams: tuple[Exam, ...]
    database: str  # "": the SQLite file class.db in the folder; else a postgresql:// URL
    max_sessions: int = 100
    idle_minutes: int = 30

    @property
    def course_file(self) -> Path:
        return self.folder / COURSE_FILE

    @property
    def roster_file(self) -> Path:
        return self.folder / ROSTER_FILE

    @property
    def host_key(self) -> Path:
        return self.folder / HOST_KEY

    @property
    def sqlite_file(self) -> Path:
        return self.folder / SQLITE_FILE

    def exam_for(self, lesson_id: str) -> Exam | None:
        """The exam set on a lesson (by its id), if there is one."""
        return next((e for e in self.exams if lesson_id in (e.lesson, Path(e.lesson).stem)), None)


def load_course(folder: Path) -> Course:
    """Read and check ``course.toml`` in ``folder``; raise :class:`CourseError` with every
    problem found."""
    folder = Path(folder)
    file = folder / COURSE_FILE
    if not folder.is_dir():
        raise fail(folder, "(folder)", "no such course folder (make one with 'tutor class init')")
    data = read_toml(file)
    r = Reader(str(file))
    check_text(r, data)
    r.keys(data, "", TOP_KEYS)
    title = _title(r, data)
    lessons = tuple(
        ref
        for k, item in enumerate(_list(r, data.get("lessons", []), "lessons"))
        if (ref := _lesson(r, folder, item, f"lessons[{k}]")) is not None
    )
    exams = _exams(r, folder, data.get("exams", []))
    database = _database(r, data.get("database", ""))
    server = r.table(data.get("server", {}), "server") or {}
    r.keys(server, "server", SERVER_KEYS)
    max_sessions = r.integer(server.get("max_sessions", 100), "server.max_sessions", 1, 10_000)
    idle = r.integer(server.get("idle_minutes", 30), "server.idle_minutes", 1, 24 * 60)
    checked(r)
    assert title is not None and max_sessions is not None and idle is not None
    return Course(folder, title, lessons, exams, database, max_sessions, idle)


def _title(r: Reader, data: dict[str, Any]) -> str | None:
    if "title" not in data:
        r.bad("title", "missing: every course needs a title")
        return None
    title = r.text(data["title"], "title")
    if title is not None and (not 0 < len(title.strip()) <= MAX_TITLE or "\n" in title):
        r.bad("title", f"must be one line of 1 to {MAX_TITLE} characters")
        return None
    return title


def _list(r: Reader, value: Any, where: str) -> list[Any]:
    return r.typed(value, where, lambda v: isinstance(v, list), "a list") or []


def _lesson(r: Reader, folder: Path, value: Any, where: str) -> str | None:
    """A lesson of the course: an id known to the tutor, or a lesson file's path relative
    to the course folder (kept as an absolute path, so that any working folder opens it)."""
    ref = r.text(value, where)
    if ref is None:
        return None
    if "/" in ref or os.sep in ref or ref.endswith(".toml"):
        path = (folder / ref).resolve()
        if not path.is_file():
            r.bad(where, f"no lesson file {ref!r} in the course folder")
            return None
        return str(path)
    if not LESSON_ID_RE.match(ref) or ".." in ref:
        r.bad(where, f"{ref!r} is not a lesson id (letters, digits, '-', '_' and '.')")
        return None
    if ref not in lesson_files():
        known = ", ".join(sorted(lesson_files())[:6])
        r.bad(where, f"no lesson {ref!r} (known: {known}; see 'tutor list')")
        return None
    return ref


def _exams(r: Reader, folder: Path, value: Any) -> tuple[Exam, ...]:
    exams = []
    seen: set[str] = set()
    for k, table in enumerate(_list(r, value, "exams")):
        where = f"exams[{k}]"
        if r.table(table, where) is None:
            continue
        r.keys(table, where, EXAM_KEYS)
        if "lesson" not in table:
            r.bad(where, "lesson: missing: name the lesson taken as an exam")
            continue
        lesson = _lesson(r, folder, table["lesson"], f"{where}.lesson")
        opens = _when(r, table.get("opens"), f"{where}.opens")
        closes = _when(r, table.get("closes"), f"{where}.closes")
        if opens is not None and closes is not None and closes <= opens:
            r.bad(f"{where}.closes", "must be after opens")
        minutes = (
            r.integer(table["minutes"], f"{where}.minutes", 1, 7 * 24 * 60)
            if "minutes" in table
            else None
        )
        attempts = r.integer(table.get("attempts", 1), f"{where}.attempts", 1, 100)
        hints = r.boolean(table.get("hints", False), f"{where}.hints")
        if lesson is None or attempts is None or hints is None:
            continue
        if lesson in seen:
            r.bad(f"{where}.lesson", "this lesson already has an exam")
            continue
        seen.add(lesson)
        exams.append(Exam(lesson, opens, closes, minutes, attempts, hints))
    return tuple(exams)


def _when(r: Reader, value: Any, where: str) -> datetime | None:
    """An exam's opening or closing time: a TOML date-time with its UTC offset, so that
    lab hosts in any time zone agree on it."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        r.bad(where, "must be a date and time such as 2026-12-07T09:00:00+01:00")
        return None
    if value.tzinfo is None:
        r.bad(where, "give the time's UTC offset, such as 2026-12-07T09:00:00+01:00 or ...Z")
        return None
    return value


def _database(r: Reader, value: Any) -> str:
    url = r.text(value, "database")
    if url is None:
        return ""
    if url and not url.startswith(DATABASE_SCHEMES):
        r.bad(
            "database",
            'must be "" (the SQLite file class.db in the course folder) or a postgresql:// URL',
        )
        return ""
    return url


# --- making a course folder
COURSE_TEMPLATE = """\
# The course: its title, its lessons in order and its exams (docs/class.md).
title = {title}

# Lesson ids (see 'tutor list') or lesson files relative to this folder.
lessons = [
{lessons}]

# Where the results are kept: "" is the SQLite file class.db in this folder. For several
# lab hosts, one PostgreSQL database: "postgresql://tutor@db.example.org/class"
database = ""

# An exam: a lesson taken once on numbers of each student's own, in a time window.
# [[exams]]
# lesson = "sigmoid-2-2-2"
# opens = 2026-12-07T09:00:00+01:00
# closes = 2026-12-07T11:00:00+01:00
# minutes = 45      # from the student's start
# attempts = 1
# hints = false

[server]
max_sessions = 100
idle_minutes = 30
"""

ROSTER_TEMPLATE = """\
# The students: one [students.NAME] table each, NAME being the login name (ssh NAME@host).
# Give the student's OpenSSH public key, or a one-time enrolment code that binds the key
# the student first logs in with. 'tutor class roster add' writes these for you.
#
# [students.alice]
# keys = ["ssh-ed25519 AAAAC3Nza... alice@laptop"]
#
# [students.bob]
# code = "K7QM-2XWD"
"""


def init_course(folder: Path, title: str) -> Course:
    """Make a course folder: ``course.toml`` with every known lesson in course order, an
    empty roster and the server's host key. An existing course is never overwritten."""
    folder = Path(folder)
    if (folder / COURSE_FILE).exists() or (folder / ROSTER_FILE).exists():
        raise fail(folder / COURSE_FILE, "(file)", "a course is already set up in this folder")
    if not title.strip() or "\n" in title or len(title) > MAX_TITLE:
        raise fail(
            folder / COURSE_FILE, "title", f"must be one line of 1 to {MAX_TITLE} characters"
        )
    from tutor.classroom.hostkey import HostKeyError, make_host_key
    from tutor.textmode import json_text

    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        lessons = "".join(f"    {json_text(i)},\n" for i in _course_order())
        text = COURSE_TEMPLATE.format(title=json_text(title), lessons=lessons)
        _write_new(folder / COURSE_FILE, text.encode("utf-8"), 0o644)
        _write_new(folder / ROSTER_FILE, ROSTER_TEMPLATE.encode("utf-8"), 0o600)
        if not (folder / HOST_KEY).exists():
            _write_new(folder / HOST_KEY, make_host_key(), 0o600)
    except OSError as err:
        raise fail(folder, "(folder)", f"cannot be written ({err.strerror})") from None
    except HostKeyError as err:
        raise fail(folder / HOST_KEY, "(file)", str(err)) from None
    return load_course(folder)


def _course_order() -> list[str]:
    """The built-in and instructors' lessons in course order (as 'tutor list' shows them)."""
    from tutor.catalog import catalogue

    return [lesson.id for lesson in catalogue()[0]]


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """A new file (never an existing one or a link's target), written whole and flushed,
    then given ``mode``."""
    files.write_new(path, data)
    os.chmod(path, mode)
