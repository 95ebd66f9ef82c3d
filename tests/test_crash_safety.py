"""kill -9 at random moments, 100 times: the progress files always load and no answer that
the screen confirmed is ever lost."""

from __future__ import annotations

import fcntl
import os
import pty
import random
import re
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

TUTOR = Path(sys.executable).with_name("tutor")

pytestmark = pytest.mark.slow
CORRECT = re.compile(rb"Correct: (\S+) = ")


def _read(fd: int, seconds: float, buf: bytearray) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if select.select([fd], [], [], 0.01)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk


def test_kill_9_at_random_moments_loses_nothing(tmp_path, seed_plan):
    from tutor.progress.store import ProgressStore

    data = tmp_path / "data"
    env = {
        **os.environ,
        "TUTOR_DATA_DIR": str(data),
        "TERM": "xterm-256color",
        "TUTOR_NO_BLINK": "1",
    }
    by_label = {s.label: s.id for s in seed_plan}
    steps = list(seed_plan)
    rng = random.Random(20261128)
    confirmed: set[str] = set()
    kills = finished = 0
    while kills < 100:
        state = ProgressStore(data).state()
        done = state.get("lessons", {}).get("sigmoid-2-2-2", {}).get("steps", {})
        position = next(
            (
                i
                for i, s in enumerate(steps)
                if done.get(s.id, {}).get("status") not in ("correct", "carried")
            ),
            len(steps),
        )
        if position == len(steps):  # the lesson is done: start again in a fresh folder
            finished += 1
            data = tmp_path / f"data{finished}"
            env["TUTOR_DATA_DIR"] = str(data)
            confirmed.clear()
            continue
        pid, fd = pty.fork()
        if pid == 0:
            os.execvpe(str(TUTOR), [str(TUTOR), "sigmoid-2-2-2", "--no-blink"], env)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        out = bytearray()
        kill_at = time.monotonic() + rng.uniform(0.05, 1.5)
        ready = False
        i = position
        while time.monotonic() < kill_at:
            _read(fd, 0.01, out)
            if not ready and re.search(rb"step \d+/53", bytes(out)):
                ready = True
            if ready and i < len(steps) and rng.random() < 0.5:
                os.write(fd, f"{steps[i].value:.5f}\r".encode())
                i += 1
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        kills += 1
        _read(fd, 0.05, out)
        os.close(fd)
        for label in CORRECT.findall(bytes(out)):
            name = label.decode("utf-8", "replace")
            if name in by_label:
                confirmed.add(by_label[name])
        store = ProgressStore(data)
        state = store.state()
        assert store.warnings == [] or all("damaged line" in w for w in store.warnings)
        saved = state.get("lessons", {}).get("sigmoid-2-2-2", {}).get("steps", {})
        lost = [
            s for s in confirmed if saved.get(s, {}).get("status") not in ("correct", "carried")
        ]
        assert lost == [], f"answers lost after kill -9: {lost}"
    assert finished >= 1 or len(confirmed) >= 10, "the test hardly answered anything"
