"""Run a program in a pseudo-terminal of a fixed size and time when a text first appears."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time


def time_to_text(
    argv: list[str],
    marker: bytes,
    env: dict[str, str],
    cols: int = 80,
    rows: int = 24,
    timeout: float = 20.0,
    keys: list[bytes] | None = None,
    until: bytes | None = None,
    settle: float = 0.0,
) -> tuple[float, int]:
    """Seconds from fork to ``marker`` in the output, and the child's peak RSS in KiB.

    ``keys`` are typed (the first ``settle`` seconds after the marker, each after a short
    pause) before the program is
    asked to quit, after ``until`` has appeared in the output if given (for example the
    summary screen after the last answer); the peak RSS is read from the kernel when the
    child exits.
    """
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    buf = b""
    found = None
    end = start + timeout
    while time.perf_counter() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            buf += chunk
            if found is None and marker in buf:
                found = time.perf_counter() - start
                break
    seen = _drain(fd, settle) if keys else b""
    for k in keys or []:
        os.write(fd, k)
        seen = _drain(fd, 0.15)
    if until is not None and until not in seen and not _wait_for(fd, until, timeout):
        os.kill(pid, signal.SIGKILL)
        os.wait4(pid, 0)
        os.close(fd)
        raise RuntimeError(f"{argv} never showed {until!r} after the keys")
    os.kill(pid, signal.SIGTERM)
    _drain(fd, 0.3)
    _, status, usage = os.wait4(pid, 0)
    os.close(fd)
    if found is None:
        raise RuntimeError(f"{argv} never showed {marker!r}; output tail: {buf[-300:]!r}")
    return found, usage.ru_maxrss


def _wait_for(fd: int, text: bytes, seconds: float) -> bool:
    """Read the output until ``text`` appears (True) or ``seconds`` pass (False)."""
    buf, end = b"", time.perf_counter() + seconds
    while time.perf_counter() < end:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return False
            buf += chunk
            if text in buf:
                _drain(fd, 0.3)  # let the rest of that screen arrive
                return True
    return False


def _drain(fd: int, seconds: float) -> bytes:
    """Read (and return) the output for ``seconds``, as a terminal would."""
    out, end = b"", time.perf_counter() + seconds
    while time.perf_counter() < end:
        ready, _, _ = select.select([fd], [], [], 0.02)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return out
            if not chunk:
                return out
            out += chunk
    return out
