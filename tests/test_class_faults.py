"""The class database under faults, as the learner's own store is tested: ``kill -9`` of a
session process in the middle of its answers, a full disk, a read-only database, a
PostgreSQL server that goes away or refuses writes, and a session lock lost with its
connection. No answer whose verdict was shown is ever lost; an answer that cannot be kept
is one clear line and is not counted."""

from __future__ import annotations

import contextlib
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from classhelpers import (
    WRITER,
    fake_key,
    right_steps,
    session_in,
    write_course,
)

from tutor.classroom.course import load_course
from tutor.classroom.database import DatabaseFailed, open_database
from tutor.progress.interface import ProgressLocked, ProgressNotSaved

NOT_SAVED = "Your answers cannot be saved"

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def folder(request, tmp_path):
    database = ""
    if request.param == "postgresql":
        database = request.getfixturevalue("pg_server").new_database()
    return write_course(
        tmp_path / "c",
        course=f'title = "x"\nlessons = ["sigmoid-2-2-2"]\ndatabase = "{database}"\n',
    )


class Lines:
    """A process's output, read line by line without blocking."""

    def __init__(self, proc: subprocess.Popen):
        assert proc.stdout is not None
        self.fd = proc.stdout.fileno()
        self.buf = b""
        self.ended = False

    def read(self, deadline: float, stop: str | None = None) -> list[str]:
        """Whole lines printed until ``deadline`` (or the line ``stop``, or the end)."""
        got: list[str] = []
        while time.monotonic() < deadline and not self.ended:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                got.append(line.decode())
                if got[-1] == stop:
                    return got
            if select.select([self.fd], [], [], 0.002)[0]:
                chunk = os.read(self.fd, 65536)
                self.ended = not chunk
                self.buf += chunk
        while b"\n" in self.buf:  # a line cut short was not printed whole: not confirmed
            line, self.buf = self.buf.split(b"\n", 1)
            got.append(line.decode())
        return got


def test_kill_9_of_a_session_process_loses_no_committed_answer(folder):
    """A session process answers as fast as it can and is killed at a random moment, 12
    times: every answer it confirmed is in the database, at most one more (committed, its
    verdict not yet printed), the database always opens, and the kernel or the server has
    dropped the dead session's lock."""
    rng = random.Random(18)
    db = open_database(load_course(folder))
    kept = 0
    for _ in range(12):
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(folder), "alice", "40", "0.002"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out = Lines(proc)
        try:
            assert out.read(time.monotonic() + 30, stop="ready") == ["ready"]
        except AssertionError:
            proc.kill()
            raise
        confirmed = out.read(time.monotonic() + rng.uniform(0.0, 0.15))
        os.kill(proc.pid, signal.SIGKILL)
        confirmed += out.read(time.monotonic() + 1)  # printed before the kill
        proc.wait()
        now = len(db.progress("alice").attempts())
        assert kept + len(confirmed) <= now <= kept + len(confirmed) + 1, (kept, confirmed, now)
        kept = now
    store = open_database(load_course(folder)).progress("alice")
    store.lock()  # the last killed session's lock went with it
    assert store.warnings == []
    assert kept > 0


