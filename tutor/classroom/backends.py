"""The two places a class database lives, behind one small interface: a SQLite file in the
course folder (the default: nothing to install, one host) and a PostgreSQL server (psycopg 3:
several lab hosts, one gradebook).

Each does three things the rest of the class code needs: run a statement (``?`` marks a
parameter in both), run several in one transaction, and hold a student's session lock.

- **A connection per process.** A connection is never used across ``fork``: a process that
  finds a connection made by its parent leaves it untouched (closing it would close the
  parent's socket or SQLite state) and opens its own.
- **A lost PostgreSQL connection** (the server restarted) is opened again at the next
  statement, and the session locks this process held are taken again; a lock someone else
  took in between is reported as lost, and that session saves nothing more.
- **The session lock.** PostgreSQL: a session-level advisory lock on a 64-bit key drawn
  from the student's name; the server drops it when the connection ends (a killed process,
  a lab host that went down), and any host sees it in ``pg_locks``. SQLite: ``flock`` on a
  lock file per student beside the database (``class.db-locks/NAME``), which the kernel
  drops when the process ends, even on ``kill -9``, so no stale lock row is ever left to
  clear. (SQLite is one host's database: a file shared over NFS is neither safe for SQLite
  nor for ``flock``; several hosts use PostgreSQL.)
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

Row = tuple[Any, ...]
Run = Callable[[str, Sequence[Any]], list[Row]]
#: how long a writer waits for another's transaction (SQLite's write lock) before failing
BUSY_SECONDS = 30.0
CONNECT_SECONDS = 10
#: PostgreSQL: the channel every committed answer and login is announced on
#: (``tutor class watch`` listens to it)
CHANNEL = "tutor_class"


class DatabaseFailed(Exception):
    """The class database could not do what was asked. ``str()`` is the cause in one line
    that names the database ("no space left for the class database /srv/c/class.db")."""


class Backend(ABC):
    dialect: str

    def __init__(self) -> None:
        self._conn: Any = None
        self._pid = -1
        self._mutex = threading.RLock()  # the interface and its workers share the connection
        self._inherited: list[Any] = []  # a parent's connections: kept, never used or closed
        self._held: set[str] = set()  # the students whose session lock this process holds
        self.lost: set[str] = set()  # locks lost with a connection and taken by another

    # --- what differs
    @property
    @abstractmethod
    def where(self) -> str: ...

    @abstractmethod
    def _connect(self) -> Any: ...

    @abstractmethod
    def _broken(self, conn: Any) -> bool: ...

    @abstractmethod
    def _execute(self, conn: Any, sql: str, params: Sequence[Any]) -> list[Row]: ...

    @abstractmethod
    def _transaction(self, conn: Any) -> contextlib.AbstractContextManager[None]: ...

    @abstractmethod
    def _why(self, err: Exception) -> str: ...

    @abstractmethod
    def _errors(self) -> tuple[type[Exception], ...]: ...

    @abstractmethod
    def _try_lock(self, name: str) -> bool: ...

    @abstractmethod
    def _unlock(self, name: str) -> None: ...

    @abstractmethod
    def lock_held(self, name: str) -> bool:
        """Whether any process holds the student's session lock."""

    # --- what is shared
    def _connection(self) -> Any:
        if self._conn is not None and self._pid != os.getpid():
            self._inherited.append(self._conn)  # made before a fork: the parent's
            self._conn = None
            self._held.clear()  # a parent's locks are not this process's
        if self._conn is not None and self._broken(self._conn):
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._conn is None:
            self._conn = self._connect()
            self._pid = os.getpid()
            self._relock()
        return self._conn

    def _relock(self) -> None:  # noqa: B027 (only PostgreSQL's locks go with a connection)
        """Take again the locks a lost connection held (PostgreSQL's go with it)."""

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """One statement in a transaction of its own; its rows."""
        with self._mutex, self._failures():
            return self._execute(self._connection(), sql, params)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Run]:
        """Statements kept together or not at all: committed when the block ends, rolled
        back if it raises."""
        with self._mutex, self._failures():
            conn = self._connection()
            with self._transaction(conn):

                def run(sql: str, params: Sequence[Any] = ()) -> list[Row]:
                    return self._execute(conn, sql, params)

                yield run

    @contextlib.contextmanager
    def _failures(self) -> Iterator[None]:
        try:
            yield
        except self._errors() as err:
            raise DatabaseFailed(self._why(err)) from err
        except OSError as err:  # opening the file, the socket
            raise DatabaseFailed(f"{self.where}: {(err.strerror or str(err)).lower()}") from err

    def batch(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Row]]:
        """Several statements of the transaction under way, in order; each one's rows.
        PostgreSQL sends them together (one round trip, not one each)."""
        with self._mutex, self._failures():
            conn = self._connection()
            return [self._execute(conn, sql, params) for sql, params in statements]

    def announce(self, run: Run, student: str) -> None:  # noqa: B027 (PostgreSQL only)
        """Tell those watching that the student's rows changed, in the transaction ``run``
        belongs to (sent when it commits). SQLite's watchers see its change counter."""

    def lock(self, name: str) -> bool:
        """Hold the student's session lock for this process; False if another holds it."""
        with self._mutex, self._failures():
            if name in self._held:
                return False  # a second session in this process is a second session
            self._connection()
            if not self._try_lock(name):
                return False
            self._held.add(name)
            self.lost.discard(name)
            return True

    def unlock(self, name: str) -> None:
        with self._mutex:
            if name in self._held:
                self._held.discard(name)
                with contextlib.suppress(Exception):
                    self._unlock(name)

    def close(self) -> None:
        with self._mutex:
            for name in list(self._held):
                self.unlock(name)
            if self._conn is not None and self._pid == os.getpid():
                with contextlib.suppress(Exception):
                    self._conn.close()
            self._conn = None


