"""The outcome of grading one answer, and the names of the outcomes."""

from __future__ import annotations

from dataclasses import dataclass

CORRECT, CARRIED, INCORRECT, INVALID, MISSING = (
    "correct",
    "carried",
    "incorrect",
    "invalid",
    "missing",
)
VERDICTS = (CORRECT, CARRIED, INCORRECT, INVALID, MISSING)


@dataclass(frozen=True)
class Verdict:
    """The outcome of grading one answer, with the message to show."""

    step_id: str
    verdict: str
    answer: str | None
    value: float | None
    expected: float
    message: str
    diagnosis: str | None = None
    carried_expected: float | None = None
    carried_from: tuple[str, ...] = ()
    #: an answer written with names, as it was read: ``out_h1·(1 − out_h1) = 0.60109·(…) = …``
    understood: str | None = None

    @property
    def accepted(self) -> bool:
        """Correct or carried: the learner moves on."""
        return self.verdict in (CORRECT, CARRIED)

    @property
    def is_attempt(self) -> bool:
        """Invalid input and missing answers never count as attempts."""
        return self.verdict in (CORRECT, CARRIED, INCORRECT)
