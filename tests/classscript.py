"""A scripted class for the instructor's views: 40 roster students, 36 of whom work through
the first steps of sigmoid-2-2-2 in the class database (through ClassProgress and a real
QuizSession), with hints, named mistakes, answers that match no mistake, and reveals,
each step taking a known time. The script also works out, on its own, every figure the
report must show (:class:`Expected`), from what it typed, never from the tutor's counts."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from classhelpers import SEED, fake_key, write_course

from tutor.catalog import open_lesson
from tutor.classroom.course import load_course
from tutor.classroom.database import open_database
from tutor.grading.misconceptions import candidates
from tutor.opening import LessonRecorder
from tutor.session import QuizSession

STUDENTS = [f"s{i:02d}" for i in range(40)]
ABSENT = STUDENTS[36:]
STEPS = 8  # the first steps of the lesson that the script works on
WRONG_SECONDS = 5.0
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
UNMATCHED_TRIES = ["7.77", "-3.25", "42.5", "0.0123", "5.5"]


def steps_run(i: int) -> int:
    return 3 + i % 6


def wants_hint(i: int, k: int) -> bool:
    return (i + k) % 4 == 1


def wants_mistake(i: int, k: int) -> bool:
    return (i + 2 * k) % 5 == 0


def wants_unmatched(i: int, k: int) -> bool:
    return (i + k) % 3 == 0


def reveals(i: int, k: int) -> bool:
    return i % 9 == 4 and k == steps_run(i) - 1


def final_seconds(i: int, k: int) -> float:
    return 10.0 * (1 + (i + k) % 4)


class Clock:
    """The session's clock (seconds) and the database's (ISO times), moved by the script."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.at = START

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def stamp(self) -> str:
        self.at += timedelta(seconds=1)
        return self.at.isoformat(timespec="microseconds")


def typed_values() -> tuple[list[tuple[str, str]], list[str]]:
    """For each of the first steps: a value that the tutor names as a mistake (and the
    mistake's tag), and a wrong answer that matches no mistake; found on a session of its
    own, before the class starts."""
    session = QuizSession(open_lesson(SEED))
    named, unmatched = [], []
    for _ in range(STEPS):
        step = session.current
        found = None
        for c in candidates(session.plan, step, session.learner_values()):
            if abs(c.value - step.value) < 1e-3:
                continue
            probe = QuizSession(open_lesson(SEED), records=None)
            for _ in range(len(named)):
                probe.submit(f"{probe.current.value:.6f}")
            out = probe.submit(f"{c.value:.6f}")
            if out.verdict is not None and out.verdict.diagnosis == c.misconception.tag:
                found = (f"{c.value:.6f}", c.misconception.tag)
                break
        assert found is not None, f"no named mistake for {step.id}"
        named.append(found)
        for text in UNMATCHED_TRIES:
            probe = QuizSession(open_lesson(SEED))
            for _ in range(len(unmatched)):
                probe.submit(f"{probe.current.value:.6f}")
            out = probe.submit(text)
            if out.verdict is not None and not out.advanced and out.verdict.diagnosis is None:
                unmatched.append(text)
                break
        else:
            raise AssertionError(f"no unmatched answer for {step.id}")
        session.submit(f"{step.value:.6f}")
    return named, unmatched


@dataclass
class Expected:
    """The figures the report must show, counted by the script."""

    score: dict[str, float] = field(default_factory=dict)
    first_try: dict[str, int] = field(default_factory=dict)
    hints: dict[str, int] = field(default_factory=dict)
    reveals: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    attempts: Counter[str] = field(default_factory=Counter)
    answering: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    first_right: Counter[str] = field(default_factory=Counter)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    mistakes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    unmatched: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    step_ids: list[str] = field(default_factory=list)

    def median(self, step: str) -> float:
        return statistics.median(self.times[step])


def roster() -> str:
    return "".join(
        f'[students.{n}]\nkeys = ["{fake_key(k + 1)}"]\n' for k, n in enumerate(STUDENTS)
    )


def scripted_class(folder: Path, database: str = "") -> Expected:
    """Make the course in ``folder`` and run the class; the expected figures."""
    write_course(
        folder,
        course=f'title = "Week 3"\nlessons = ["sigmoid-2-2-2"]\ndatabase = "{database}"\n',
        roster=roster(),
    )
    named, unmatched = typed_values()
    db = open_database(load_course(folder))
    clock = Clock()
    db.clock = clock.stamp  # type: ignore[method-assign]
    want = Expected(step_ids=[s.id for s in open_lesson(SEED) if s.asked][:STEPS])
    for i, name in enumerate(STUDENTS):
        if name in ABSENT:
            continue
        store = db.progress(name)
        store.lock()
        recorder = LessonRecorder(store, "sigmoid-2-2-2")
        session = QuizSession(open_lesson(SEED), recorder=recorder, clock=clock)
        score = first = hints = revealed = 0
        total = 0.0
        for k in range(steps_run(i)):
            step = session.current
            asked_hint = wrong = 0
            typed: list[str] = []
            if wants_hint(i, k):
                session.next_hint()
                asked_hint = 1
            if wants_mistake(i, k):
                clock.advance(WRONG_SECONDS)
                value, tag = named[k]
                session.submit(value)
                typed.append(value)
                want.mistakes[step.id][tag] += 1
                wrong += 1
            if wants_unmatched(i, k):
                clock.advance(WRONG_SECONDS)
                session.submit(unmatched[k])
                typed.append(unmatched[k])
                want.unmatched[step.id][unmatched[k]] += 1
                wrong += 1
            spent = WRONG_SECONDS * wrong + final_seconds(i, k)
            clock.advance(final_seconds(i, k))
            if reveals(i, k):
                session.reveal()
                revealed += 1
            else:
                out = session.submit(f"{step.value:.6f}")
                assert out.advanced, out.message
                typed.append("right")
                score += 1
                first += wrong == 0
            want.attempts[step.id] += len(typed)
            if typed:
                want.answering[step.id].add(name)
                want.first_right[step.id] += typed[0] == "right"
            want.times[step.id].append(spent)
            hints += max(asked_hint, wrong - 1 if wrong > 1 else 0)
            total += spent
        want.score[name] = float(score)
        want.first_try[name] = first
        want.hints[name] = hints
        want.reveals[name] = revealed
        want.seconds[name] = total
        store.unlock()
    db.close()
    return want
