"""What a learner has done on each step, and the names of its states.

Kept free of NumPy and of the grader, so that the interface can show saved progress before
the engine is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CORRECT, CARRIED, INCORRECT, INVALID, MISSING = (
    "correct",
    "carried",
    "incorrect",
    "invalid",
    "missing",
)
TODO, REVEALED, SKIPPED, SHOWN, FAILED = "todo", "revealed", "skipped", "shown", "failed"
DONE = (CORRECT, CARRIED, REVEALED, SHOWN, FAILED)
MODES = ("learn", "drill", "exam", "review")
#: Exam points for a right answer at the first, second and third attempt; then the step is lost.
EXAM_POINTS = (1.0, 0.5, 0.25)


@dataclass
class StepRecord:
    """What the learner has done on one step."""

    status: str = TODO
    answer: str | None = None
    value: float | None = None
    attempts: int = 0
    misses: int = 0
    hint_level: int = 0
    seconds: float = 0.0
    diagnoses: list[str] = field(default_factory=list)
    points: float = 0.0

    @property
    def done(self) -> bool:
        return self.status in DONE

    def to_dict(self) -> dict[str, Any]:
        """A copy for the log (``asdict`` takes about 20 times as long, on the path to the verdict)."""
        return {**self.__dict__, "diagnoses": list(self.diagnoses)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepRecord:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        rec = cls(**known)
        if rec.status not in (TODO, CORRECT, CARRIED, REVEALED, SKIPPED, SHOWN, FAILED):
            rec.status = TODO
        return rec
