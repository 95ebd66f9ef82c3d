"""Grade a whole pencil-and-paper worksheet (``tutor grade``).

Answers come as JSON (``{"step": answer}``) or CSV (``step,answer``), each step named by its id
(``dE_total/dw5``) or by the label the learner saw on screen (``∂E_total/∂w5``). Steps are
graded in plan order, and each step's carried value uses the answers *entered* for earlier
steps. An answer may use names as in the app (``out_h1*(1-out_h1)``): the lesson's givens,
and the values entered for earlier steps, whatever their verdict, as carried grading does;
``[quiz] names = false`` switches them off here too (``exam_names`` is for the app's exams).
A name that is no step does not stop the rest from being graded: it is listed, with
the nearest name, in the result.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tutor.grading.grade import Grader
from tutor.grading.misconceptions import TITLES
from tutor.grading.verdict import CARRIED, CORRECT, INCORRECT, INVALID, MISSING, Verdict
from tutor.names import suggest
from tutor.numfmt import fmt_value
from tutor.plan.steps import Plan
from tutor.textmode import json_text

MAX_ANSWERS_BYTES = 1024 * 1024
#: How much did-you-mean work one worksheet may cost, in names compared: a 53-step lesson
#: suggests for thousands of unknown names, a 200,000-step one for the first two only.
SUGGEST_BUDGET = 1_000_000

_TYPED = str.maketrans({"∂": "d", "δ": "delta"})
#: What JSON leaves raw but a terminal would act on: DEL, C1 controls, bidi marks and overrides.


class WorksheetError(Exception):
    """Answers that cannot be read; the message is one line naming the file."""


def quoted(name: str, limit: int = 40) -> str:
    """A name from the file as the messages quote it: repr-like, so that control characters
    and bidi overrides are shown escaped instead of acted on by the terminal; long ones cut."""
    return repr(name if len(name) <= limit else name[:limit] + "…")


def plain_name(name: str) -> str:
    """A step name as its id spells it: the screen's ∂ and δ typed as ``d`` and ``delta``
    (also in their compatibility forms, such as the mathematical italic ∂), spaces dropped.
    Ids are ASCII letters, digits, ``_`` and ``/``, so an id is its own plain name."""
    return "".join(unicodedata.normalize("NFKC", name).translate(_TYPED).split())


@dataclass(frozen=True)
class Unknown:
    """An answer under a name that is no step of the lesson: listed, never graded."""

    key: str
    answer: str | None
    line: int | None  # the CSV line, None for JSON
    suggestion: str | None

    @property
    def message(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        more = f" (did you mean {quoted(self.suggestion)}?)" if self.suggestion else ""
        return f"{where}unknown step {quoted(self.key)}{more}"


@dataclass(frozen=True)
class Answers:
    """A worksheet's answers by step id, and the names that matched no step."""

    by_step: dict[str, str]
    unknown: tuple[Unknown, ...] = ()


class StepNames:
    """Every way a worksheet may name a step of a plan: its id, its on-screen label, or
    either in its plain form (:func:`plain_name`). An id always names its own step; any
    other form that two steps would share names neither, so a loose spelling never lands on
    the wrong step. The other forms are gathered only when a name is not an id."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.ids = {step.id for step in plan.complete()}
        self.budget = SUGGEST_BUDGET

    @cached_property
    def loose(self) -> dict[str, str | None]:
        """Labels and plain forms → the step they name (None: more than one)."""
        loose: dict[str, str | None] = {}
        for step in self.plan.complete():
            for form in {step.label, plain_name(step.label), plain_name(step.id)}:
                if form in self.ids and form != step.id:
                    continue
                known = loose.get(form, step.id)
                loose[form] = step.id if known == step.id else None
        return loose

    @cached_property
    def choices(self) -> list[str]:
        """The ids and labels a did-you-mean chooses from."""
        return sorted(self.ids | {step.label for step in self.plan.complete()})

    def find(self, key: str) -> str | None:
        """The id of the step that ``key`` names, or None."""
        name = key.strip()
        if name in self.ids:
            return name
        return self.loose.get(name) or self.loose.get(plain_name(name))

    def suggest(self, key: str) -> str | None:
        """The nearest id or label, while the worksheet's did-you-mean budget lasts."""
        if self.budget < len(self.choices):
            return None
        self.budget -= len(self.choices)
        return suggest(key.strip(), self.choices)


