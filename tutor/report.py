"""Per-lesson progress for ``tutor progress`` and ``tutor export``, read from the store.

No Textual and no screens: it rebuilds each lesson's plan (and variant) to know the total and
the next step, and reads the records the app saved.
"""

from __future__ import annotations

import getpass
from typing import Any

from tutor.progress import ProgressStore

DONE = ("correct", "carried", "revealed", "shown", "failed")


def _plan_for(lesson_id: str, seed: int | None):
    from tutor.lesson import LessonError, load_lesson
    from tutor.locations import lesson_files
    from tutor.plan import build_plan

    path = lesson_files().get(lesson_id)
    if path is None:
        return None
    try:
        lesson = load_lesson(path, lesson_id)
        if seed is not None and lesson.variants is not None:
            from tutor.variants import draw_variant

            lesson = draw_variant(lesson, seed)
        return build_plan(lesson)
    except LessonError:
        return None


def lesson_rows(store: ProgressStore, only: str | None = None) -> list[dict[str, Any]]:
    """One row per lesson (and variant and mode) the learner has started."""
    rows = []
    for key, entry in sorted(store.state().get("lessons", {}).items()):
        if not isinstance(entry, dict):
            continue
        lesson_id = str(entry.get("lesson", key.split("@")[0].split("#")[0]))
        if only is not None and only not in (lesson_id, key):
            continue
        seed = entry.get("seed") if isinstance(entry.get("seed"), int) else None
        steps = entry.get("steps", {}) if isinstance(entry.get("steps"), dict) else {}
        asked_only = entry.get("asked")
        plan = _plan_for(lesson_id, seed)
        if plan is not None:
            asked = [s.id for s in plan if s.asked and (not asked_only or s.id in asked_only)]
        else:
            asked = sorted(steps)

        def status(step_id: str, steps: dict = steps) -> str:
            rec = steps.get(step_id)
            return rec.get("status", "todo") if isinstance(rec, dict) else "todo"

        counts = {
            v: sum(1 for s in asked if status(s) == v)
            for v in ("correct", "carried", "revealed", "failed")
        }
        attempted = sum(
            1
            for s in asked
            if isinstance(steps.get(s), dict) and (steps[s].get("attempts") or 0) > 0
        )
        current = next((s for s in asked if status(s) not in DONE), None)
        mode = str(entry.get("mode", "learn"))
        if mode == "exam":
            score: float = round(
                sum(
                    float(steps[s].get("points", 0) or 0)
                    for s in asked
                    if isinstance(steps.get(s), dict)
                ),
                2,
            )
        else:
            score = counts["correct"] + counts["carried"]
        elapsed = entry.get("elapsed", 0)
        rows.append(
            {
                "lesson": lesson_id,
                "correct": counts["correct"],
                "carried": counts["carried"],
                "revealed": counts["revealed"],
                "attempted": attempted,
                "total": len(asked),
                "current": current,
                "score": score,
                "seconds": round(float(elapsed), 1) if isinstance(elapsed, (int, float)) else 0.0,
                "key": key,
                "mode": mode,
                "seed": seed,
                "failed": counts["failed"],
                "finished": current is None,
                "updated": entry.get("updated"),
            }
        )
    return rows


def export_data(store: ProgressStore) -> dict[str, Any]:
    return {
        "user": _user(),
        "data_dir": str(store.root),
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
