"""``tutor class report``: the gradebook and the question statistics as a table, CSV,
JSON or Markdown. The figures come from :mod:`tutor.classroom.figures`; this module only
reads the options and lays the figures out. No Textual."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tutor.cli.common import CliError
from tutor.textmode import json_text, spreadsheet_cell, visible

PARTS = ("gradebook", "questions")
_AGO = re.compile(r"(\d{1,6})\s*([mhd])")


def since_time(text: str, now: datetime | None = None) -> datetime:
    """``--since``: an ISO date or date-time (local time unless it has an offset), or a
    time ago: ``90m``, ``2h``, ``7d``."""
    now = now or datetime.now(UTC)
    found = _AGO.fullmatch(text.strip())
    if found:
        n, unit = int(found.group(1)), found.group(2)
        return now - timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: n})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(
            f"--since {text!r}: give a date or time (2026-12-07, 2026-12-07T09:00) or a time "
            "ago (90m, 2h, 7d)"
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()  # the instructor's own time zone
    return when.astimezone(UTC)


def duration(seconds: float | None) -> str:
    """1:05 (minutes:seconds), 1:02:05 past an hour; '' for nothing."""
    if seconds is None:
        return ""
    total = int(round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def rate(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


def counts(found: dict[str, int]) -> str:
    """``bias_forgotten 3, half_dropped 1``."""
    return ", ".join(f"{k} {n}" for k, n in found.items())


def answers(found: dict[str, int]) -> str:
    """The answers typed, quoted as typed: ``"0.5" 3, "1/2" 1``."""
    return ", ".join(f"{json_text(k)} {n}" for k, n in found.items())


# --- the gradebook's and the statistics' rows, as text cells
def gradebook_columns(data: dict[str, Any]) -> list[str]:
    cols = ["student", "status", "absent"]
    for lesson in data["lessons"]:
        cols += [f"{lesson} {c}" for c in ("score", "steps", "first try", "hints", "reveals")]
        cols.append(f"{lesson} seconds")
    for exam in data["exams"]:
        cols += [f"{exam} exam {c}" for c in ("score", "steps", "seed", "minutes", "in window")]
    return cols


def gradebook_row(s: dict[str, Any], data: dict[str, Any]) -> list[Any]:
    row: list[Any] = [s["student"], s["status"], "absent" if s["absent"] else ""]
    for lesson in data["lessons"]:
        c = s["lessons"].get(lesson)
        if c is None:
            row += [""] * 6
        else:
            row += [c["score"], c["steps"], c["first_try"], c["hints"], c["reveals"]]
            row.append(c["seconds"])
    for exam in data["exams"]:
        e = s["exams"].get(exam)
        if e is None:
            row += [""] * 5
        else:
            row += [e["score"], e["steps"], e["seed"], e["minutes"], e["finished"]]
    return row


QUESTION_COLUMNS = [
    "lesson",
    "step",
    "attempts",
    "students",
    "first try",
    "median time",
    "reveals",
    "mistakes",
    "unmatched answers",
]


def question_cells(q: dict[str, Any]) -> list[Any]:
    """One step's statistics as the table, CSV and Markdown show them."""
    return [
        q["label"],
        q["attempts"],
        q["students"],
        rate(q["first_try_rate"]),
        duration(q["median_seconds"]),
        q["reveals"],
        counts(q["mistakes"]),
        answers(q["unmatched"]),
    ]


def question_rows(data: dict[str, Any]) -> list[list[Any]]:
    return [
        [lesson, *question_cells(q)] for lesson, steps in data["questions"].items() for q in steps
    ]


