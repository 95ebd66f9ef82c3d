"""Grade a whole pencil-and-paper worksheet (``tutor grade``).

Answers come as JSON (``{"step id": answer}``) or CSV (``step,answer``). Steps are graded in
plan order, and each step's carried value uses the answers *entered* for earlier steps.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.grading.grade import Grader
from tutor.grading.misconceptions import TITLES
from tutor.grading.verdict import CARRIED, CORRECT, INCORRECT, INVALID, MISSING, Verdict
from tutor.names import suggest
from tutor.numfmt import fmt_value
from tutor.plan.steps import Plan

MAX_ANSWERS_BYTES = 1024 * 1024


class WorksheetError(Exception):
    """Answers that cannot be read; the message is one line naming the file."""


@dataclass(frozen=True)
class WorksheetResult:
    lesson: str
    verdicts: list[Verdict]

    def summary(self) -> dict[str, int | float]:
        counts = Counter(v.verdict for v in self.verdicts)
        total = len(self.verdicts)
        score = counts[CORRECT] + counts[CARRIED]
        return {
            CORRECT: counts[CORRECT],
            CARRIED: counts[CARRIED],
            INCORRECT: counts[INCORRECT],
            INVALID: counts[INVALID],
            MISSING: counts[MISSING],
            "total": total,
            "score": score,
            "percent": round(100.0 * score / total, 1) if total else 0.0,
        }

    @property
    def all_answered_right(self) -> bool:
        return all(v.verdict in (CORRECT, CARRIED, MISSING) for v in self.verdicts)


def read_answers(path: str | Path, plan: Plan) -> dict[str, str]:
    """Read a JSON or CSV answer file into {step id: answer text}."""
    p = Path(path)
    try:
        if p.is_dir():
            raise WorksheetError(f"{path}: is a folder, not an answer file")
        if p.stat().st_size > MAX_ANSWERS_BYTES:
            raise WorksheetError(f"{path}: too large (at most {MAX_ANSWERS_BYTES} bytes)")
        text = p.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise WorksheetError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise WorksheetError(f"{path}: not UTF-8 text") from None
    except OSError as err:
        raise WorksheetError(f"{path}: cannot be read ({err.strerror})") from None
    looks_json = text.lstrip()[:1] in ("{", "[") or str(path).lower().endswith(".json")
    answers = _parse_json(text, path) if looks_json else _parse_csv(text, path)
    ids = [s.id for s in plan]
    for step_id in answers:
        if step_id not in plan:
            near = suggest(step_id, ids)
            more = f" (did you mean '{near}'?)" if near else ""
            raise WorksheetError(f"{path}: unknown step '{step_id[:40]}'{more}")
    return answers


def _parse_json(text: str, path: str | Path) -> dict[str, str]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        where = f" at line {err.lineno}" if isinstance(err, json.JSONDecodeError) else ""
        raise WorksheetError(f"{path}: not valid JSON{where}") from None
    if not isinstance(data, dict):
        raise WorksheetError(f'{path}: JSON answers must be an object {{"step id": answer}}')
    out = {}
    for key, value in data.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, (str, int, float))
            and value is not None
        ):
            raise WorksheetError(
                f"{path}: the answer for '{key[:40]}' must be a number or a string"
            )
        if value is not None:
            out[key] = value if isinstance(value, str) else repr(value)
    return out


def _parse_csv(text: str, path: str | Path) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as err:
        raise WorksheetError(f"{path}: not valid CSV ({err})") from None
    for n, row in enumerate(rows, start=1):
        if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if n == 1 and row[0].strip().lower() in ("step", "id", "step_id"):
            continue
        if len(row) < 2:
            raise WorksheetError(f"{path}: line {n}: expected 'step,answer'")
        step_id = row[0].strip()
        if step_id in out:
            raise WorksheetError(f"{path}: line {n}: step '{step_id[:40]}' is answered twice")
        # an answer may itself contain commas only if quoted; extra cells are joined back
        out[step_id] = ",".join(row[1:]).strip()
    return out


def grade_worksheet(plan: Plan, answers: dict[str, str]) -> WorksheetResult:
    grader = Grader(plan)
    entered: dict[str, float] = {}
    verdicts = []
    for step in plan:
        text = answers.get(step.id)
        if not step.asked:
            if text is not None:
                try:
                    entered[step.id] = grader.parse(text).value
                except Exception:  # noqa: BLE001 - a shown step's answer is not graded
                    pass
            continue
        v = grader.grade(
            step.id, text if text is None or text.strip() else None, entered, reveal_expected=True
        )
        if v.value is not None:
            entered[step.id] = v.value
        verdicts.append(v)
    return WorksheetResult(plan.lesson.id, verdicts)


def to_json(result: WorksheetResult) -> dict[str, Any]:
    return {
        "lesson": result.lesson,
        "steps": [
            {
                "id": v.step_id,
                "answer": v.answer,
                "verdict": v.verdict,
                "expected": v.expected,
                "diagnosis": v.diagnosis,
                "message": v.message,
            }
            for v in result.verdicts
        ],
        "summary": result.summary(),
    }


def to_table(result: WorksheetResult, decimals: int) -> str:
    rows = [("STEP", "ANSWER", "VERDICT", "EXPECTED", "NOTE")]
    for v in result.verdicts:
        note = TITLES.get(v.diagnosis or "", v.diagnosis or "")
        answer = "".join(ch if ch.isprintable() else " " for ch in (v.answer or "-"))[:24]
        rows.append((v.step_id, answer, v.verdict, fmt_value(v.expected, decimals), note))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=False)) + "  " + r[4]
        for r in rows
    ]
    s = result.summary()
    lines.append("")
    lines.append(
        f"{result.lesson}: {s['score']}/{s['total']} ({s['percent']}%) — {s[CORRECT]} correct, "
        f"{s[CARRIED]} carried, {s[INCORRECT]} incorrect, {s[INVALID]} invalid, "
        f"{s[MISSING]} missing"
    )
    return "\n".join(line.rstrip() for line in lines) + "\n"
