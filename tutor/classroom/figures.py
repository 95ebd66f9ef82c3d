"""What ``tutor class report`` shows: the gradebook (one row per roster student, absent ones
included) and the question statistics (per lesson and step), both counted from the class
log (:class:`tutor.classroom.activity.ClassLog`).

A lesson's figures are :func:`tutor.progress.report.lesson_rows`'s, the rows ``tutor
progress`` and ``tutor class export`` show; only what they do not count (steps right at the
first try, an exam's time and window) is counted here, from the same replayed state.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tutor.classroom.activity import ClassLog, Event, StudentLog
from tutor.classroom.backends import Backend
from tutor.classroom.course import Course, Exam
from tutor.classroom.database import ClassDatabase
from tutor.classroom.gradebook import lesson_id
from tutor.classroom.lessonsteps import LessonSteps, course_steps
from tutor.classroom.summaries import plan_mark
from tutor.progress.records import RIGHT
from tutor.progress.report import lesson_rows

#: how many of the answers that matched no mistake are shown per step
UNMATCHED_SHOWN = 3
ANSWER_EVENTS = ("answer",)
#: the events that close a step (its time is then the step's whole time)
FINISHED = ("correct", "carried", "revealed", "failed")


@dataclass
class Filters:
    """``--since``, ``--lesson`` and ``--student``: None is everything."""

    since: datetime | None = None
    lessons: list[str] | None = None
    students: list[str] | None = None


def course_lessons(course: Course, filters: Filters) -> list[str]:
    ids = [lesson_id(ref) for ref in course.lessons]
    return [i for i in ids if filters.lessons is None or i in filters.lessons]


def course_exams(course: Course, filters: Filters) -> list[Exam]:
    return [
        e for e in course.exams if filters.lessons is None or lesson_id(e.lesson) in filters.lessons
    ]


def first_tries(entry: Any, asked: list[str]) -> int:
    """Steps answered right with no wrong try before."""
    steps = entry.get("steps", {}) if isinstance(entry, dict) else {}
    return sum(
        1
        for step_id in asked
        if isinstance(rec := steps.get(step_id), dict)
        and rec.get("status") in RIGHT
        and not rec.get("misses")
    )


def gradebook(
    course: Course,
    roster: list[str],
    statuses: dict[str, str],
    log: ClassLog,
    exams: dict[tuple[str, str], tuple[int, datetime | None, int]],
    steps: LessonSteps,
    filters: Filters,
) -> list[dict[str, Any]]:
    """One row per roster student (``filters.students`` only), in name order. ``exams``:
    (student, lesson) → (seed, started, attempt) from the ``exams`` table."""
    lessons = course_lessons(course, filters)
    course_exams_ = course_exams(course, filters)
    out = []
    for name in sorted(roster):
        if filters.students is not None and name not in filters.students:
            continue
        mine = log.of(name)
        rows, firsts = _rows(log, name, mine, steps)
        row: dict[str, Any] = {
            "student": name,
            "status": statuses.get(name, ""),
            "absent": not mine.count,
            "lessons": {},
            "exams": {},
        }
        for lesson in lessons:
            row["lessons"][lesson] = _lesson_cell(mine.lessons(), rows, lesson, steps, firsts)
        for exam in course_exams_:
            ident = lesson_id(exam.lesson)
            row["exams"][ident] = _exam_cell(
                mine.lessons(),
                mine.spans,
                rows,
                exam,
                ident,
                exams.get((name, ident)),
                steps,
                firsts,
            )
        out.append(row)
    return out


def _rows(
    log: ClassLog, name: str, mine: StudentLog, steps: LessonSteps
) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """The student's :func:`lesson_rows`, and each entry's steps right at the first try
    where they were counted when written (None: count them from the state). A row
    counted against another plan of the lesson (its file changed since) is counted again,
    from the state the summary keeps."""
    figures = mine.figures
    if figures is not None:
        valid = True
        for f in figures.values():
            lesson, seed, only, mark = f["plan"]
            opened = steps.asked(lesson, seed, only)
            if opened is None or plan_mark(opened) != mark:
                valid = False
                break
        if valid:
            keys = sorted(figures)
            return [figures[k]["row"] for k in keys], {k: figures[k]["first_try"] for k in keys}
        mine.state["lessons"] = log.states_of(name)
        mine.figures = None
    return lesson_rows(mine, asked_steps=steps.asked), None


def _best(rows: list[dict[str, Any]], lesson: str, modes: tuple[str, ...]) -> dict[str, Any] | None:
    """The student's best entry of a lesson in those modes (as ``tutor class export``)."""
    mine = [r for r in rows if r["lesson"] == lesson and r["mode"] in modes]
    return max(mine, key=lambda r: (r["score"], r["updated"] or ""), default=None)


