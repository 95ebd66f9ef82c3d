"""The class gradebook: one row per roster student, absent students included, counted by the
same report code as a learner's own ``tutor progress`` (:func:`lesson_rows`), so that the
class store and a learner's files give the same figures for the same answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor.classroom.database import ClassDatabase
from tutor.progress.report import lesson_rows


def lesson_id(ref: str) -> str:
    """A course lesson's id: the id itself, or a lesson file's name without .toml."""
    return Path(ref).stem if ref.endswith(".toml") else ref


def status(db: ClassDatabase, name: str, enrolled: dict[str, datetime]) -> str:
    """How the student logs in: by a key from the roster, by a code already used, or
    not yet (their code is waiting)."""
    student = db.roster()[name]
    if student.keys:
        return "key"
    return "enrolled" if name in enrolled else "code not used yet"


def students(db: ClassDatabase) -> list[dict[str, Any]]:
    """Every roster student with their progress rows, who is on and when they last were."""
    roster = db.roster()
    online = db.online()
    seen = db.last_seen()
    enrolled = db.enrolled()
    course_ids = [lesson_id(ref) for ref in db.course.lessons]
    found = []
    for name in sorted(roster):
        store = db.progress(name)
        rows = lesson_rows(store)
        finished = {r["lesson"] for r in rows if r["finished"] and r["total"]}
        found.append(
            {
                "student": name,
                "status": status(db, name, enrolled),
                "online": name in online,
                "online_since": _iso(online.get(name)),
                "last_login": _iso(seen.get(name)),
                "finished": len(finished & set(course_ids)),
                "of": len(course_ids),
                "lessons": rows,
                "attempts": store.attempts(),
                "warnings": list(store.warnings),
            }
        )
    return found


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when is not None else None


def columns(db: ClassDatabase) -> list[str]:
    """The CSV gradebook's columns: who, then each course lesson's score and its number of
    steps, then each exam's."""
    cols = ["student", "status", "online", "last_login", "finished"]
    for ref in db.course.lessons:
        cols += [lesson_id(ref), f"{lesson_id(ref)} steps"]
    for exam in db.course.exams:
        cols += [f"{lesson_id(exam.lesson)} exam", f"{lesson_id(exam.lesson)} exam steps"]
    return cols


def grade_rows(db: ClassDatabase, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One CSV row per student. A lesson's cell is the best score of its learn-mode entries
    (any seed), an exam's that of its exam entry; empty where the student has none."""
    out = []
    for s in found:
        row: dict[str, Any] = {
            "student": s["student"],
            "status": s["status"],
            "online": "yes" if s["online"] else "no",
            "last_login": s["last_login"] or "",
            "finished": s["finished"],
        }
        for ref in db.course.lessons:
            _cells(row, s["lessons"], lesson_id(ref), ("learn", "review"), "")
        for exam in db.course.exams:
            _cells(row, s["lessons"], lesson_id(exam.lesson), ("exam",), " exam")
        out.append(row)
    return out


def _cells(
    row: dict[str, Any], rows: list[dict[str, Any]], lesson: str, modes: tuple[str, ...], tag: str
) -> None:
    mine = [r for r in rows if r["lesson"] == lesson and r["mode"] in modes]
    best = max(mine, key=lambda r: (r["score"], r["updated"] or ""), default=None)
    row[f"{lesson}{tag}"] = "" if best is None else best["score"]
    row[f"{lesson}{tag} steps"] = "" if best is None else best["total"]


def export_data(db: ClassDatabase) -> dict[str, Any]:
    """The whole gradebook, for JSON: every student's rows and attempt log."""
    return {
        "course": db.course.title,
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": db.where,
        "lessons": [lesson_id(ref) for ref in db.course.lessons],
        "exams": [lesson_id(e.lesson) for e in db.course.exams],
        "students": students(db),
    }
