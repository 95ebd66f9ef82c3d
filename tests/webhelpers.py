"""Helpers for the `tutor serve` tests: a real server on a free port, and a learner's
WebSocket session with it. Every process started here is stopped by its own PID."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-B]|.)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 15) -> None:
    """Wait until something listens on 127.0.0.1:port; fail if ``proc`` dies first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc.poll() is not None:
            pytest.fail(f"{proc.args[0]} exited before listening on {port}")
        time.sleep(0.05)
    stop(proc)
    pytest.fail(f"nothing listened on port {port} within {timeout} s")


def need(program: str, package: str) -> str:
    """The path of a program from Debian's packages; skipped without it, failed in CI
    (.ci/run installs it)."""
    found = shutil.which(program) or (
        f"/usr/sbin/{program}" if Path(f"/usr/sbin/{program}").exists() else None
    )
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{program} is missing: .ci/run installs the Debian package {package}")
    pytest.skip(f"needs {program} (Debian package {package}: apt-get install {package})")


def stop(proc: subprocess.Popen, *, group: bool = False) -> None:
    """Stop a process this test started (and, with ``group``, the process group it leads:
    a browser's helpers), by its PID."""
    if proc.poll() is None:
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            if group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
            proc.wait(timeout=10)
    elif group:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # helpers left behind by a dead leader
        except ProcessLookupError:
            pass


def tutor_processes(data: Path) -> list[int]:
    """The live processes whose environment points at this test's progress folder: the
    tutors a server started, which must go with it."""
    marker = f"TUTOR_DATA_DIR={data}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def stop_serve(served: Served, timeout: float = 10) -> list[int]:
    """Stop a server, wait for its tutors to go, and kill (by PID) any that stay: they are
    returned, for a test to say that none did."""
    stop(served.proc)
    end = time.monotonic() + timeout
    while (left := [p for p in tutor_processes(served.data) if p != served.proc.pid]) and (
        time.monotonic() < end
    ):
        time.sleep(0.1)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


@dataclass
class Served:
    """A running `tutor serve`: where it listens, what it printed, where it keeps progress."""

    proc: subprocess.Popen
    port: int
    url: str  # the address it told the learner to open
    token: str | None
    data: Path
    log: Path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, base: str | None = None) -> str:
        base = base or f"ws://127.0.0.1:{self.port}"
        return f"{base}/ws" + (f"/{self.token}" if self.token else "")

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_serve(
    tmp_path: Path, *args: str, lesson: str | None = "sigmoid-2-2-2", port: int | None = None
) -> Served:
    """Start `tutor serve` (on a free port unless ``port``) and wait for the address it
    prints."""
    port = port or free_port()
    data = tmp_path / "data"
    log = tmp_path / f"serve-{port}.log"
    env = {**os.environ, "TUTOR_DATA_DIR": str(data), "TUTOR_NO_BLINK": "1", "COLUMNS": "200"}
    command = [sys.executable, "-m", "tutor", "serve", "--port", str(port), *args]
    if lesson:
        command.append(lesson)
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        found = re.search(r"(https?://\S+/(\?token=(\S+))?)\s*$", log.read_text(), re.M)
        if found and "Ctrl+C" in log.read_text():
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return Served(proc, port, found.group(1), found.group(3), data, log)
        if proc.poll() is not None:
            pytest.fail("tutor serve exited: " + log.read_text())
        time.sleep(0.05)
    stop(proc)
    pytest.fail("tutor serve printed no address in 30 s: " + log.read_text())


def screen_text(raw: bytes) -> str:
    """What a terminal stream writes, with its escape sequences taken out."""
    return ANSI.sub("", raw.decode("utf-8", "replace"))


async def receive_until(
    ws, wanted: str, raw: bytearray, timeout: float = 30, until_closed: bool = False
) -> str:
    """Read the terminal stream until ``wanted`` shows in it (or, with ``until_closed``,
    until the server closes the socket); the text so far."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = await asyncio.wait_for(ws.receive(), timeout=0.5)
        except TimeoutError:
            continue
        if isinstance(msg.data, bytes):
            raw.extend(msg.data)
        elif msg.type.name in ("CLOSE", "CLOSED", "CLOSING", "ERROR"):
            if until_closed:
                return screen_text(bytes(raw))
            break
        if wanted in screen_text(bytes(raw)):
            return screen_text(bytes(raw))
    raise AssertionError(
        f"{wanted!r} never showed; the stream said: {screen_text(bytes(raw))[-2000:]!r}"
    )


async def answer_first_step(
    http, ws_url: str, data: Path, *, origin: str | None = None, headers: dict | None = None
) -> dict:
    """A learner's session over the WebSocket: wait for the first prompt, answer it right,
    and return the saved state once the answer is in it."""
    hdrs = dict(headers or {})
    if origin:
        hdrs["Origin"] = origin
    async with http.ws_connect(f"{ws_url}?width=100&height=30", headers=hdrs) as ws:
        raw = bytearray()
        await receive_until(ws, "sum_h1 =", raw)
        await asyncio.sleep(0.5)  # the engine is prepared just after the first paint
        await ws.send_json(["stdin", "0.41\r"])
        await receive_until(ws, "Correct", raw)
        state_file = data / "state.json"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if state_file.exists():
                state = json.loads(state_file.read_text())
                if "sum_h1" in state["lessons"]["sigmoid-2-2-2"]["steps"]:
                    return state
            await asyncio.sleep(0.1)
        raise AssertionError("the answer never reached the progress store")