def _lesson_cell(
    state: dict[str, Any],
    rows: list[dict[str, Any]],
    lesson: str,
    steps: LessonSteps,
    firsts: dict[str, int] | None,
) -> dict[str, Any] | None:
    best = _best(rows, lesson, ("learn", "review"))
    if best is None:
        return None
    if firsts is not None:
        first = firsts[best["key"]]
    else:
        opened = steps.asked(lesson, best["seed"], state[best["key"]].get("asked"))
        asked = opened[0] if opened else sorted(state[best["key"]].get("steps", {}))
        first = first_tries(state[best["key"]], asked)
    return {
        "score": best["score"],
        "steps": best["total"],
        "first_try": first,
        "hints": best["hints"],
        "reveals": best["revealed"],
        "wrong": best["misses"],
        "seconds": best["seconds"],
        "finished": best["finished"],
    }


def _exam_cell(
    state: dict[str, Any],
    spans: dict[str, tuple[datetime, datetime]],
    rows: list[dict[str, Any]],
    exam: Exam,
    ident: str,
    drawn: tuple[int, datetime | None, int] | None,
    steps: LessonSteps,
    firsts: dict[str, int] | None,
) -> dict[str, Any] | None:
    best = _best(rows, ident, ("exam",))
    if best is None:
        return None
    first, end = spans[best["key"]]
    seed, started, attempt = drawn if drawn is not None else (best["seed"], None, 1)
    start = started if started is not None and seed == best["seed"] else first
    taken = max(0.0, (end - start).total_seconds())
    in_time = (exam.closes is None or end <= exam.closes) and (
        exam.minutes is None or taken <= exam.minutes * 60
    )
    window = ("yes" if in_time else "late") if best["finished"] else "not finished"
    if firsts is not None:
        right_first = firsts[best["key"]]
    else:
        opened = steps.asked(ident, best["seed"], state[best["key"]].get("asked"))
        right_first = first_tries(state[best["key"]], opened[0] if opened else [])
    return {
        "score": best["score"],
        "steps": best["total"],
        "first_try": right_first,
        "seed": best["seed"],
        "attempt": attempt if seed == best["seed"] else None,
        "started": start.isoformat(timespec="seconds"),
        "minutes": round(taken / 60, 1),
        "finished": window,
    }


# --- question statistics
@dataclass
class StepFigures:
    """One step of one lesson across the class."""

    step: str
    label: str
    attempts: int = 0  # answers judged
    learners: set[tuple[str, str]] = field(default_factory=set)  # (student, entry) answering
    first_right: int = 0
    reveals: int = 0
    times: list[float] = field(default_factory=list)  # seconds, per step finished
    mistakes: Counter[str] = field(default_factory=Counter)
    unmatched: Counter[str] = field(default_factory=Counter)

    def as_row(self) -> dict[str, Any]:
        n = len(self.learners)
        return {
            "step": self.step,
            "label": self.label,
            "attempts": self.attempts,
            "students": len({s for s, _ in self.learners}),
            "first_try_rate": round(self.first_right / n, 3) if n else None,
            "median_seconds": round(statistics.median(self.times), 1) if self.times else None,
            "reveals": self.reveals,
            "mistakes": dict(self.mistakes.most_common()),
            "unmatched": dict(self.unmatched.most_common(UNMATCHED_SHOWN)),
        }


