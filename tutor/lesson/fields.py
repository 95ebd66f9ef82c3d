"""The checks every part of a lesson file is read with: each returns the value, or records a
``FILE: where: what`` problem and returns None, so that one reading reports every problem."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from tutor.lesson.model import Problem
from tutor.names import RESERVED, suggest

T = TypeVar("T")

MAX_ABS_NUMBER = 1e6
MAX_TEXT = 20_000
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
#: Step ids start with these, so no unit, weight, bias or error may (it would shadow a step).
RESERVED_PREFIXES = ("sum_", "out_", "new_", "delta_", "target_", "v_")

KINDS = {
    bool: "true/false",
    int: "a whole number",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a table",
}


def kind(value: Any) -> str:
    """What a TOML value is, in words."""
    return KINDS.get(type(value), type(value).__name__)


def clip(text: str, n: int = 30) -> str:
    """A short, printable rendering of a value for a message."""
    shown = text[: n - 1].encode("unicode_escape").decode("ascii")
    return shown + "…" if len(text) > n - 1 else shown


def join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


class Reader:
    """Collects problems with their key paths while walking the parsed TOML."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self.matrices: dict[int, Any] = {}  # filled by the compact weight form

    def bad(self, where: str, what: str) -> None:
        self.problems.append(Problem(self.file, where or "(top)", what))

    def check(self, ok: bool, where: str, what: str) -> bool:
        """Record ``what`` unless ``ok``; returns ``ok``."""
        if not ok:
            self.bad(where, what)
        return ok

    def keys(self, table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                hint = suggest(str(key), allowed)
                more = f" (did you mean '{hint}'?)" if hint else ""
                self.bad(join(where, key), f"unknown key{more}")

    def typed(self, value: Any, where: str, test: Callable[[Any], bool], what: str) -> Any | None:
        """``value`` if it passes ``test``, else a 'must be <what>, not <its kind>' problem."""
        if test(value):
            return value
        self.bad(where, f"must be {what}, not {kind(value)}")
        return None

    def choice(self, value: Any, where: str, choices: Iterable[str], what: str) -> str | None:
        """``value`` if it is one of ``choices`` (names), else an 'unknown <what>' problem."""
        options = list(choices)
        if isinstance(value, str) and value in options:
            return value
        self.bad(where, f"unknown {what} {clip(str(value))!r}; choose one of {', '.join(options)}")
        return None

    def table(self, value: Any, where: str) -> Mapping[str, Any] | None:
        if value is None:
            return None
        return self.typed(value, where, lambda v: isinstance(v, dict), "a table")

    def number(
        self,
        value: Any,
        where: str,
        *,
        positive: bool = False,
        limit: float = MAX_ABS_NUMBER,
    ) -> float | None:
        if self.typed(value, where, _is_number, "a number") is None:
            return None
        x = float(value)
        if not (
            self.check(
                math.isfinite(x), where, "must be a finite number (nan and inf are not allowed)"
            )
            and self.check(abs(x) <= limit, where, f"is too large (at most {limit:g} in size)")
            and self.check(not positive or x > 0, where, "must be greater than 0")
        ):
            return None
        return x

    def integer(self, value: Any, where: str, lo: int, hi: int) -> int | None:
        if self.typed(value, where, _is_integer, "a whole number") is None:
            return None
        return (
            value
            if self.check(lo <= value <= hi, where, f"must be between {lo} and {hi}")
            else None
        )

    def text(self, value: Any, where: str) -> str | None:
        if self.typed(value, where, lambda v: isinstance(v, str), "a string") is None:
            return None
        ok = self.check(
            len(value) <= MAX_TEXT, where, f"is too long (at most {MAX_TEXT} characters)"
        )
        return value if ok else None

    def boolean(self, value: Any, where: str) -> bool | None:
        return self.typed(value, where, lambda v: isinstance(v, bool), "true or false")

    def name(self, value: Any, where: str) -> str | None:
        text = self.text(value, where)
        if text is None:
            return None
        clash = next((p for p in RESERVED_PREFIXES if text.startswith(p)), None)
        ok = (
            self.check(
                bool(NAME_RE.fullmatch(text)),
                where,
                f"'{clip(text)}' is not a valid name (a letter, then up to 31 letters, digits or _)",
            )
            and self.check(
                text not in RESERVED,
                where,
                f"'{text}' is reserved for formulas; choose another name",
            )
            and self.check(
                clash is None,
                where,
                f"'{text}' starts like a step id ({clash}…); choose another name",
            )
        )
        return text if ok else None

    def patterns(self, value: Any, where: str) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.bad(where, "must be a list of step ids (glob patterns such as 'dsum_*' allowed)")
            return None
        return tuple(value)

    def pair(self, value: Any, where: str) -> tuple[float, float] | None:
        if not self.check(
            isinstance(value, list) and len(value) == 2, where, "must be a range [low, high]"
        ):
            return None
        lo = self.number(value[0], f"{where}[0]")
        hi = self.number(value[1], f"{where}[1]")
        if lo is None or hi is None:
            return None
        return (
            (lo, hi)
            if self.check(lo <= hi, where, f"low {lo:g} is greater than high {hi:g}")
            else None
        )

    def each(
        self, values: list[Any], where: str, read: Callable[[Any, str], T | None]
    ) -> list[T] | None:
        """Every item of ``values`` read with ``read`` (``where[k]`` for the k-th), or None if
        any was bad (each bad one reported)."""
        got = [read(v, f"{where}[{k}]") for k, v in enumerate(values)]
        kept = [v for v in got if v is not None]
        return kept if len(kept) == len(got) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