# --- the formats
def as_csv(data: dict[str, Any], only: str | None) -> str:
    """The gradebook, then a blank line and the statistics (or the one ``only`` names).
    Every cell spreadsheet-safe: a name or a typed answer that starts like a formula stays
    text."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    if only in (None, "gradebook"):
        writer.writerow([spreadsheet_cell(c) for c in gradebook_columns(data)])
        for s in data["students"]:
            writer.writerow([spreadsheet_cell(v) for v in gradebook_row(s, data)])
    if only is None:
        writer.writerow([])
    if only in (None, "questions"):
        writer.writerow(QUESTION_COLUMNS)
        for row in question_rows(data):
            writer.writerow([spreadsheet_cell(v) for v in row])
    return buf.getvalue()


def as_json(data: dict[str, Any], only: str | None) -> str:
    shown = {k: v for k, v in data.items() if k != "warnings"}
    if only == "gradebook":
        shown.pop("questions")
    elif only == "questions":
        shown.pop("students")
    return json_text(shown, indent=2) + "\n"


def as_text(data: dict[str, Any], only: str | None, markdown: bool = False) -> str:
    """The report to read: one table per lesson, then the exams, then each lesson's steps."""
    out: list[str] = []
    heading = (lambda t: f"## {t}") if markdown else (lambda t: t)
    since = f", since {data['since']}" if data["since"] else ""
    students = data["students"]
    absent = sum(s["absent"] for s in students)
    title = f"# {data['course']}" if markdown else data["course"]
    out += [
        title,
        "",
        f"{len(students)} student{'s' * (len(students) != 1)}, {absent} absent; "
        f"{data['events']} events{since}.",
        "",
    ]
    if only in (None, "gradebook"):
        for lesson in data["lessons"]:
            out.append(heading(f"Lesson {lesson}"))
            out += table(
                ["student", "score", "steps", "first try", "hints", "reveals", "time"],
                [_lesson_line(s, lesson) for s in students],
                markdown,
            )
        for exam in data["exams"]:
            out.append(heading(f"Exam {exam}"))
            out += table(
                ["student", "score", "steps", "seed", "minutes", "in window"],
                [_exam_line(s, exam) for s in students],
                markdown,
            )
    if only in (None, "questions"):
        for lesson, steps in data["questions"].items():
            out.append(heading(f"Questions of {lesson}"))
            rows = [question_cells(q) for q in steps if q["attempts"] or q["reveals"]]
            if not rows:
                out += ["No answers yet.", ""]
                continue
            out += table(
                [
                    "step",
                    "tries",
                    "students",
                    "1st try",
                    "median",
                    "reveals",
                    "mistakes",
                    "unmatched",
                ],
                rows,
                markdown,
            )
    return "\n".join(out).rstrip("\n") + "\n"


def _lesson_line(s: dict[str, Any], lesson: str) -> list[Any]:
    c = s["lessons"].get(lesson)
    if c is None:
        return [s["student"], "absent" if s["absent"] else "-", "", "", "", "", ""]
    return [
        s["student"],
        f"{c['score']:g}",
        c["steps"],
        c["first_try"],
        c["hints"],
        c["reveals"],
        duration(c["seconds"]),
    ]


def _exam_line(s: dict[str, Any], exam: str) -> list[Any]:
    e = s["exams"].get(exam)
    if e is None:
        return [s["student"], "absent" if s["absent"] else "-", "", "", "", ""]
    return [s["student"], f"{e['score']:g}", e["steps"], e["seed"], e["minutes"], e["finished"]]


def table(headers: list[str], rows: list[list[Any]], markdown: bool) -> list[str]:
    """An aligned text table (numbers to the right), or a Markdown one whose cells are
    escaped (a typed answer is never read as markup)."""
    cells = [[visible(str(c)) for c in r] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
        lines += ["| " + " | ".join(_md(c) for c in r) + " |" for r in cells]
        return [*lines, ""]
    widths = [max(len(h), *(len(r[k]) for r in cells)) for k, h in enumerate(headers)]
    numeric = [all(_numberish(r[k]) for r in cells) for k in range(len(headers))]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for r in cells:
        lines.append(
            "  ".join(
                c.rjust(w) if num else c.ljust(w)
                for c, w, num in zip(r, widths, numeric, strict=True)
            ).rstrip()
        )
    return [*lines, ""]


def _numberish(text: str) -> bool:
    return text == "" or bool(re.fullmatch(r"[\d.:%]+", text))


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~-])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)
