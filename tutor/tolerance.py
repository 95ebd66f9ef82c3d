"""Tolerance modes for numeric answers (PrairieLearn's definitions, plus a decimals mode).

Kept apart from grading so that the lesson reader can validate a lesson's tolerance settings
without importing the grader.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tutor.values import Value

MODES = ("decimals", "relabs", "sigfig", "decdig")


class Tolerance(Value):
    """How close an answer must be.

    - ``decimals``: |x − v| < 10^−d, so the value rounded *or truncated* to d places passes;
    - ``relabs``: |x − v| ≤ atol + rtol·|v|;
    - ``sigfig``: |x − v| < 0.51·10^−(digits − 1 − ⌊log10|v|⌋);
    - ``decdig``: |x − v| < 0.51·10^−digits.
    """

    mode: str = "decimals"
    decimals: int = 5
    rtol: float = 1e-2
    atol: float = 1e-8
    digits: int = 3

    def epsilon(self, expected: float) -> float:
        """The half-width of the accepted interval around ``expected``."""
        if self.mode == "decimals":
            return 10.0**-self.decimals
        if self.mode == "relabs":
            return self.atol + self.rtol * abs(expected)
        if self.mode == "sigfig":
            if expected == 0 or not math.isfinite(expected):
                return 0.51 * 10.0 ** -(self.digits - 1)
            return 0.51 * 10.0 ** -(self.digits - 1 - math.floor(math.log10(abs(expected))))
        return 0.51 * 10.0**-self.digits

    def accepts(self, answer: float, expected: float) -> bool:
        if not (math.isfinite(answer) and math.isfinite(expected)):
            return answer == expected
        diff = abs(answer - expected)
        eps = self.epsilon(expected)
        if self.mode == "relabs":
            return diff <= eps
        # strict interval; a hair of slack for binary rounding of typed decimals
        return diff < eps * (1 + 1e-9)

    def describe(self) -> str:
        return {
            "decimals": f"to {self.decimals} decimal places",
            "relabs": f"within {self.rtol:g} relative (plus {self.atol:g})",
            "sigfig": f"to {self.digits} significant figures",
            "decdig": f"to {self.digits} decimal digits",
        }[self.mode]


def read_tolerance(
    raw: Mapping[str, Any], decimals: int
) -> tuple[Tolerance | None, list[tuple[str, str]]]:
    """Build a Tolerance from a lesson table; returns (tolerance, [(key, problem), ...])."""
    problems: list[tuple[str, str]] = []
    allowed = {"mode", "rtol", "atol", "digits"}
    for key in raw:
        if key not in allowed:
            problems.append((str(key), f"unknown key (allowed: {', '.join(sorted(allowed))})"))
    mode = raw.get("mode", "decimals")
    if mode not in MODES:
        problems.append(
            ("mode", f"unknown mode {str(mode)[:20]!r}; choose one of {', '.join(MODES)}")
        )
        mode = "decimals"
    values: dict[str, Any] = {}
    for key in ("rtol", "atol"):
        if key in raw:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1e3 or v != v:
                problems.append((key, "must be a number ≥ 0"))
            else:
                values[key] = float(v)
    if "digits" in raw:
        v = raw["digits"]
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 15:
            problems.append(("digits", "must be a whole number from 1 to 15"))
        else:
            values["digits"] = v
    if problems:
        return None, problems
    return Tolerance(mode=mode, decimals=decimals, **values), []
