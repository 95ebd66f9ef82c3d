"""The answer's path to the disk in a class: how long ``record`` takes (the answer committed,
before its verdict shows) in the learner's own files, in the class database on SQLite and on
a real PostgreSQL server (Debian's, started here in a temporary folder, as in the tests),
side by side in one run; alone, and with several session processes answering at once.

Run: .venv/bin/python benchmarks/class_store.py [--answers N] [--writers W]
Target: p95 of an answer within one 60 Hz frame (16.7 ms) for every store, alone and with
the other writers; the ratios to the learner's own files are printed for docs/class.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

from tutor.classroom.course import load_course  # noqa: E402
from tutor.classroom.database import open_database  # noqa: E402
from tutor.progress.store import ProgressStore  # noqa: E402

FRAME_MS = 1000 / 60
ROSTER = "".join(f'[students.s{i}]\ncode = "ABCD-EFGH"\n' for i in range(64))


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def entry(n: int) -> dict:
    """An answer event as the session writes it (the size of a real one)."""
    return {
        "time": "2026-12-04T10:00:00+0000",
        "lesson": "sigmoid-2-2-2",
        "lesson_key": "sigmoid-2-2-2",
        "seed": None,
        "mode": "learn",
        "step": f"step{n % 53}",
        "event": "answer",
        "input": "0.593269992",
        "value": 0.593269992,
        "verdict": "correct",
        "diagnosis": None,
        "hint_level": 0,
        "seconds": 4.2,
        "elapsed": 61.5,
        "record": {
            "status": "correct",
            "answer": "0.593269992",
            "value": 0.593269992,
            "attempts": 1,
            "misses": 0,
            "hint_level": 0,
            "seconds": 4.2,
            "diagnoses": [],
            "points": 1.0,
            "hints_asked": 0,
        },
        "total": 53,
        "current": f"step{(n + 1) % 53}",
    }


def course(root: Path, database: str) -> Path:
    folder = root / ("pg" if database else "sqlite")
    folder.mkdir(parents=True)
    (folder / "course.toml").write_text(
        f'title = "bench"\nlessons = ["sigmoid-2-2-2"]\ndatabase = "{database}"\n'
    )
    (folder / "roster.toml").write_text(ROSTER)
    return folder


def store_for(where: str, student: str):
    if where.startswith("files:"):
        return ProgressStore(Path(where[6:]) / student)
    return open_database(load_course(Path(where))).progress(student)


def answers(where: str, student: str, n: int) -> list[float]:
    """Milliseconds per ``record``, for ``n`` answers of one session."""
    store = store_for(where, student)
    store.lock()
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        store.record(entry(i))
        times.append((time.perf_counter() - t0) * 1000)
    store.flush()
    store.unlock()
    return times


def _writer(args: tuple[str, str, int]) -> list[float]:
    return answers(*args)


def together(where: str, writers: int, n: int) -> list[float]:
    """Every answer's time with ``writers`` session processes answering at once."""
    ctx = multiprocessing.get_context("spawn")  # each its own connection, as sessions do
    with ctx.Pool(writers) as pool:
        results = pool.map(_writer, [(where, f"s{i + 1}", n) for i in range(writers)])
    return [t for r in results for t in r]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tutor-class-bench-"))
    stores = {"learner's files": f"files:{root / 'files'}"}
    stores["class SQLite"] = str(course(root, ""))
    server = None
    from pgserver import PgServer, binaries

    bindir = binaries()
    if bindir is not None:
        server = PgServer(bindir)
        server.start()
        stores["class PostgreSQL"] = str(course(root, server.new_database()))
    else:
        print("PostgreSQL is not installed here: its figures are left out")
    ok = True
    try:
        for where in stores.values():
            if not where.startswith("files:"):
                open_database(load_course(Path(where))).close()  # the schema, made untimed
        base = None
        for label, where in stores.items():
            alone = answers(where, "s0", args.answers)
            busy = together(where, args.writers, args.answers // 2)
            p50, p95 = statistics.median(alone), pct(alone, 0.95)
            b95 = pct(busy, 0.95)
            base = base or (p50, b95)
            print(
                f"{label:<16} alone p50 {p50:.2f} ms p95 {p95:.2f} ms; "
                f"{args.writers} writers p95 {b95:.2f} ms; "
                f"ratio {p50 / base[0]:.2f} alone, {b95 / base[1]:.2f} with writers"
            )
            ok = ok and p95 <= FRAME_MS and b95 <= FRAME_MS
    finally:
        if server is not None:
            server.close()
        shutil.rmtree(root, ignore_errors=True)
    print("target (p95 within one frame, 16.7 ms):", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
