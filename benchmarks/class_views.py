"""The instructor's views on a big class: ``tutor class report`` and ``tutor class watch``'s
refresh on a SQLite class database of S students x the first 9 built-in lessons (500 x 9:
about 250,000 attempts), and on one of half that size, side by side in one run, so that the time's
growth can be read as a ratio (linear growth: 2.0 for twice the events).

The events are real ones: each lesson is worked through once by a scripted session (some
wrong answers, a hint, a reveal) whose events are recorded and written for every student
in one transaction.

Run: .venv/bin/python benchmarks/class_views.py [--students 500] [--lessons 9] [--repeat 3]
Target: the report, the dashboard's first read and its refresh each under 1 s at 500
students; the ratio of the times for 500 and 250 students no more than about 2 (the events
double); each target's line says met or missed, and the exit status is 1 if any is
missed. The events are written straight into the table and then summarised as the
migration summarises an existing database (the store summarises each answer as it commits
it); that takes a while for the big class, and is not timed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tutor.catalog import catalogue, open_lesson  # noqa: E402
from tutor.classroom.course import load_course  # noqa: E402
from tutor.classroom.database import open_database  # noqa: E402
from tutor.classroom.figures import Filters, report_data  # noqa: E402
from tutor.classroom.live import Room  # noqa: E402
from tutor.classroom.summaries import fill  # noqa: E402
from tutor.opening import LessonRecorder  # noqa: E402
from tutor.session import QuizSession  # noqa: E402

TARGET = 1.0


class Collect:
    """A store that keeps the events in memory (the recorder's only need)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def record(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)


def lesson_events(lesson_id: str) -> list[dict[str, Any]]:
    """One run through a lesson: every 7th step first answered wrong, every 11th with a
    hint first, the 13th revealed."""
    store = Collect()
    clock = iter(range(0, 10**7, 7))
    session = QuizSession(
        open_lesson(lesson_id),
        recorder=LessonRecorder(store, lesson_id),  # type: ignore[arg-type]
        clock=lambda: float(next(clock)),
    )
    k = 0
    while session.current is not None:
        step = session.current
        if k % 11 == 5:
            session.next_hint()
        if k % 7 == 3:
            session.submit(f"{step.value * 1.5 + 0.25:.6f}")
        if k == 13:
            session.reveal()
        else:
            session.submit(f"{step.value:.6f}")
        k += 1
    return store.entries


def make_class(folder: Path, students: int, template: dict[str, list[str]]) -> int:
    """A course of every built-in lesson and ``students`` students; the events written."""
    folder.mkdir(parents=True)
    names = [f"s{i:04d}" for i in range(students)]
    lessons = list(template)
    (folder / "course.toml").write_text(f'title = "Big"\nlessons = {json.dumps(lessons)}\n')
    (folder / "roster.toml").write_text(
        "".join(f'[students.{n}]\ncode = "ABCD-EFGH"\n' for n in names)
    )
    db = open_database(load_course(folder))
    count = 0
    with db.backend.transaction() as run:
        for i, name in enumerate(names):
            rows = []
            for lesson in lessons:
                for n, text in enumerate(template[lesson]):
                    at = f"2026-12-07T09:{(i + n) // 60 % 60:02d}:{(i + n) % 60:02d}+00:00"
                    rows.append((name, at, text))
            for row in rows:
                run("INSERT INTO events (student, at, entry) VALUES (?, ?, ?)", row)
            count += len(rows)
    # written straight into the table: counted as the migration counts an existing
    # database's events (the store counts each answer as it commits it)
    with db.backend.transaction() as run:
        fill(run, db.backend.dialect)
    db.close()
    return count


def timed(fn: Any, repeat: int) -> float:
    """The median of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def measure(folder: Path, repeat: int) -> dict[str, float]:
    course = load_course(folder)

    def report() -> None:
        db = open_database(course)
        try:
            report_data(db, Filters())
        finally:
            db.close()

    db = open_database(course)
    room = Room(db)

    def first_load() -> None:
        fresh = Room(db)
        fresh.refresh(force_online=True)
        fresh.lesson_view(fresh.busiest_lesson() or "")

    room.refresh(force_online=True)
    victim = sorted(room.seats)[len(room.seats) // 2]
    entry = json.loads(db.backend.run("SELECT entry FROM events ORDER BY id DESC LIMIT 1")[0][0])

    def refresh() -> None:
        # one more answer committed, then what the dashboard does to show it
        with db.backend.transaction() as run:
            run(
                "INSERT INTO events (student, at, entry) VALUES (?, ?, ?)",
                (victim, db.clock(), json.dumps(entry)),
            )
        room.refresh()
        room.rows()
        room.lesson_view(room.busiest_lesson() or "")

    found = {
        "report": timed(report, repeat),
        "watch first load": timed(first_load, repeat),
        "watch refresh": timed(refresh, repeat),
    }
    db.close()
    return found


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=500)
    p.add_argument("--lessons", type=int, default=9, help="the first N built-in lessons")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    lessons = catalogue()[0][: args.lessons]
    template = {lesson.id: [json.dumps(e) for e in lesson_events(lesson.id)] for lesson in lessons}
    root = Path(tempfile.mkdtemp(prefix="tutor-views-"))
    missed = False
    try:
        sizes = [args.students // 2, args.students]
        results = {}
        for size in sizes:
            events = make_class(root / f"c{size}", size, template)
            results[size] = (events, measure(root / f"c{size}", args.repeat))
        small, big = sizes
        print(f"lessons: {len(template)}; events per student: {sum(map(len, template.values()))}")
        print(f"{'':18} {small:>5} students  {big:>5} students   ratio")
        print(f"{'events':18} {results[small][0]:>14}  {results[big][0]:>14}")
        first_missed = False
        for what in results[big][1]:
            a, b = results[small][1][what], results[big][1][what]
            ok = b < TARGET
            if what == "watch first load":
                first_missed |= not ok
            else:
                missed |= not ok
            print(f"{what:18} {a:>12.3f} s  {b:>12.3f} s   {b / a:5.2f}{'' if ok else '  MISSED'}")
        print(
            f"target (report and refresh under {TARGET:g} s at {big} students): "
            f"{'missed' if missed else 'met'}"
        )
        print(
            f"target (first load under {TARGET:g} s at {big} students): "
            f"{'missed' if first_missed else 'met'}"
        )
        missed |= first_missed
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
