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
    ready: bytes | None = None,
    settle: float = 0.0,
    until: bytes | None = None,
) -> tuple[float, int]:
    """Seconds from fork to ``marker`` in the output, and the child's peak RSS in KiB.

    ``keys`` are then typed, each followed by a short pause: after ``ready`` has appeared if
    given (for example the tutor's status line once its session is built), and ``settle``
    seconds more. The program is asked to quit after ``until`` has appeared if given (for
    example the summary screen after the last answer); the peak RSS is read from the kernel
    when the child exits. Raises RuntimeError, the child reaped, when a text never appears.
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
        ready_fds, _, _ = select.select([fd], [], [], 0.05)
        if ready_fds:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            buf += chunk
            if marker in buf:
                found = time.perf_counter() - start
                break
    if found is None:
        _stop(pid, fd, signal.SIGKILL)
        raise RuntimeError(f"{argv} never showed {marker!r}; output tail: {buf[-300:]!r}")
    if keys and ready is not None and ready not in buf and not _wait_for(fd, ready, timeout):
        _stop(pid, fd, signal.SIGKILL)
        raise RuntimeError(f"{argv} never showed {ready!r}")
    tail = _drain(fd, settle) if keys else b""
    for k in keys or []:
        os.write(fd, k)
        tail = (tail + _drain(fd, 0.15))[-65536:]
    if until is not None and not _wait_for(fd, until, timeout, tail):
        _stop(pid, fd, signal.SIGKILL)
        raise RuntimeError(f"{argv} never showed {until!r} after the keys")
    return found, _stop(pid, fd, signal.SIGTERM)


def _stop(pid: int, fd: int, sig: int) -> int:
    """Stop the child (draining its output, as a terminal would) and reap it: its peak RSS."""
    os.kill(pid, sig)
    _drain(fd, 0.3)
    _, _, usage = os.wait4(pid, 0)
    os.close(fd)
    return usage.ru_maxrss


def _wait_for(fd: int, text: bytes, seconds: float, seen: bytes = b"") -> bool:
    """Read the output until ``text`` appears (True) or ``seconds`` pass (False); ``seen``
    is output already read. Once found, the rest of that screen is read too."""
    buf, end = seen, time.perf_counter() + seconds
    while text not in buf:
        if time.perf_counter() >= end:
            return False
        if select.select([fd], [], [], 0.05)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return False
            buf += chunk
    _drain(fd, 0.3)
    return True


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
