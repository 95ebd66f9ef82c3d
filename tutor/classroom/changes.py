"""Knowing, cheaply, that the class database changed: what keeps ``tutor class watch`` live
within 2 s of an answer while an idle dashboard costs next to nothing.

- SQLite: ``PRAGMA data_version`` on a connection of its own, asked twice a second: it
  changes whenever another connection commits, and asking it reads no table.
- PostgreSQL: ``LISTEN`` on :data:`tutor.classroom.backends.CHANNEL`; every answer's
  transaction sends a ``NOTIFY`` (:mod:`tutor.classroom.store`), delivered when it commits,
  so the waiting thread sleeps in the kernel until then.

:meth:`Changes.wait` blocks (for a thread of its own); it answers True when something may
have changed, and also, once, after an error, so that the caller reads and reports it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

from tutor.classroom.backends import CHANNEL, Backend, PostgresBackend, SQLiteBackend

POLL_SECONDS = 0.5


class Changes:
    """Waits for a change of the database; see the module docstring."""

    def wait(self, timeout: float) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        """Stop watching (the connection is closed)."""


class SQLiteChanges(Changes):
    def __init__(self, path: Path, poll: float = POLL_SECONDS):
        self.path = path
        self.poll = poll
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, timeout=5, check_same_thread=False)
        return self._conn

    def _current(self) -> int | None:
        try:
            return int(self._connection().execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            self.close()  # opened again at the next look
            return None

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            version = self._current()
            if version is None or version != self._version:
                first = self._version is None and version is not None
                self._version = version
                if not first:
                    return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self.poll, left))

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None


class PostgresChanges(Changes):
    def __init__(self, backend: PostgresBackend):
        self.backend = backend
        self._conn: Any = None

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed or self._conn.broken:
            import psycopg

            self._conn = psycopg.connect(
                self.backend.url,
                autocommit=True,
                connect_timeout=10,
                application_name="tutor-watch",
            )
            self._conn.execute(f"LISTEN {CHANNEL}")
        return self._conn

    def wait(self, timeout: float) -> bool:
        import psycopg

        try:
            conn = self._connection()
            for _ in conn.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except psycopg.Error:
            self.close()
            time.sleep(min(timeout, 1.0))  # the server is away: no busy loop
            return True

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def changes_of(backend: Backend) -> Changes:
    if isinstance(backend, SQLiteBackend):
        return SQLiteChanges(backend.path)
    assert isinstance(backend, PostgresBackend)
    return PostgresChanges(backend)
