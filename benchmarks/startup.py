"""Time to first prompt: the tutor against a bare Textual app, side by side in one run.

Run: .venv/bin/python benchmarks/startup.py [--runs N]
Target: the tutor's median is at most 1.3 times the bare app's.
Also printed: when the tutor is ready to check an answer (its status line counts the steps),
which is after the engine has run (in a worker, after the first paint).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _bytecode import compile_tutor  # noqa: E402
from _pty import time_to_text  # noqa: E402

HERE = Path(__file__).resolve().parent
TARGET = 1.3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    compile_tutor()
    tutor = str(Path(sys.executable).with_name("tutor"))
    data = tempfile.mkdtemp(prefix="tutor-bench-")
    env = {**os.environ, "TERM": "xterm-256color", "TUTOR_DATA_DIR": data, "TUTOR_NO_BLINK": "1"}
    cases = {
        "bare": ([sys.executable, str(HERE / "bare_app.py")], b"ready ="),
        "tutor": ([tutor, "sigmoid-2-2-2", "--restart"], b"sum_h1 ="),
        "ready": ([tutor, "sigmoid-2-2-2", "--restart"], b"step 1/53"),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(2):  # warm the file cache
        for argv, marker in cases.values():
            time_to_text(argv, marker, env)
    for _ in range(args.runs):
        for name, (argv, marker) in cases.items():  # interleaved: both see the same noise
            times[name].append(time_to_text(argv, marker, env)[0])
    bare = statistics.median(times["bare"])
    mine = statistics.median(times["tutor"])
    ratio = mine / bare
    print(
        f"first prompt, median of {args.runs}: bare {bare * 1000:.0f} ms, "
        f"tutor {mine * 1000:.0f} ms, ratio {ratio:.2f} (target ≤ {TARGET}); "
        f"ready to check answers {statistics.median(times['ready']) * 1000:.0f} ms"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