# --- SQLite
class SQLiteBackend(Backend):
    dialect = "sqlite"

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)
        self.locks = self.path.with_name(self.path.name + "-locks")
        self._lock_fds: dict[str, int] = {}

    @property
    def where(self) -> str:
        return str(self.path)

    def _connect(self) -> Any:
        _private_file(self.path)
        conn = sqlite3.connect(
            self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            # FULL: every commit is on the disk before it returns (NORMAL could lose the last
            # answers to a power cut, which the learner's own log never does)
            conn.execute("PRAGMA synchronous=FULL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _broken(self, conn: Any) -> bool:
        return False

    def _execute(self, conn: Any, sql: str, params: Sequence[Any]) -> list[Row]:
        return conn.execute(sql, tuple(params)).fetchall()

    @contextlib.contextmanager
    def _transaction(self, conn: Any) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")  # the write lock first: no deadlock on upgrade
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def _errors(self) -> tuple[type[Exception], ...]:
        return (sqlite3.Error,)

    def _why(self, err: Exception) -> str:
        text = str(err).lower()
        code = getattr(err, "sqlite_errorcode", None)
        if code == sqlite3.SQLITE_FULL or "disk is full" in text:
            return f"no space left for the class database {self.where}"
        if code == sqlite3.SQLITE_READONLY or "readonly" in text:
            return f"the class database {self.where} cannot be written (read-only)"
        if code == sqlite3.SQLITE_BUSY or "locked" in text:
            return f"the class database {self.where} stayed busy for {BUSY_SECONDS:g} s"
        if code == sqlite3.SQLITE_CANTOPEN or "unable to open" in text:
            return f"the class database {self.where} cannot be opened"
        if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return f"the class database {self.where} is damaged ({text})"
        return f"the class database {self.where} failed ({text})"

    # the session lock: flock on a file per student, dropped by the kernel with the process
    def _lock_path(self, name: str) -> Path:
        return self.locks / name

    def _open_lock(self, name: str) -> int:
        self.locks.mkdir(mode=0o700, exist_ok=True)
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        return os.open(self._lock_path(name), flags, 0o600)

    def _try_lock(self, name: str) -> bool:
        fd = self._open_lock(name)
        # a moment of grace: `tutor class students` looks at the lock by taking it briefly
        deadline = time.monotonic() + 0.5
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() > deadline:
                    os.close(fd)
                    return False
                time.sleep(0.02)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.uname().nodename} {os.getpid()}\n".encode())
        self._lock_fds[name] = fd
        return True

    def _unlock(self, name: str) -> None:
        fd = self._lock_fds.pop(name, None)
        if fd is not None:
            os.close(fd)  # the lock goes with the descriptor

    def lock_held(self, name: str) -> bool:
        if name in self._held:
            return True
        try:
            fd = os.open(self._lock_path(name), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return False  # never locked
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)
        return False


def _private_file(path: Path) -> None:
    """The database file made 0600 before SQLite opens it (results are personal); an
    existing one is left as its owner set it. Never made through a symbolic link."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return
    os.close(fd)


# --- PostgreSQL
class PostgresBackend(Backend):
    dialect = "postgresql"

    def __init__(self, url: str):
        super().__init__()
        self.url = url

    @property
    def where(self) -> str:
        return redacted(self.url)

    def _connect(self) -> Any:
        try:
            import psycopg
        except ImportError:
            raise DatabaseFailed(
                "the course's database is PostgreSQL, which needs psycopg: "
                "pip install 'backprop-tutor[class]'"
            ) from None
        return psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=CONNECT_SECONDS,
            application_name="backprop-tutor",
            # a lab host that went away: its connection, and so its students' locks, end
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=5,
            keepalives_count=3,
        )

    def _broken(self, conn: Any) -> bool:
        return bool(conn.closed or conn.broken)

    def _execute(self, conn: Any, sql: str, params: Sequence[Any]) -> list[Row]:
        cur = conn.execute(sql.replace("?", "%s"), tuple(params))
        return cur.fetchall() if cur.description is not None else []

    def _transaction(self, conn: Any) -> contextlib.AbstractContextManager[None]:
        return conn.transaction()

    def _errors(self) -> tuple[type[Exception], ...]:
        import psycopg

        return (psycopg.Error,)

    def _why(self, err: Exception) -> str:
        import psycopg
        from psycopg import errors

        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        if isinstance(err, errors.DiskFull):
            return f"no space left for the class database {self.where}"
        if isinstance(err, (errors.ReadOnlySqlTransaction, errors.InsufficientPrivilege)):
            return f"the class database {self.where} cannot be written ({first})"
        if isinstance(err, psycopg.OperationalError):
            return f"the class database {self.where} cannot be reached ({first})"
        return f"the class database {self.where} failed ({first})"

    def batch(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Row]]:
        with self._mutex, self._failures():
            conn = self._connection()
            with conn.pipeline():
                cursors = [
                    conn.execute(sql.replace("?", "%s"), tuple(params))
                    for sql, params in statements
                ]
            return [c.fetchall() if c.description is not None else [] for c in cursors]

    def announce(self, run: Run, student: str) -> None:
        run("SELECT pg_notify(?, ?)", (CHANNEL, student))

    def _relock(self) -> None:
        for name in list(self._held):
            if not self._try_lock(name):
                self._held.discard(name)
                self.lost.add(name)

    def _try_lock(self, name: str) -> bool:
        rows = self._execute(self._conn, "SELECT pg_try_advisory_lock(?)", (lock_key(name),))
        return bool(rows[0][0])

    def _unlock(self, name: str) -> None:
        if self._conn is not None and not self._broken(self._conn):
            self._execute(self._conn, "SELECT pg_advisory_unlock(?)", (lock_key(name),))

    def lock_held(self, name: str) -> bool:
        key = lock_key(name)
        rows = self.run(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1",
            ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
        )
        return bool(rows[0][0])


def lock_key(name: str) -> int:
    """A student's advisory lock key: 64 bits drawn from the name (a clash between two
    names is as likely as guessing a 64-bit number)."""
    digest = hashlib.blake2b(b"backprop-tutor session/" + name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def redacted(url: str) -> str:
    """A database URL fit for messages and logs: no password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://…"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=user + host))
