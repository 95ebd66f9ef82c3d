"""The shape of every record the store reads back: one small checker per record type.

A progress file can be valid JSON of the wrong shape (edited by hand, written by another
version, damaged). Whatever reads a record trusts these checkers instead of guarding every
use: a step record (:func:`step_problem`), a lesson entry of the state file
(:func:`lesson_problems`), the state file as a whole (:func:`clean_state`) and a line of the
attempt log (:func:`log_problem`). A checker answers ``"where: what"`` for the first thing
wrong, or None. Numbers must be finite everywhere (JSON readers accept ``Infinity``, and
``1e999`` reads as one), and counts must be whole and in range, so that nothing later
overflows or prints ``Infinity`` into an export.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], str | None]
#: counts and seeds stay exact as floats (the reports turn them into floats)
LARGEST = 2**53


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) else "not text"


def _text_or_null(v: Any) -> str | None:
    return None if v is None or isinstance(v, str) else "not text or null"


def _count(v: Any) -> str | None:
    if not isinstance(v, int) or isinstance(v, bool):
        return "not a whole number"
    return None if 0 <= v <= LARGEST else "out of range"


def _count_or_null(v: Any) -> str | None:
    return None if v is None else _count(v)


def _number(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return "not a number"
    if isinstance(v, int):
        return None if abs(v) <= LARGEST else "out of range"
    return None if math.isfinite(v) else "not a finite number"


def _number_or_null(v: Any) -> str | None:
    return None if v is None else _number(v)


def _amount(v: Any) -> str | None:
    """Seconds and points: finite and not negative."""
    why = _number(v)
    return why or (None if 0 <= v <= LARGEST else "out of range")


def _texts(v: Any) -> str | None:
    if not isinstance(v, list):
        return "not a list"
    return None if all(isinstance(x, str) for x in v) else "not a list of text"


def _boxes(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "not an object"
    bad = next((k for k, box in v.items() if _count(box)), None)
    return None if bad is None else f"{quote(bad)}: not a whole number in range"


STEP_FIELDS: dict[str, Check] = {
    "status": _text,
    "answer": _text_or_null,
    "value": _number_or_null,
    "attempts": _count,
    "misses": _count,
    "hint_level": _count,
    "hints_asked": _count,
    "seconds": _amount,
    "diagnoses": _texts,
    "points": _amount,
}
#: the fields of a lesson entry besides its ``steps``; the log's events carry them too
ENTRY_FIELDS: dict[str, Check] = {
    "lesson": _text,
    "seed": _count_or_null,
    "mode": _text,
    "elapsed": _amount,
    "total": _count,
    "current": _text_or_null,
    "asked": _texts,
    "updated": _text,
}
LOG_FIELDS: dict[str, Check] = {
    **ENTRY_FIELDS,
    "time": _text,
    "event": _text,
    "lesson_key": _text,
    "step": _text,
    "input": _text_or_null,
    "value": _number_or_null,
    "verdict": _text_or_null,
    "diagnosis": _text_or_null,
    "hint_level": _count,
    "seconds": _amount,
    "leitner": _boxes,
}


def quote(text: str, width: int = 40) -> str:
    """A key from a file, quoted so that it prints safely (escapes shown, not acted on)."""
    shown = json.dumps(text, ensure_ascii=True)
    return shown if len(shown) <= width else shown[: width - 2] + '…"'


def _fields(data: Any, checks: dict[str, Check], walk: bool = True) -> str | None:
    """``walk``: look for non-finite numbers below the known fields too (False: the caller
    knows there can be none, e.g. JSON text with no NaN, Infinity or large exponent)."""
    if not isinstance(data, dict):
        return "not an object"
    for name, check in checks.items():
        if name in data:
            why = check(data[name])
            if why:
                return f"{name}: {why}"
    return _non_finite(data) if walk else None


def _non_finite(data: Any) -> str | None:
    """The first number anywhere in ``data`` that is not finite (fields no checker knows
    still reach the JSON export). Iterative: the depth is the file's to choose."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return "a number that is not finite"
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def step_problem(record: Any, walk: bool = True) -> str | None:
    """What is wrong with one step record, or None."""
    return _fields(record, STEP_FIELDS, walk)


def lesson_problems(entry: Any) -> tuple[str | None, dict[str, str]]:
    """What is wrong with a lesson entry as a whole (its own fields), and with each of its
    step records (step id → what): a bad step is dropped alone, a bad entry whole."""
    if not isinstance(entry, dict):
        return "not an object", {}
    own = _fields({k: v for k, v in entry.items() if k != "steps"}, ENTRY_FIELDS)
    if own:
        return own, {}
    steps = entry.get("steps", {})
    if not isinstance(steps, dict):
        return "steps: not an object", {}
    bad = {}
    for step_id, record in steps.items():
        why = step_problem(record)
        if why:
            bad[step_id] = why
    return None, bad


def clean_state(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The usable part of a state file whose ``lessons`` is an object, and what was left
    out (``"where: what"``, one per record): bad entries and steps, bad boxes and a bad
    ``log_bytes`` (the log is then read again from its start)."""
    problems: list[str] = []
    lessons: dict[str, Any] = {}
    for key, entry in data["lessons"].items():
        where = f"lessons[{quote(key)}]"
        why, bad_steps = lesson_problems(entry)
        if why:
            problems.append(f"{where}: {why}")
            continue
        steps = {k: v for k, v in entry.get("steps", {}).items() if k not in bad_steps}
        problems += [f"{where}.steps[{quote(k)}].{w}" for k, w in bad_steps.items()]
        lessons[key] = {**entry, "steps": steps}
    state: dict[str, Any] = {"version": data.get("version", 1), "lessons": lessons}
    for name, check in (("leitner", _boxes), ("log_bytes", _count)):
        if name in data:
            why = check(data[name])
            if why:
                problems.append(f"{name}: {why}")
            else:
                state[name] = data[name]
    return state, problems


def log_problem(entry: Any, walk: bool = True) -> str | None:
    """What is wrong with one event of the attempt log, or None. A reset names the entry it
    reset; any other event names its entry and step and carries the step's record.
    ``walk=False``: the caller has ruled out non-finite numbers (see :func:`_fields`)."""
    why = _fields(entry, LOG_FIELDS, walk)
    if why:
        return why
    if "event" not in entry:
        return "event: missing"
    for name in ("lesson_key",) if entry["event"] == "reset" else ("lesson_key", "step"):
        if name not in entry:
            return f"{name}: missing"
    if entry["event"] == "reset":
        return None
    if "record" not in entry:
        return "record: missing"
    why = step_problem(entry["record"], walk=False)  # the entry's walk went through it
    return None if why is None else f"record.{why}"
