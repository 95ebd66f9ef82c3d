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
) -> tuple[float, int]:
    """Seconds from fork to ``marker`` in the output, and the child's peak RSS in KiB.

    ``keys`` are typed (each after the previous marker-free pause) before the program is
    asked to quit; the peak RSS is read from the kernel when the child exits.
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
    for k in keys or []:
        os.write(fd, k)
        _drain(fd, 0.15)
    os.kill(pid, signal.SIGTERM)
    _drain(fd, 0.3)
    _, status, usage = os.wait4(pid, 0)
    os.close(fd)
    if found is None:
        raise RuntimeError(f"{argv} never showed {marker!r}; output tail: {buf[-300:]!r}")
    return found, usage.ru_maxrss


def _drain(fd: int, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        ready, _, _ = select.select([fd], [], [], 0.02)
        if ready:
            try:
                if not os.read(fd, 65536):
                    return
            except OSError:
                return
