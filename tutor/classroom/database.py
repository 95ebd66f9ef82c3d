"""The class database: every student's attempt log, the keys bound by enrolment codes, the
logins, and each exam's seed and start. A SQLite file (WAL) in the course folder by default,
or a PostgreSQL server named by ``database = "postgresql://…"`` in ``course.toml``
(:mod:`tutor.classroom.backends`); one schema (:mod:`tutor.classroom.schema`) for both.

Safe for many session processes at once: each process opens its own connection (one made
before a ``fork`` is never used after it), writers wait their turn, and every change is one
transaction.
"""

from __future__ import annotations

import os
import random
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor.classroom.backends import (
    Backend,
    DatabaseFailed,
    PostgresBackend,
    SQLiteBackend,
)
from tutor.classroom.course import Course
from tutor.classroom.lessonsteps import LessonSteps, course_steps
from tutor.classroom.roster import KeyError_, Student, load_roster, public_key, same_code
from tutor.classroom.schema import FILLS, MIGRATIONS_TABLE, VERSION, statements
from tutor.classroom.store import ClassProgress

__all__ = ["ClassDatabase", "ClassProgress", "DatabaseFailed", "open_database"]

#: the transaction lock that keeps two processes from migrating at once (PostgreSQL)
MIGRATION_LOCK = 0x7475746F72_00  # "tutor", 0


def open_database(course: Course) -> ClassDatabase:
    """The course's database, its schema brought up to date. Raises
    :class:`DatabaseFailed` with one line that names the database."""
    backend: Backend
    if course.database:
        backend = PostgresBackend(course.database)
    else:
        backend = SQLiteBackend(course.sqlite_file)
    try:
        migrate(backend, course_steps([*course.lessons, *(e.lesson for e in course.exams)]))
    except BaseException:
        backend.close()
        raise
    return ClassDatabase(course, backend)