def match_names(
    plan: Plan, entries: Iterable[tuple[str, str | None, int | None]], source: str
) -> Answers:
    """Answers keyed by step id from (name, answer, CSV line) entries. An unknown name is
    kept aside with its suggestion; a step named twice (the same name twice, or its id and
    its label) is an error, since which answer counts would be a guess."""
    names = StepNames(plan)
    by_step: dict[str, str] = {}
    named_as: dict[str, str] = {}
    unknown: list[Unknown] = []
    for key, answer, line in entries:
        step_id = names.find(key)
        if step_id is None:
            unknown.append(Unknown(key, answer, line, names.suggest(key)))
            continue
        if step_id in named_as:
            where = f"{source}: line {line}" if line is not None else source
            first = named_as[step_id]
            how = "" if first == key else f", as {quoted(first)} and as {quoted(key)}"
            raise WorksheetError(f"{where}: step {quoted(step_id)} is answered twice{how}")
        named_as[step_id] = key
        if answer is not None:
            by_step[step_id] = answer
    return Answers(by_step, tuple(unknown))


@dataclass(frozen=True)
class WorksheetResult:
    lesson: str
    verdicts: list[Verdict]
    unknown: tuple[Unknown, ...] = ()

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


def read_answers(path: str | Path, plan: Plan) -> Answers:
    """Read a JSON or CSV answer file: its answers by step id, and the names that are no step."""
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
    entries = _parse_json(text, path) if looks_json else _parse_csv(text, path)
    return match_names(plan, entries, str(path))


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its (key, value) pairs in order, so that a key given twice is seen."""


def _parse_json(text: str, path: str | Path) -> list[tuple[str, str | None, int | None]]:
    try:
        data = json.loads(text, object_pairs_hook=_Pairs)
    except (json.JSONDecodeError, RecursionError) as err:
        where = f" at line {err.lineno}" if isinstance(err, json.JSONDecodeError) else ""
        raise WorksheetError(f"{path}: not valid JSON{where}") from None
    if not isinstance(data, _Pairs):
        raise WorksheetError(f'{path}: JSON answers must be an object {{"step id": answer}}')
    out: list[tuple[str, str | None, int | None]] = []
    for key, value in data:
        if (
            isinstance(value, bool)
            or not isinstance(value, (str, int, float))
            and value is not None
        ):
            raise WorksheetError(
                f"{path}: the answer for {quoted(key)} must be a number or a string"
            )
        out.append((key, value if isinstance(value, str) or value is None else repr(value), None))
    return out


def _parse_csv(text: str, path: str | Path) -> list[tuple[str, str | None, int | None]]:
    out: list[tuple[str, str | None, int | None]] = []
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
        # an answer may itself contain commas only if quoted; extra cells are joined back
        out.append((row[0].strip(), ",".join(row[1:]).strip(), n))
    return out


def grade_worksheet(plan: Plan, answers: Answers | Mapping[str, str | None]) -> WorksheetResult:
    """Grade every asked step; a mapping's keys may be ids or labels, as in a file."""
    if not isinstance(answers, Answers):
        answers = match_names(plan, [(k, v, None) for k, v in answers.items()], "answers")
    sheet = answers.by_step
    grader = Grader(plan)
    entered: dict[str, float] = {}
    verdicts = []
    for step in plan:
        text = sheet.get(step.id)
        if not step.asked:
            if text is not None:
                try:
                    entered[step.id] = grader.parse(text, step.id, entered).value
                except Exception:  # noqa: BLE001 - a shown step's answer is not graded
                    pass
            continue
        v = grader.grade(
            step.id, text if text is None or text.strip() else None, entered, reveal_expected=True
        )
        if v.value is not None:
            entered[step.id] = v.value
        verdicts.append(v)
    return WorksheetResult(plan.lesson.id, verdicts, answers.unknown)


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
                "understood": v.understood,
            }
            for v in result.verdicts
        ],
        "summary": result.summary(),
        "unknown": [
            {
                "key": u.key,
                "answer": u.answer,
                "line": u.line,
                "did_you_mean": u.suggestion,
                "message": u.message,
            }
            for u in result.unknown
        ],
    }


def to_json_text(result: WorksheetResult) -> str:
    """:func:`to_json` as text that is safe to print: what JSON would leave raw and a terminal
    would act on (C1 controls, bidi overrides) is written as a \\u escape, still valid JSON."""
    return json_text(to_json(result), indent=2)


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
    lines += [f"not graded: {u.message}" for u in result.unknown]
    return "\n".join(line.rstrip() for line in lines) + "\n"
