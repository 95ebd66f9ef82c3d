"""Per-lesson progress for ``tutor progress``, ``tutor export`` and the lesson picker.

Each row is counted from the saved step records (:func:`tutor.progress.records.tally`) over
the lesson's asked steps, which come from its plan (opened through the catalog, so that a
variant's or a drill's steps are the ones the learner was asked).
"""

from __future__ import annotations

import getpass
from typing import Any

from tutor.catalog import CannotOpen, open_lesson, read
from tutor.lesson.model import Credit
from tutor.progress.interface import Progress
from tutor.progress.records import tally


def _asked(lesson_id: str, seed: int | None, only: Any) -> tuple[list[str], Credit | None] | None:
    """The ids of the steps the learner is asked and the lesson's partial credit, or None if
    the lesson cannot be opened (a lesson that has lost its variants since counts with its
    own numbers)."""
    try:
        lesson = read(lesson_id)
        plan = open_lesson(lesson, seed if lesson.variants is not None else None)
    except CannotOpen:
        return None
    narrowed = set(only) if isinstance(only, list) and only else None
    asked = [s.id for s in plan if s.asked and (narrowed is None or s.id in narrowed)]
    return asked, lesson.quiz.credit


def lesson_rows(store: Progress, only: str | None = None) -> list[dict[str, Any]]:
    """One row per lesson (and variant and mode) the learner has started."""
    rows = []
    for key, entry in sorted(store.lessons().items()):
        if not isinstance(entry, dict):
            continue
        lesson_id = str(entry.get("lesson", key.split("@")[0].split("#")[0]))
        if only is not None and only not in (lesson_id, key):
            continue
        seed = entry.get("seed") if isinstance(entry.get("seed"), int) else None
        steps = entry.get("steps", {}) if isinstance(entry.get("steps"), dict) else {}
        mode = str(entry.get("mode", "learn"))
        opened = _asked(lesson_id, seed, entry.get("asked"))
        asked, credit = opened if opened is not None else (sorted(steps), None)
        t = tally(steps, asked, mode, credit)
        elapsed = entry.get("elapsed", 0)
        rows.append(
            {
                "lesson": lesson_id,
                "correct": t.correct,
                "carried": t.carried,
                "revealed": t.revealed,
                "attempted": t.attempted,
                "total": len(asked),
                "current": t.next_step,
                "score": t.points,  # always a float: 2.0, 1.5
                "seconds": round(float(elapsed), 1) if isinstance(elapsed, (int, float)) else 0.0,
                "key": key,
                "mode": mode,
                "seed": seed,
                "failed": t.failed,
                "misses": t.misses,
                "hints": t.hints,
                "finished": t.next_step is None,
                "updated": entry.get("updated"),
            }
        )
    return rows


def picker_progress(store: Progress, lesson_id: str) -> str:
    """A lesson's progress in a word, for the lesson picker ('new', '12/53', 'done'), from
    the saved state alone (opening every lesson to count its steps would slow the picker)."""
    saved = store.lessons().get(lesson_id)
    if not isinstance(saved, dict) or not isinstance(saved.get("steps"), dict):
        return "new"
    steps = saved["steps"]
    t = tally(steps, steps)
    if not t.done:
        return "new"
    total = saved.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total > 0:
        return "done" if t.done >= total else f"{t.done}/{total}"
    return f"{t.done} done"


def export_data(store: Progress) -> dict[str, Any]:
    return {
        "user": _user(),
        "data_dir": store.where,
        "lessons": lesson_rows(store),
        "attempts": store.attempts(),
    }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


LESSON_COLUMNS = [
    "user",
    "lesson",
    "mode",
    "seed",
    "score",
    "total",
    "correct",
    "carried",
    "revealed",
    "failed",
    "attempted",
    "misses",
    "hints",
    "seconds",
    "finished",
    "current",
    "updated",
]
ATTEMPT_COLUMNS = [
    "user",
    "time",
    "lesson",
    "seed",
    "mode",
    "step",
    "event",
    "input",
    "value",
    "verdict",
    "diagnosis",
    "hint_level",
    "seconds",
]