class QuestionCounter:
    """The question statistics, counted event by event as the log is read (the report
    keeps no event once counted)."""

    def __init__(self, lessons: list[str], steps: LessonSteps, filters: Filters):
        self.lessons = lessons
        self.filters = filters
        self.table: dict[str, dict[str, StepFigures]] = {
            lesson: {s.id: StepFigures(s.id, s.label) for s in steps.steps(lesson)}
            for lesson in lessons
        }
        self._seen: dict[str, set[tuple[str, str]]] = {}

    def __call__(self, event: Event) -> None:
        lesson = event.lesson
        steps = self.table.get(lesson)
        if steps is None:
            return
        name = event.student
        if self.filters.students is not None and name not in self.filters.students:
            return
        step = str(event.entry.get("step"))
        figures = steps.get(step)
        if figures is None:
            figures = steps[step] = StepFigures(step, step)
        count(figures, event, name, self._seen.setdefault(name, set()))

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """Lesson → one row per asked step, in the lesson's order (steps of another variant
        that the lesson's own plan does not have come after)."""
        return {
            lesson: [f.as_row() for f in self.table[lesson].values()] for lesson in self.lessons
        }


def count(figures: StepFigures, event: Event, name: str, seen: set[tuple[str, str]]) -> None:
    """Add one event to its step's figures (``seen``: the student's entries and steps
    answered already, for the first try)."""
    entry = event.entry
    record = entry.get("record", {})
    status = record.get("status")
    if event.kind == "reveal":
        figures.reveals += 1
    if event.kind in ANSWER_EVENTS:
        figures.attempts += 1
        key = str(entry.get("lesson_key"))
        mark = (key, figures.step)
        figures.learners.add((name, key))
        right = entry.get("verdict") in RIGHT
        if mark not in seen:
            seen.add(mark)
            figures.first_right += right
        if not right:
            diagnosis = entry.get("diagnosis")
            if diagnosis:
                figures.mistakes[str(diagnosis)] += 1
            elif entry.get("input"):
                figures.unmatched[str(entry["input"]).strip()] += 1
    if event.kind in ("answer", "reveal") and status in FINISHED:
        seconds = record.get("seconds")
        if isinstance(seconds, (int, float)):
            figures.times.append(float(seconds))


def question_rows(
    backend: Backend, lessons: list[str], steps: LessonSteps, filters: Filters
) -> dict[str, list[dict[str, Any]]]:
    """The question statistics as :class:`QuestionCounter` counts them, from the events'
    facts (``event_facts``, kept as each answer was committed) by ``GROUP BY`` queries:
    for a class database whose summaries count every event (no ``--since``)."""
    where, params = "", []
    if filters.students is not None:
        where = f" AND student IN ({', '.join('?' * len(filters.students))})"
        params = list(filters.students)
    table: dict[str, dict[str, StepTotals]] = {
        lesson: {s.id: StepTotals(s.id, s.label) for s in steps.steps(lesson)} for lesson in lessons
    }

    def run(sql: str) -> list[tuple[Any, ...]]:
        return backend.run(sql.replace("{where}", where), params)

    # every step an event names, in the order the first event came (as the counter meets
    # them); steps the lesson's plan does not have come after its own
    for lesson, step, _, attempts, reveals in sorted(
        run(
            "SELECT lesson, step, min(id), sum(CASE WHEN kind = 'answer' THEN 1 ELSE 0 END),"
            " sum(CASE WHEN kind = 'reveal' THEN 1 ELSE 0 END)"
            " FROM event_facts WHERE 1 = 1{where} GROUP BY lesson, step"
        ),
        key=lambda r: int(r[2]),
    ):
        if lesson in table:
            made = table[lesson].setdefault(step, StepTotals(step, step))
            made.attempts, made.reveals = int(attempts), int(reveals)
    # who answered (student and entry) and whether their first answer was right
    for lesson, step, learners, students, first_right in run(
        "SELECT f.lesson, f.step, count(*), count(DISTINCT f.student), sum(e.correct)"
        " FROM (SELECT lesson, step, student, min(id) AS first FROM event_facts"
        "  WHERE kind = 'answer'{where} GROUP BY lesson, step, student, lesson_key) f"
        " JOIN event_facts e ON e.id = f.first GROUP BY f.lesson, f.step"
    ):
        if (found := table.get(lesson, {}).get(step)) is not None:
            found.learners, found.students = int(learners), int(students)
            found.first_right = int(first_right)
    # the named mistakes and the answers that matched none, most often first (ties in the
    # order they first came, as Counter.most_common keeps them)
    for column, condition in (
        ("diagnosis", "diagnosis IS NOT NULL"),
        ("typed", "diagnosis IS NULL AND typed IS NOT NULL"),
    ):
        for lesson, step, said, n, _ in sorted(
            run(
                f"SELECT lesson, step, {column}, count(*), min(id) FROM event_facts"
                f" WHERE kind = 'answer' AND correct = 0 AND {condition}{{where}}"
                f" GROUP BY lesson, step, {column}"
            ),
            key=lambda r: (-int(r[3]), int(r[4])),
        ):
            if (found := table.get(lesson, {}).get(step)) is not None:
                getattr(found, column)[str(said)] = int(n)
    # the median of the finished steps' times: the middle one or two, found by the database
    for lesson, step, seconds in run(
        "SELECT lesson, step, seconds FROM (SELECT lesson, step, seconds,"
        " row_number() OVER (PARTITION BY lesson, step ORDER BY seconds) AS k,"
        " count(*) OVER (PARTITION BY lesson, step) AS n"
        " FROM event_facts WHERE seconds IS NOT NULL{where}) t"
        " WHERE 2 * k IN (n, n + 1, n + 2)"
    ):
        if (found := table.get(lesson, {}).get(step)) is not None:
            found.middle.append(float(seconds))
    return {lesson: [f.as_row() for f in table[lesson].values()] for lesson in lessons}