@contextlib.contextmanager
def mounted(where: Path, *options: str):
    """A real tmpfs (or bind mount) at ``where``: only as root, where mounting is allowed."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a real small or read-only filesystem needs root (mount)")
    where.mkdir(exist_ok=True)
    made = subprocess.run(["mount", *options, str(where)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount here: {made.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_keeps_every_saved_answer_sqlite(tmp_path):
    """The course folder on a 192 KiB tmpfs, answered until it is full."""
    with mounted(tmp_path / "disk", "-t", "tmpfs", "-o", "size=192k,mode=0700", "tmpfs") as disk:
        folder = write_course(disk / "c")
        store = open_database(load_course(folder)).progress("alice")
        store.lock()
        confirmed: set[str] = set()
        refused = 0
        for _ in range(400):
            s = session_in(store, "exam" if len(confirmed) % 2 else "learn")
            while s.current is not None and refused < 3:
                step = s.current.id
                outcome = s.submit(f"{s.current.value:.6f}")
                if outcome.advanced:
                    confirmed.add(f"{s.mode}:{step}")
                else:
                    assert outcome.message.startswith(
                        f"{NOT_SAVED}: no space left for the class database"
                    ), outcome.message
                    assert s.current.id == step and s.records[step].attempts == 0
                    refused += 1
            if refused >= 3:
                break
        assert refused == 3, "the disk never filled up"
        store.unlock()
        again = open_database(load_course(folder))
        assert again.backend.run("PRAGMA integrity_check", ()) == [("ok",)]
        kept = {f"{a['mode']}:{a['step']}" for a in again.progress("alice").attempts()}
        assert confirmed <= kept


def test_a_read_only_database_is_one_clear_line_sqlite(tmp_path):
    """The course folder seen through a read-only bind mount: answers are refused with
    one line, and nothing is counted."""
    folder = write_course(tmp_path / "c")
    writer = open_database(load_course(folder))
    writer.progress("bob").record(
        {"event": "answer", "lesson_key": "k", "step": "s", "record": {"status": "correct"}}
    )
    view = tmp_path / "view"
    with mounted(view, "--bind", str(folder)):
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True)
        store = open_database(load_course(view)).progress("alice")
        s = session_in(store)
        outcome = s.submit(f"{s.current.value:.6f}")
        assert outcome.message.startswith(NOT_SAVED), outcome.message
        assert "cannot be written (read-only)" in outcome.message
        assert not outcome.advanced and s.records[s.current.id].attempts == 0
        assert open_database(load_course(view)).progress("bob").attempts() != []


# --- PostgreSQL
@pytest.fixture
def pg_folder(pg_server, tmp_path):
    url = pg_server.new_database()
    folder = write_course(
        tmp_path / "c", course=f'title = "x"\nlessons = ["sigmoid-2-2-2"]\ndatabase = "{url}"\n'
    )
    return folder, url


def test_a_postgresql_server_that_goes_away_and_comes_back(pg_server, pg_folder):
    folder, _ = pg_folder
    store = open_database(load_course(folder)).progress("alice")
    store.lock()
    s = session_in(store)
    done = [s.current.id]
    assert s.submit(f"{s.current.value:.6f}").advanced
    unread = open_database(load_course(folder)).progress("bob")  # nothing read yet
    pg_server.stop("immediate")
    try:
        with pytest.raises(ProgressNotSaved, match="cannot be reached"):
            unread.record({"event": "reset", "lesson_key": "*"})
        step = s.current.id
        outcome = s.submit(f"{s.current.value:.6f}")
        assert outcome.message.startswith(f"{NOT_SAVED}: the class database postgresql://")
        assert "cannot be reached" in outcome.message and "\n" not in outcome.message
        assert s.current.id == step and s.records[step].attempts == 0
    finally:
        pg_server.start()
    done.append(s.current.id)
    assert s.submit(f"{s.current.value:.6f}").advanced  # connected again, lock taken again
    assert right_steps(open_database(load_course(folder)).progress("alice")) == set(done)
    with pytest.raises(ProgressLocked):
        open_database(load_course(folder)).progress("alice").lock()


def test_a_read_only_postgresql_database_is_one_clear_line(pg_server, pg_folder):
    folder, url = pg_folder
    store = open_database(load_course(folder)).progress("alice")
    store.lock()
    name = urlsplit(url).path.lstrip("/")
    pg_server.sql(url, f"ALTER DATABASE {name} SET default_transaction_read_only = on")
    pg_server.sql(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )
    s = session_in(store)
    messages = [s.submit(f"{s.current.value:.6f}").message for _ in range(2)]
    assert all(m.startswith(NOT_SAVED) for m in messages), messages
    assert "cannot be written" in messages[1] and "read-only" in messages[1]
    assert s.records[s.current.id].attempts == 0
    admin = pg_server.url("postgres")
    pg_server.sql(admin, f"ALTER DATABASE {name} SET default_transaction_read_only = off")
    pg_server.sql(
        admin, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    )
    s.submit(f"{s.current.value:.6f}")  # the connection was cut: reopened at the next
    assert s.submit(f"{s.current.value:.6f}").advanced


def test_a_lock_lost_with_its_connection_and_taken_by_another_session(pg_server, pg_folder):
    """The first session's connection is cut; a second session of the same student logs
    in; the first must not write over the second: its answers are refused."""
    folder, url = pg_folder
    first = open_database(load_course(folder)).progress("alice")
    first.lock()
    name = urlsplit(url).path.lstrip("/")
    pg_server.sql(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )
    second = open_database(load_course(folder)).progress("alice")
    second.lock()
    s = session_in(first)
    messages = [s.submit(f"{s.current.value:.6f}").message for _ in range(2)]
    assert all(m.startswith(NOT_SAVED) for m in messages)
    assert "another session of yours took over" in messages[1]
    assert second.attempts() == []
    with pytest.raises(ProgressNotSaved):
        first.record({"event": "reset", "lesson_key": "*"})


def test_an_unreachable_database_fails_to_open_with_one_line(tmp_path):
    folder = write_course(
        tmp_path / "c",
        course='title = "x"\ndatabase = "postgresql://tutor@/none?host=/nonexistent"\n',
        roster=f'[students.a]\nkeys = ["{fake_key(1)}"]\n',
    )
    with pytest.raises(
        DatabaseFailed, match=r"^the class database postgresql://.* cannot be reached"
    ):
        open_database(load_course(folder))
