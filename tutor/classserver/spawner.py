"""The server's side of the preloaded process (``forkserver``): start it, ask it for a
session on a pty, learn when that session ends."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tutor.classserver.logline import log


class SpawnerError(Exception):
    """The preloaded process is not there (it failed to start or has died)."""


class Spawner:
    def __init__(self, course_folder: Path | None = None) -> None:
        self.course_folder = course_folder
        self.folder = Path(tempfile.mkdtemp(prefix="tutor-class-"))  # 0700, this user's
        self.path = str(self.folder / "forks")
        self.process: subprocess.Popen[bytes] | None = None
        self._restarting = asyncio.Lock()

    async def start(self, timeout: float = 60.0) -> None:
        """Start the preloaded process and wait until it has loaded the tutor."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # the socket of one that died (a restart)
        env = {**os.environ, "PYTHONUTF8": "1", "MALLOC_ARENA_MAX": "1"}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tutor.classserver.forkserver",
                self.path,
                *([str(self.course_folder)] if self.course_folder is not None else []),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(
            asyncio.to_thread(self.process.stdout.readline), timeout=timeout
        )
        if line.strip() != b"ready":
            raise SpawnerError("the session process did not start (see the lines above)")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    async def restart_if_gone(self) -> None:
        """Start the preloaded process again if it has died (killed, out of memory): the
        sessions it forked run on (their terminals are the server's), new ones need it."""
        async with self._restarting:
            if self.process is None or self.process.poll() is None:
                return
            log("error", what=f"the preloaded process {self.process.pid} ended "
                f"(status {self.process.returncode}); starting it again")  # fmt: skip
            await self.start()
            log("restarted", preload_pid=self.pid)

    async def spawn(self, request: dict[str, Any], tty: int) -> tuple[int, socket.socket]:
        """Fork a session on ``tty`` (closed here once sent): its pid, and the connection
        on which :meth:`wait` hears of its end."""
        loop = asyncio.get_running_loop()
        try:
            await self.restart_if_gone()
        except (OSError, TimeoutError, SpawnerError) as err:
            os.close(tty)
            raise SpawnerError(f"the session process cannot be started again: {err}") from None
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            conn.setblocking(False)
            await loop.sock_connect(conn, self.path)
            socket.send_fds(conn, [json.dumps(request).encode()], [tty])
            answer = (await loop.sock_recv(conn, 256)).decode()
        except OSError as err:
            conn.close()
            raise SpawnerError(f"the session process cannot be reached: {err}") from None
        finally:
            os.close(tty)
        if not answer.startswith("pid "):
            conn.close()
            raise SpawnerError("the session process did not fork a session")
        return int(answer.split()[1]), conn

    @staticmethod
    async def wait(conn: socket.socket) -> int | None:
        """The session's exit code (None if the preloaded process went away first)."""
        loop = asyncio.get_running_loop()
        try:
            answer = (await loop.sock_recv(conn, 256)).decode()
        except OSError:
            answer = ""
        finally:
            conn.close()
        if answer.startswith("exit "):
            return int(answer.split()[1])
        return None

    def stop(self) -> None:
        """Stop the preloaded process (its sessions hang up with the server's ptys)."""
        if self.process is not None and self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for leftover in (Path(self.path), self.folder):
            try:
                leftover.unlink() if leftover.is_socket() else leftover.rmdir()
            except OSError:
                pass
