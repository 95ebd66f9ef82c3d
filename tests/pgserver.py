"""A real PostgreSQL server for the tests, started by the tests themselves: Debian's
``postgresql`` package (.ci/run installs it), ``initdb`` in a temporary folder, ``pg_ctl``
listening on a Unix socket in that folder only (no TCP port), as a user that is not root
(PostgreSQL refuses to run as root, and CI runs as root: the server is then run as
``nobody`` through ``runuser``)."""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

NOBODY = "nobody"


def binaries() -> Path | None:
    """The folder of Debian's PostgreSQL server programs (the newest), or of those on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version(path: str) -> int:
    try:
        return int(Path(path).parent.parent.name)
    except ValueError:
        return 0


class PgServer:
    """One PostgreSQL cluster in a temporary folder; a fresh database per test."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="tutor-pg-"))
        self.data = self.root / "data"
        self.socket = self.root / "sock"
        self.log = self.root / "server.log"
        self._names = itertools.count(1)
        try:
            self.socket.mkdir()
            if os.geteuid() == 0:  # the server's files belong to the user it runs as
                user = pwd.getpwnam(NOBODY)
                for path in (self.root, self.socket):
                    os.chown(path, user.pw_uid, user.pw_gid)
                os.chmod(self.root, 0o755)  # root (the tests) goes through; others see no data
            self._run("initdb", "-D", str(self.data), "-U", "tutor", "-A", "trust", "-E", "UTF8",
                      "--locale=C", "--no-sync")  # fmt: skip
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", NOBODY, "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, check=check, stdin=subprocess.DEVNULL
        )

    def start(self) -> None:
        options = f"-k {self.socket} -c listen_addresses='' -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def url(self, database: str) -> str:
        return f"postgresql://tutor@/{database}?host={self.socket}"

    def new_database(self) -> str:
        """A new, empty database's URL."""
        import psycopg

        name = f"class{next(self._names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def sql(self, url: str, statement: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []

    def close(self) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.root)
