"""The parts of a lesson file besides the network: the error names, the quiz settings and
tolerances, hints, variant ranges and the training set."""

from __future__ import annotations

from typing import Any

from tutor.lesson.fields import Reader
from tutor.lesson.model import Credit, Layer, QuizSettings, Training, VariantRanges, Weight
from tutor.lesson.network import read_example
from tutor.names import FORMS
from tutor.tolerance import MODES, Tolerance

QUIZ_KEYS = {
    "decimals",
    "ask",
    "show",
    "expressions",
    "form",
    "tolerance",
    "step_tolerance",
    "credit",
    "names",
    "exam_names",
}
CREDIT_KEYS = ("per_wrong", "per_hint", "floor")
TOLERANCE_KEYS = {"mode", "rtol", "atol", "digits"}
VARIANT_KEYS = {"inputs", "weights", "biases", "targets", "learning_rate", "round", "ranges"}


def read_errors(r: Reader, raw: Any, outputs: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    defaults = tuple(f"E{k}" for k in range(1, len(outputs) + 1))
    if raw is None:
        return defaults, "E_total"
    table = r.table(raw, "errors")
    if table is None:
        return defaults, "E_total"
    r.keys(table, "errors", set(outputs) | {"total"})
    names = []
    for u, default in zip(outputs, defaults, strict=True):
        names.append(r.name(table[u], f"errors.{u}") if u in table else default)
    total = r.name(table.get("total", "E_total"), "errors.total") or "E_total"
    return tuple(n or "E" for n in names), total


def read_quiz(r: Reader, raw: Any) -> QuizSettings:
    table = r.table(raw, "quiz") or {}
    r.keys(table, "quiz", QUIZ_KEYS)
    decimals = r.integer(table.get("decimals", 5), "quiz.decimals", 1, 12) or 5
    ask = r.patterns(table["ask"], "quiz.ask") if "ask" in table else None
    show = r.patterns(table.get("show", []), "quiz.show") or ()
    expressions = table.get("expressions", True)
    if r.boolean(expressions, "quiz.expressions") is None:
        expressions = True
    form = r.choice(table.get("form", "auto"), "quiz.form", FORMS, "form") or "auto"
    tolerance = _tolerance(r, table.get("tolerance", {}), "quiz.tolerance", decimals)
    step_tol: dict[str, Tolerance] = {}
    for key, value in (
        r.table(table.get("step_tolerance", {}), "quiz.step_tolerance") or {}
    ).items():
        step_tol[key] = _tolerance(r, value, f'quiz.step_tolerance."{key}"', decimals)
    credit = _credit(r, table["credit"]) if "credit" in table else None
    names = r.boolean(table.get("names", True), "quiz.names")
    exam_names = (
        r.boolean(table["exam_names"], "quiz.exam_names") if "exam_names" in table else None
    )
    if expressions is False and (names is True and "names" in table or exam_names is True):
        key = "names" if "names" in table and names else "exam_names"
        r.bad(f"quiz.{key}", "names need expressions: remove 'expressions = false' or this key")
    return QuizSettings(
        decimals,
        ask,
        show,
        bool(expressions),
        form,
        tolerance,
        step_tol,
        credit,
        names=names is not False,
        exam_names=exam_names,
    )


def _credit(r: Reader, raw: Any) -> Credit | None:
    """``credit = { per_wrong, per_hint, floor }``: each a fraction of a step, 0 to 1."""
    table = r.table(raw, "quiz.credit")
    if table is None:
        return None
    r.keys(table, "quiz.credit", set(CREDIT_KEYS))
    values: dict[str, float] = {}
    for key in CREDIT_KEYS:
        if key not in table:
            continue
        where = f"quiz.credit.{key}"
        x = r.number(table[key], where)
        if x is not None and r.check(0 <= x <= 1, where, "must be a number from 0 to 1"):
            values[key] = x
    return Credit(**values)  # a bad value is a problem, so the lesson is refused anyway


def _tolerance(r: Reader, raw: Any, where: str, decimals: int) -> Tolerance:
    table = r.table(raw, where)
    if table is None:
        return Tolerance(decimals=decimals)
    r.keys(table, where, TOLERANCE_KEYS)
    mode = r.choice(table.get("mode", "decimals"), f"{where}.mode", MODES, "mode") or "decimals"
    values: dict[str, Any] = {}
    for key in ("rtol", "atol"):
        if key in table:
            x = r.number(table[key], f"{where}.{key}", limit=1e3)
            if x is not None and r.check(x >= 0, f"{where}.{key}", "must be a number ≥ 0"):
                values[key] = x
    if "digits" in table:
        values["digits"] = r.integer(table["digits"], f"{where}.digits", 1, 15)
    if None in values.values():
        return Tolerance(decimals=decimals)
    return Tolerance(mode=mode, decimals=decimals, **values)


def read_hints(r: Reader, raw: Any) -> dict[str, tuple[str, ...]]:
    table = r.table(raw, "hints") or {}
    hints: dict[str, tuple[str, ...]] = {}
    for step, value in table.items():
        where = f'hints."{step}"'
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not 1 <= len(value) <= 3:
            r.bad(where, "must be a string or a list of 1 to 3 strings (hint levels 1, 2, 3)")
            continue
        texts = r.each(value, where, r.text)
        if texts is not None:
            hints[step] = tuple(texts)
    return hints


def read_variants(
    r: Reader, raw: Any, layers: list[Layer], weights: list[Weight]
) -> VariantRanges | None:
    if raw is None:
        return None
    table = r.table(raw, "variants")
    if table is None:
        return None
    r.keys(table, "variants", VARIANT_KEYS)
    got: dict[str, Any] = {}
    for key in ("inputs", "weights", "biases", "learning_rate"):
        if key in table:
            got[key] = r.pair(table[key], f"variants.{key}")
    if "targets" in table:
        t = table["targets"]
        got["targets"] = t if t == "one-hot" else r.pair(t, "variants.targets")
    rounding = r.integer(table.get("round", 2), "variants.round", 0, 12)
    known = (
        {u for layer in layers for u in layer.units}
        | {w.name for w in weights}
        | {b for layer in layers for b in (layer.bias_names or ())}
        | {"learning_rate"}
    )
    ranges: dict[str, tuple[float, float]] = {}
    for name, value in (r.table(table.get("ranges", {}), "variants.ranges") or {}).items():
        if name not in known:
            r.bad(f"variants.ranges.{name}", "names no unit, weight, bias or learning_rate")
            continue
        pair = r.pair(value, f"variants.ranges.{name}")
        if pair:
            ranges[name] = pair
    return VariantRanges(round=rounding if rounding is not None else 2, ranges=ranges, **got)


def read_training(r: Reader, raw: Any, layers: list[Layer]) -> Training | None:
    """``[training]``: ``examples = [{inputs = [...], targets = [...]}, ...]`` and ``epochs``."""
    if raw is None or not layers:
        return None
    table = r.table(raw, "training")
    if table is None:
        return None
    r.keys(table, "training", {"examples", "epochs"})
    examples = table.get("examples")
    if not isinstance(examples, list) or not examples or len(examples) > 10_000:
        r.bad("training.examples", "must be a list of 1 to 10000 {inputs = [...], targets = [...]}")
        return None
    read = [read_example(r, ex, f"training.examples[{k}]", layers) for k, ex in enumerate(examples)]
    xs = [ex[0] for ex in read if ex is not None]
    ts = [ex[1] for ex in read if ex is not None]
    epochs = r.integer(table.get("epochs", 1000), "training.epochs", 1, 100_000)
    if r.problems or epochs is None:
        return None
    return Training(tuple(xs), tuple(ts), epochs)