def class_question_rows(
    backend: Backend, lessons: list[str], steps: LessonSteps
) -> dict[str, list[dict[str, Any]]]:
    """The whole class's question statistics, as :class:`QuestionCounter` counts them,
    from the per-step figures added to as each answer was committed (``step_stats``,
    ``step_words``); the medians from the finished steps' times, which the database keeps
    in order (an index)."""
    table: dict[str, dict[str, StepTotals]] = {
        lesson: {s.id: StepTotals(s.id, s.label) for s in steps.steps(lesson)} for lesson in lessons
    }
    # each step's figures are kept in several rows (shards): added up here
    totals: dict[tuple[str, str], list[int]] = {}
    for lesson, step, first_id, *counts in backend.run(
        "SELECT lesson, step, first_id, attempts, reveals, learners, students,"
        " first_right, timed FROM step_stats",
        (),
    ):
        got = totals.get((lesson, step))
        if got is None:
            totals[(lesson, step)] = [int(first_id), *(int(c) for c in counts)]
        else:
            got[0] = min(got[0], int(first_id))
            for k, c in enumerate(counts, 1):
                got[k] += int(c)
    timed: dict[tuple[str, str], int] = {}
    for (lesson, step), (_, attempts, reveals, learners, students, first_right, n) in sorted(
        totals.items(), key=lambda kv: kv[1][0]
    ):
        if lesson not in table:
            continue
        found = table[lesson].setdefault(step, StepTotals(step, step))
        found.attempts, found.reveals = attempts, reveals
        found.learners, found.students, found.first_right = learners, students, first_right
        if n:
            timed[(lesson, step)] = n
    words: dict[tuple[str, str, str, str], list[int]] = {}
    for lesson, step, what, said, n, first_id in backend.run(
        "SELECT lesson, step, what, said, n, first_id FROM step_words", ()
    ):
        got = words.setdefault((lesson, step, what, said), [0, int(first_id)])
        got[0] += int(n)
        got[1] = min(got[1], int(first_id))
    for (lesson, step, what, said), (n, _) in sorted(
        words.items(), key=lambda kv: (-kv[1][0], kv[1][1])
    ):
        if (hit := table.get(lesson, {}).get(step)) is not None:
            kept = hit.diagnosis if what == "mistake" else hit.typed
            kept[str(said)] = n
    for (lesson, step), n in timed.items():
        middle = backend.run(
            "SELECT seconds FROM event_facts WHERE lesson = ? AND step = ?"
            " AND seconds IS NOT NULL ORDER BY seconds LIMIT ? OFFSET ?",
            (lesson, step, 2 - n % 2, (n - 1) // 2),
        )
        table[lesson][step].middle = [float(v) for (v,) in middle]
    return {lesson: [f.as_row() for f in table[lesson].values()] for lesson in lessons}


@dataclass
class StepTotals:
    """One step's figures as the database counted them (:func:`question_rows`)."""

    step: str
    label: str
    attempts: int = 0
    learners: int = 0  # (student, entry) pairs answering
    students: int = 0
    first_right: int = 0
    reveals: int = 0
    middle: list[float] = field(default_factory=list)  # the middle one or two times
    diagnosis: dict[str, int] = field(default_factory=dict)  # named mistakes, in order
    typed: dict[str, int] = field(default_factory=dict)  # unmatched answers, in order

    def as_row(self) -> dict[str, Any]:
        """As :meth:`StepFigures.as_row`."""
        n = self.learners
        return {
            "step": self.step,
            "label": self.label,
            "attempts": self.attempts,
            "students": self.students,
            "first_try_rate": round(self.first_right / n, 3) if n else None,
            "median_seconds": round(sum(self.middle) / len(self.middle), 1)
            if self.middle
            else None,
            "reveals": self.reveals,
            "mistakes": dict(self.diagnosis),
            "unmatched": dict(list(self.typed.items())[:UNMATCHED_SHOWN]),
        }


# --- the report as a whole
def exam_draws(db: ClassDatabase) -> dict[tuple[str, str], tuple[int, datetime | None, int]]:
    """(student, lesson id) → the exam's current seed, its start and the attempt number."""
    rows = db.backend.run("SELECT student, lesson, seed, started, attempt FROM exams", ())
    found = {}
    for student, lesson, seed, started, attempt in rows:
        when = None
        if started:
            try:
                when = datetime.fromisoformat(str(started))
            except ValueError:
                when = None
        found[(str(student), lesson_id(str(lesson)))] = (int(seed), when, int(attempt))
    return found


def report_data(db: ClassDatabase, filters: Filters) -> dict[str, Any]:
    """The gradebook and the question statistics, for every format of the report."""
    from tutor.classroom.gradebook import status

    roster = db.roster()
    enrolled = db.enrolled()
    steps = course_steps([*db.course.lessons, *(e.lesson for e in db.course.exams)])
    lessons = course_lessons(db.course, filters)
    exams = course_exams(db.course, filters)
    stats_lessons = lessons + [
        lesson_id(e.lesson) for e in exams if lesson_id(e.lesson) not in lessons
    ]
    # the summaries kept with each answer, unless --since asks for part of every log (then
    # every event is read, as it is where a summary does not count all of a student's)
    questions = QuestionCounter(stats_lessons, steps, filters)
    log = ClassLog(db.backend, filters.since, keep=False)
    if filters.since is None:
        log.from_summaries(states=False)
    if log.complete and filters.students is None:
        question_table = class_question_rows(db.backend, stats_lessons, steps)
    elif log.complete:
        question_table = question_rows(db.backend, stats_lessons, steps, filters)
    else:
        log = ClassLog(db.backend, filters.since, keep=False, counter=questions)
        log.follow()
        question_table = questions.rows()
    book = gradebook(
        db.course,
        list(roster),
        {name: status(db, name, enrolled) for name in roster},
        log,
        exam_draws(db),
        steps,
        filters,
    )
    return {
        "course": db.course.title,
        "database": db.where,
        "since": filters.since.isoformat(timespec="seconds") if filters.since else None,
        "lessons": lessons,
        "exams": [lesson_id(e.lesson) for e in exams],
        "students": book,
        "questions": question_table,
        "events": sum(log.of(s["student"]).count for s in book),
        "warnings": list(log.warnings) + list(db.warnings),
    }
