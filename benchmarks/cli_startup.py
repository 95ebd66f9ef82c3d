"""CLI start-up: `tutor solve sigmoid-2-2-2 --format json` against `python -c "import numpy"`.

Run: .venv/bin/python benchmarks/cli_startup.py [--runs N]     Target: ratio ≤ 2.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _bytecode import compile_tutor  # noqa: E402

TARGET = 2.0


def timed(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    compile_tutor()
    floor_cmd = [sys.executable, "-c", "import numpy"]
    solve_cmd = [sys.executable, "-m", "tutor", "solve", "sigmoid-2-2-2", "--format", "json"]
    floor, solve = [], []
    timed(floor_cmd), timed(solve_cmd)
    for _ in range(args.runs):
        floor.append(timed(floor_cmd))
        solve.append(timed(solve_cmd))
    f, s = statistics.median(floor), statistics.median(solve)
    print(
        f"import numpy {f * 1000:.0f} ms, tutor solve --format json {s * 1000:.0f} ms, "
        f"ratio {s / f:.2f} (target ≤ {TARGET})"
    )
    return 0 if s / f <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
