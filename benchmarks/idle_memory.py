"""Idle CPU and memory, side by side with the bare Textual app, in a real pty at 80×24.

- Idle CPU: CPU time used over a window while the app waits for input (target < 0.1%).
- Memory: peak RSS after working through a whole lesson, up to its summary screen, against
  the bare app's peak after a few keys (target ≤ 1.7×). The bare app with NumPy imported
  (as the tutor does, in a thread after the first paint) is printed too, for reference.
Run: .venv/bin/python benchmarks/idle_memory.py [--idle-seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _bytecode import compile_tutor  # noqa: E402
from _pty import time_to_text  # noqa: E402

HERE = Path(__file__).resolve().parent
CPU_TARGET = 0.1  # percent
MEM_TARGET = 1.7
SETTLE = 2.0  # seconds between the first paint and the first key


def idle_cpu(argv: list[str], marker: bytes, env: dict, seconds: float) -> float:
    import pty

    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    buf, end = b"", time.time() + 20
    while marker not in buf and time.time() < end:
        if select.select([fd], [], [], 0.05)[0]:
            buf += os.read(fd, 65536)
    time.sleep(2.0)  # let start-up work (the worker) finish

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    c0, t0 = cpu(), time.time()
    while time.time() - t0 < seconds:  # keep the pty drained, as a terminal would
        if select.select([fd], [], [], 0.5)[0]:
            try:
                os.read(fd, 65536)
            except OSError:
                break
    c1, t1 = cpu(), time.time()
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
    os.close(fd)
    return 100.0 * (c1 - c0) / (t1 - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--idle-seconds", type=float, default=30.0)
    args = ap.parse_args()
    compile_tutor()
    tutor = str(Path(sys.executable).with_name("tutor"))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "TUTOR_DATA_DIR": tempfile.mkdtemp(),
        "TUTOR_NO_BLINK": "1",
    }
    bare = [sys.executable, str(HERE / "bare_app.py")]
    mine = [tutor, "sigmoid-2-2-2", "--restart"]
    cpu_bare = idle_cpu(bare, b"ready =", env, args.idle_seconds)
    cpu_mine = idle_cpu(mine, b"sum_h1 =", env, args.idle_seconds)
    solved = json.loads(
        subprocess.run(
            [tutor, "solve", "sigmoid-2-2-2", "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    keys = [f"{s['value']:.5f}\r".encode() for s in solved["steps"]]
    five = [b"0.41\r"] * 5
    # typing starts once the tutor has built its session (NumPy is loaded after the first
    # paint: then the status line counts the steps); the bare apps wait as long
    _, rss_bare = time_to_text(bare, b"ready =", env, keys=five, settle=SETTLE)
    _, rss_numpy = time_to_text([*bare, "--numpy"], b"ready =", env, keys=five, settle=SETTLE)
    _, rss_mine = time_to_text(
        mine,
        b"sum_h1 =",
        env,
        keys=keys,
        ready=f"step 1/{len(keys)}".encode(),
        settle=SETTLE,
        until=b"Score: ",  # on the summary screen only
    )
    print(
        f"idle CPU over {args.idle_seconds:.0f} s: bare {cpu_bare:.3f}%, tutor {cpu_mine:.3f}% "
        f"(target < {CPU_TARGET}%)"
    )
    print(
        f"peak RSS: bare {rss_bare / 1024:.1f} MiB, tutor after a whole lesson "
        f"{rss_mine / 1024:.1f} MiB, ratio {rss_mine / rss_bare:.2f} (target ≤ {MEM_TARGET}); "
        f"for reference, bare app + NumPy {rss_numpy / 1024:.1f} MiB "
        f"({rss_numpy / rss_bare:.2f})"
    )
    ok = cpu_mine < CPU_TARGET and rss_mine / rss_bare <= MEM_TARGET
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as err:  # a run that went wrong is not a missed target (exit 1)
        print(f"idle_memory: {err}", file=sys.stderr)
        sys.exit(2)
