"""Engine and plan for a 784-128-10 network: forward pass, backward pass and update, then the
plan with its first steps (the plan makes its 200,000 steps lazily, as the learner reaches
them; the first hidden sum alone has 785 terms).

Run: .venv/bin/python benchmarks/engine.py        Target: ≤ 0.3 s.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tutor.engine import compile_network  # noqa: E402
from tutor.lesson.reader import load_lesson  # noqa: E402
from tutor.plan.build import build_plan  # noqa: E402

TARGET = 0.3


def main() -> int:
    lesson = load_lesson(HERE / "lessons" / "mnist-784-128-10.toml")
    engine_times, plan_times = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        compile_network(lesson.network).run()
        t1 = time.perf_counter()
        plan = build_plan(lesson)
        first = [plan[i].id for i in range(3)]  # what the learner is asked first
        t2 = time.perf_counter()
        engine_times.append(t1 - t0)
        plan_times.append(t2 - t1)
    total = statistics.median(a + b for a, b in zip(engine_times, plan_times, strict=True))
    print(
        f"784-128-10: engine {statistics.median(engine_times) * 1000:.0f} ms, plan "
        f"{statistics.median(plan_times) * 1000:.0f} ms ({len(plan)} steps, first {first[0]}), "
        f"total {total * 1000:.0f} ms (target ≤ {TARGET * 1000:.0f} ms)"
    )
    return 0 if total <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
