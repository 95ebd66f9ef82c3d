"""A Step is one quantity the learner computes; a Plan is the lesson's steps in order, with
the engine's numbers they were read from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tutor.formula import Formula
from tutor.lesson.model import Lesson
from tutor.names import PHASE_TITLES, tag_words

if TYPE_CHECKING:
    from numpy import ndarray

    from tutor.engine import Compiled, Trace

PHASE_FORWARD, PHASE_ERROR, PHASE_OUTPUT, PHASE_HIDDEN, PHASE_UPDATE = (
    "forward",
    "error",
    "output layer",
    "hidden layer",
    "update",
)


@dataclass(frozen=True, slots=True)
class Step:
    """One quantity the learner computes (or is shown)."""

    id: str
    label: str
    value: float
    phase: str
    kind: str  # sum, out, error, total, dE_dout, dout_dsum, dsum_dw, dsum_dout, path, grad, delta, update
    formula: Formula
    meaning: str
    involves: tuple[str, ...] = ()  # units, weights and biases that take part (for the diagram)
    asked: bool = True
    hints: tuple[str, ...] = ()  # lesson overrides for hint levels 1..3
    unit: str | None = None  # the unit this step is about
    param: str | None = None  # the weight or bias this step is about
    error: str | None = None  # the output error of a single path (∂E_k/∂w)
    tag: str = ""  # "#2": the second hand-worked iteration; "[1]": the batch's first example

    @property
    def depends_on(self) -> tuple[str, ...]:
        return self.formula.refs()

    @property
    def phase_title(self) -> str:
        """The phase as a heading, with the iteration or example it belongs to."""
        title = PHASE_TITLES.get(self.phase, self.phase)
        return f"{title} ({tag_words(self.tag)})" if self.tag else title


class Plan:
    """The ordered steps of one lesson, with the engine's numbers they were read from.

    Steps are made as they are needed: a 784-128-10 network has 200,000 of them, and a
    learner starts at the first. ``source`` makes a few more each time it is advanced."""

    def __init__(
        self,
        lesson: Lesson,
        compiled: Compiled,
        trace: Trace,
        form: str,
        traces: tuple[Trace, ...] = (),
    ) -> None:
        self.lesson, self.compiled, self.trace, self.form = lesson, compiled, trace, form
        #: one trace per hand-worked iteration (the first is ``trace``)
        self.traces = traces or (trace,)
        #: a mini-batch's per-example traces (``trace`` is then the batch's)
        self.examples: tuple[Trace, ...] = ()
        self.steps: list[Step] = []  # the steps made so far, in order
        self.index_of: dict[str, int] = {}
        self.source: Iterator[None] | None = None
        self.length: int | None = None  # known in advance for the δ form
        #: (output, iteration) → per-layer gradients of that output's error (examples: −1 − k)
        self._paths: dict[tuple[int, int], tuple[ndarray, ...]] = {}

    def append(self, step: Step) -> None:
        self.index_of[step.id] = len(self.steps)
        self.steps.append(step)

    def _more(self) -> bool:
        if self.source is None:
            return False
        try:
            next(self.source)
            return True
        except StopIteration:
            self.source = None
            return False

    def _find(self, step_id: str) -> int | None:
        while step_id not in self.index_of:
            if not self._more():
                return None
        return self.index_of[step_id]

    def complete(self) -> list[Step]:
        """Every step (makes them all)."""
        while self._more():
            pass
        return self.steps

    def __len__(self) -> int:
        return self.length if self.length is not None else len(self.complete())

    def __iter__(self) -> Iterator[Step]:
        i = 0
        while i < len(self.steps) or self._more():
            if i < len(self.steps):
                yield self.steps[i]
                i += 1

    def __getitem__(self, key: int | str) -> Step:
        if isinstance(key, str):
            i = self._find(key)
            if i is None:
                raise KeyError(key)
            return self.steps[i]
        if key < 0:
            return self.complete()[key]
        while key >= len(self.steps) and self._more():
            pass
        return self.steps[key]

    def __contains__(self, step_id: object) -> bool:
        return isinstance(step_id, str) and self._find(step_id) is not None

    def index(self, step_id: str) -> int:
        i = self._find(step_id)
        if i is None:
            raise ValueError(f"{step_id!r} is not a step of this plan")
        return i

    def values(self) -> dict[str, float]:
        """Every step's engine value by id (makes every step)."""
        return {s.id: s.value for s in self.complete()}

    def path_gradient(
        self, k: int, iteration: int = 0, example: int | None = None
    ) -> tuple[ndarray, ...]:
        """Per layer, the gradients of the k-th output's error alone (the paths form), in the
        given hand-worked iteration (0: the first) or example of a mini-batch."""
        key = (k, iteration if example is None else -1 - example)
        if key not in self._paths:
            if example is not None:
                params, trace = self.compiled.params, self.examples[example]
            else:
                params = self.compiled.params if iteration == 0 else self.traces[iteration - 1].new
                trace = self.traces[iteration]
            self._paths[key] = self.compiled.path_gradient(trace, k, params)
        return self._paths[key]

    def loss_history(self, iterations: int | None = None) -> list[float]:
        """E_total before each of the lesson's further updates (``[summary] updates``, 20 by
        default; index 1 = the second forward pass); none for a computational graph, which
        has no loss or update."""
        if self.lesson.network.graph is not None:
            return []
        return self.compiled.loss_history(iterations or self.lesson.summary_updates)

    def training_history(self) -> list[float] | None:
        """The loss summed over the lesson's training set, epoch by epoch (None without one)."""
        training = self.lesson.training
        return None if training is None else self.compiled.training_history(training)
