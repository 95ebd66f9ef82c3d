"""Tolerance modes for numeric answers (PrairieLearn's definitions, plus a decimals mode).

Kept apart from grading because a lesson carries its tolerances: the lesson reader builds
them, the grader applies them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tutor.numfmt import fmt_value

MODES = ("decimals", "relabs", "sigfig", "decdig")
TINY_FIGURES = 2  # significant figures asked of a value smaller than its own band
#: below this a value may be float64 rounding of an exact 0 (−0.23·0.875 + 0.23·0.875 gives
#: −1.4e-17), so its sign means nothing and it is graded like 0
ROUNDING_NOISE = 1e-12


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How close an answer must be.

    - ``decimals``: |x − v| < 10^−d, so the value rounded *or truncated* to d places passes;
    - ``relabs``: |x − v| ≤ atol + rtol·|v|;
    - ``sigfig``: |x − v| < 0.51·10^−(digits − 1 − ⌊log10|v|⌋);
    - ``decdig``: |x − v| < 0.51·10^−digits.

    A non-zero v smaller than its own band (:meth:`tiny`) would let 0 or the wrong sign pass,
    so it is asked to ``TINY_FIGURES`` significant figures with its sign instead.
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

    def _within(self, answer: float, expected: float) -> bool:
        """The plain band: |answer − expected| within ε(expected)."""
        diff = abs(answer - expected)
        eps = self.epsilon(expected)
        if self.mode == "relabs":
            return diff <= eps
        # strict interval; a hair of slack for binary rounding of typed decimals
        return diff < eps * (1 + 1e-9)

    def tiny(self, expected: float) -> bool:
        """True for a non-zero value inside its own band, where 0 would be accepted."""
        size = abs(expected)
        return ROUNDING_NOISE <= size < math.inf and self._within(0.0, expected)

    def figure(self, expected: float) -> float:
        """One unit of the last significant figure a tiny value is asked to."""
        return 10.0 ** (math.floor(math.log10(abs(expected))) - (TINY_FIGURES - 1))

    def accepts(self, answer: float, expected: float) -> bool:
        if not (math.isfinite(answer) and math.isfinite(expected)):
            return answer == expected
        if abs(expected) < ROUNDING_NOISE:
            expected = 0.0  # rounding of an exact 0: graded as 0, in every mode
        if self.tiny(expected):
            diff = abs(answer - expected)
            unit = self.figure(expected)
            same_sign = answer != 0 and (answer > 0) == (expected > 0)
            return same_sign and (diff == 0 or diff < unit * (1 + 1e-9))
        return self._within(answer, expected)

    def show(self, value: float, decimals: int, *, ascii_minus: bool = False) -> str:
        """``value`` as the tutor shows a right answer: to the lesson's decimals, or, for a
        tiny value, in scientific notation with enough figures to be accepted itself."""
        if self.tiny(value):
            text = f"{value:.{max(decimals - 1, TINY_FIGURES)}e}"
            return text if ascii_minus else text.replace("-", "−", 1) if value < 0 else text
        return fmt_value(value, decimals, ascii_minus=ascii_minus)

    def describe(self, expected: float | None = None) -> str:
        """How answers are checked, in words; for ``expected``, if it is a tiny value."""
        if expected is not None and self.tiny(expected):
            return (
                f"to {TINY_FIGURES} significant figures with its sign "
                f"(the value is smaller than {self.epsilon(expected):.2g})"
            )
        return {
            "decimals": f"to {self.decimals} decimal places",
            "relabs": f"within {self.rtol:g} relative (plus {self.atol:g})",
            "sigfig": f"to {self.digits} significant figures",
            "decdig": f"to {self.digits} decimal digits",
        }[self.mode]