def migrate(backend: Backend, steps: LessonSteps | None = None) -> int:
    """Run the migrations the database has not had, in order; its version after. A
    database already up to date is only read (every session process opens it: none of them
    should wait for a write lock to find nothing to do)."""
    have = _version(backend)
    if have == VERSION:
        return have
    with backend.transaction() as run:
        if backend.dialect == "postgresql":
            run("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
        run(MIGRATIONS_TABLE, ())
        rows = run("SELECT max(version) FROM migrations", ())
        have = int(rows[0][0] or 0)
        if have > VERSION:
            raise DatabaseFailed(
                f"the class database {backend.where} was made by a newer version of the tutor "
                f"(schema {have}; this one knows up to {VERSION}): upgrade backprop-tutor"
            )
        for version in range(have + 1, VERSION + 1):
            for sql in statements(version, backend.dialect):
                run(sql, ())
            if version in FILLS:
                from tutor.classroom import summaries

                getattr(summaries, FILLS[version])(run, backend.dialect, steps)
            run("INSERT INTO migrations (version, applied) VALUES (?, ?)", (version, _now()))
    return max(have, VERSION)


def _version(backend: Backend) -> int | None:
    """The schema version a database has, None if it has no migrations table yet."""
    try:
        rows = backend.run("SELECT max(version) FROM migrations", ())
    except DatabaseFailed:
        return None
    return int(rows[0][0] or 0)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _time(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


class ClassDatabase:
    """What the class server and the instructor's commands ask of the database."""

    def __init__(self, course: Course, backend: Backend):
        self.course = course
        self.backend = backend
        self.warnings: list[str] = []
        self._roster: dict[str, Student] | None = None
        self._roster_seen: tuple[int, int, int] | None = None
        self._steps: LessonSteps | None = None

    @property
    def lesson_steps(self) -> LessonSteps:
        """The course's lessons' steps, opened once (the gradebook rows kept with each
        answer are counted against them)."""
        if self._steps is None:
            self._steps = course_steps(
                [*self.course.lessons, *(e.lesson for e in self.course.exams)]
            )
        return self._steps

    @property
    def where(self) -> str:
        return self.backend.where

    def clock(self) -> str:
        """Now, as the database keeps times (ISO 8601, UTC)."""
        return _now()

    # --- the roster, read again whenever the instructor changes it
    def roster(self) -> dict[str, Student]:
        """The roster as it is now: read again when roster.toml changed (a running server
        sees students added or removed). A file made invalid by an edit keeps the last good
        roster in use, with a warning; :class:`CourseError` only if none was ever read."""
        path = self.course.roster_file
        try:
            info = path.stat()
            seen = (info.st_mtime_ns, info.st_size, info.st_ino)
        except OSError:
            seen = None
        if self._roster is None or seen != self._roster_seen:
            from tutor.classroom.tomlfile import CourseError

            try:
                self._roster = load_roster(self.course.folder)
            except CourseError as err:
                if self._roster is None:
                    raise
                self.warnings.append(f"the roster was not read again: {err}")
            self._roster_seen = seen
        return self._roster

    # --- who may log in
    def student_for_key(self, name: str, key: str) -> bool:
        """Whether the public key line ``key`` is roster student ``name``'s: listed in the
        roster, or bound by the student's current enrolment code."""
        student = self.roster().get(name)
        if student is None:
            return False
        try:
            offered = public_key(key)
        except KeyError_:
            return False
        if offered in student.keys:
            return True
        if student.code is None:
            return False
        rows = self.backend.run(
            "SELECT code FROM enrolments WHERE student = ? AND pubkey = ?", (name, offered)
        )
        return any(same_code(code, student.code) for (code,) in rows)

    def enrol(self, name: str, code: str, key: str) -> bool:
        """Bind ``key`` to ``name`` if ``code`` is that student's enrolment code and is not
        spent yet; spends it. A key that is already another student's is refused."""
        student = self.roster().get(name)
        if student is None or student.code is None or not same_code(code, student.code):
            return False
        try:
            offered = public_key(key)
        except KeyError_:
            return False
        roster = self.roster()
        if any(offered in s.keys for s in roster.values() if s.name != name):
            return False
        with self.backend.transaction() as run:
            others = run(
                "SELECT student, code FROM enrolments WHERE pubkey = ? AND student <> ?",
                (offered, name),
            )
            for other, other_code in others:
                theirs = roster.get(other)
                if theirs is not None and theirs.code and same_code(other_code, theirs.code):
                    return False  # bound to another student by their code
            made = run(
                "INSERT INTO enrolments (student, code, pubkey, at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING RETURNING student",
                (name, student.code, offered, _now()),
            )
        return bool(made)

    def enrolled(self) -> dict[str, datetime]:
        """When each student's current enrolment code was spent."""
        roster = self.roster()
        rows = self.backend.run("SELECT student, code, at FROM enrolments", ())
        found = {}
        for name, code, at in rows:
            student = roster.get(name)
            when = _time(at)
            if student is not None and student.code and same_code(code, student.code) and when:
                found[name] = when
        return found

    # --- progress
    def progress(self, name: str) -> ClassProgress:
        """Student ``name``'s progress (the server's authenticated login, never a name a
        client sent)."""
        return ClassProgress(self, name)

    def locked_message(self, name: str) -> str:
        """Why a second session of ``name`` is refused, with where the first one is."""
        rows = self.backend.run(
            "SELECT server, opened FROM sessions WHERE student = ? AND closed IS NULL"
            " ORDER BY id DESC LIMIT 1",
            (name,),
        )
        where = ""
        if rows:
            server, opened = rows[0]
            since = _time(opened)
            at = f" since {since.astimezone().strftime('%H:%M')}" if since else ""
            where = f" (on {server}{at})"
        return f"another session of yours is already open{where}; close it first"

    # --- logins
    def session_opened(self, name: str, host: str, pid: int) -> int:
        """Record a login (``host``: where the client came from or the lab host, as the
        server chooses); its id, for :meth:`session_closed`."""
        with self.backend.transaction() as run:
            rows = run(
                "INSERT INTO sessions (student, host, server, pid, opened)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                (name, host, socket.gethostname(), pid, _now()),
            )
            self.backend.announce(run, name)
        return int(rows[0][0])

    def session_closed(self, session_id: int, how: str) -> None:
        """Record how a login ended ("quit", "dropped", "idle", "refused", ...)."""
        with self.backend.transaction() as run:
            closed = run(
                "UPDATE sessions SET closed = ?, how = ? WHERE id = ? AND closed IS NULL"
                " RETURNING student",
                (_now(), how, session_id),
            )
            for (name,) in closed:
                self.backend.announce(run, name)

    def online(self) -> dict[str, datetime]:
        """Who is on now, and since when. A login counts while it is not closed and its
        session is alive: the student's session lock is held, or its process still runs on
        this host (a session killed with ``kill -9`` never recorded its end)."""
        rows = self.backend.run(
            "SELECT student, server, pid, opened FROM sessions WHERE closed IS NULL ORDER BY id",
            (),
        )
        here = socket.gethostname()
        on: dict[str, datetime] = {}
        for name, server, pid, opened in rows:
            since = _time(opened)
            if since is None:
                continue
            if self.backend.lock_held(name) or (server == here and _alive(int(pid))):
                on.setdefault(name, since)
        return on

    def last_seen(self) -> dict[str, datetime]:
        """Each student's latest login."""
        rows = self.backend.run("SELECT student, max(opened) FROM sessions GROUP BY student", ())
        return {name: t for name, at in rows if (t := _time(at)) is not None}

    # --- exams
    def exam_seed(self, name: str, lesson: str) -> int:
        """The student's numbers for an exam: drawn at the first ask, then always the same
        (every process and host reads the one row)."""
        seed = random.SystemRandom().randrange(10**6)
        with self.backend.transaction() as run:
            run(
                "INSERT INTO exams (student, lesson, seed) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (name, lesson, seed),
            )
            rows = run("SELECT seed FROM exams WHERE student = ? AND lesson = ?", (name, lesson))
        return int(rows[0][0])

    def exam_started(self, name: str, lesson: str) -> datetime | None:
        """When the student started the exam, or None if they have not."""
        rows = self.backend.run(
            "SELECT started FROM exams WHERE student = ? AND lesson = ?", (name, lesson)
        )
        return _time(rows[0][0]) if rows else None

    def exam_start(self, name: str, lesson: str) -> datetime:
        """Record the exam's start (its seed drawn if need be) the first time; the first
        start, which the time limit counts from, whatever is asked later."""
        self.exam_seed(name, lesson)
        with self.backend.transaction() as run:
            run(
                "UPDATE exams SET started = ? WHERE student = ? AND lesson = ? AND started IS NULL",
                (_now(), name, lesson),
            )
            rows = run("SELECT started FROM exams WHERE student = ? AND lesson = ?", (name, lesson))
        started = _time(rows[0][0])
        assert started is not None
        return started

    def exam_attempt(self, name: str, lesson: str) -> int:
        """Which attempt at the exam the student is on (1 from the seed's draw), 0 before."""
        rows = self.backend.run(
            "SELECT attempt FROM exams WHERE student = ? AND lesson = ?", (name, lesson)
        )
        return int(rows[0][0]) if rows else 0

    def exam_retake(self, name: str, lesson: str) -> int:
        """Begin the student's next attempt at an exam (the server checks that the exam
        allows one): fresh numbers, not started yet. The attempt's number."""
        last = self.exam_seed(name, lesson)
        seed = random.SystemRandom().randrange(10**6 - 1)
        seed += seed >= last  # never the last attempt's numbers again
        with self.backend.transaction() as run:
            run(
                "UPDATE exams SET attempt = attempt + 1, seed = ?, started = NULL"
                " WHERE student = ? AND lesson = ?",
                (seed, name, lesson),
            )
            rows = run("SELECT attempt FROM exams WHERE student = ? AND lesson = ?", (name, lesson))
        return int(rows[0][0])

    def close(self) -> None:
        self.backend.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


def course_database(folder: Path) -> ClassDatabase:
    """The database of the course in ``folder`` (for the commands)."""
    from tutor.classroom.course import load_course

    return open_database(load_course(folder))
