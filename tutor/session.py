"""One learner working through one plan: the quiz's state machine, free of any interface.

The app's screens drive it (submit, hint, reveal, skip) and render what it reports; tests drive
it directly. Every change is handed to a ``Recorder`` (the progress store) as it happens, so
nothing answered is ever lost.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Concatenate, ParamSpec, Protocol

from tutor import drill
from tutor.grading.grade import Grader
from tutor.grading.hints import MAX_LEVEL, auto_level, hint
from tutor.grading.verdict import CARRIED, Verdict
from tutor.plan.steps import Plan, Step
from tutor.progress.interface import ProgressNotSaved
from tutor.progress.records import (
    CREDIT_MODES,
    EXAM_POINTS,
    FAILED,
    REVEALED,
    RIGHT,
    SHOWN,
    SKIPPED,
    TODO,
    StepRecord,
    earned,
    tally,
)


class Recorder(Protocol):
    def attempt(
        self, session: QuizSession, step: Step, verdict: Verdict | None, event: str
    ) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """What one action did, for the interface to show."""

    verdict: Verdict | None
    message: str
    advanced: bool
    hint: str | None = None


P = ParamSpec("P")


def _kept_or_undone(
    action: Callable[Concatenate[QuizSession, P], Outcome],
) -> Callable[Concatenate[QuizSession, P], Outcome]:
    """An action on the current step counts only if the recorder kept it. If the store
    could not (a full disk: :class:`ProgressNotSaved`), the step, the position, the clock
    and the boxes are put back as they were, and the outcome is the store's one line: no
    verdict, nothing advanced, so nothing is shown as saved that was not."""

    @functools.wraps(action)
    def run(self: QuizSession, *args: P.args, **kwargs: P.kwargs) -> Outcome:
        step = self.current
        if step is None:
            return action(self, *args, **kwargs)
        record = self.records[step.id]
        kept = replace(record, diagnoses=list(record.diagnoses))
        where = (self.index, self.step_started, self._open, self._frontier, self.streak)
        boxes = dict(self.boxes)
        try:
            return action(self, *args, **kwargs)
        except ProgressNotSaved as err:
            self.records[step.id] = kept
            self.index, self.step_started, self._open, self._frontier, self.streak = where
            self.boxes.clear()  # the store's own dict: put back in place
            self.boxes.update(boxes)
            self._changed(step)
            return Outcome(None, str(err), False)

    return run


class QuizSession:
    """Walk the plan's asked steps in order; shown steps are filled in as the learner reaches them."""

    def __init__(
        self,
        plan: Plan,
        records: dict[str, StepRecord] | None = None,
        recorder: Recorder | None = None,
        clock: Callable[[], float] = time.monotonic,
        elapsed: float = 0.0,
        mode: str = "learn",
        ask_only: set[str] | None = None,
        boxes: dict[str, int] | None = None,
        start: str | None = None,
        exam_hints: bool = False,
    ):
        """``ask_only`` narrows the asked steps (a drill); ``boxes`` are the Leitner boxes;
        ``start`` is the step to resume at (the saved next prompt), if it is still open."""
        self.plan = plan
        self.mode = mode
        self.exam_hints = exam_hints  # a class's exam that allows hints (course.toml)
        self.ask_only = ask_only
        self.boxes = boxes if boxes is not None else {}
        self.streak = 0
        self._total_asked: int | None = None
        self._frontier = 0
        self.grader = Grader(plan, mode)
        self.credit = plan.lesson.quiz.credit
        self.records: dict[str, StepRecord] = {s.id: StepRecord() for s in plan}
        for step_id, rec in (records or {}).items():
            if step_id in self.records:
                self.records[step_id] = rec
        self.recorder = recorder
        self.clock = clock
        self.elapsed_before = elapsed
        self.started = clock()
        self.step_started = clock()
        self.index = 0
        self._fill_shown()
        self._rebuild_cache()
        self.index = self.first_open()
        if start is not None and start in self.plan and not self.records[start].done:
            self.index = self.plan.index(start)

    # --- cached views of the records: one pass at the start, then O(1) per change, so an
    # answer costs the same in a 53-step lesson and a 10,000-step one
    def _rebuild_cache(self) -> None:
        self._frontier = 0
        self._values: dict[str, float] = {}
        self._points: dict[str, float] = {}
        self._open = 0
        self._ordinal: dict[str, int] = {}
        for s in self.plan:
            if self.is_asked(s):
                self._ordinal[s.id] = len(self._ordinal) + 1
            self._changed(s, count_open=True)

    def _changed(self, step: Step, count_open: bool = False) -> None:
        """Bring the cached views up to date after one step's record changed."""
        rec = self.records[step.id]
        if rec.status not in (TODO, SHOWN) or rec.attempts:
            self._frontier = max(self._frontier, self.plan.index(step.id) + 1)
        if count_open:
            self._open += 0 if rec.done else 1
        if rec.status in RIGHT and rec.value is not None:
            self._values[step.id] = rec.value
        elif rec.status in (REVEALED, SHOWN):
            self._values[step.id] = step.value
        else:
            self._values.pop(step.id, None)
        if step.id in self._ordinal and rec.status in RIGHT:
            self._points[step.id] = self._earned(rec)
        else:
            self._points.pop(step.id, None)

    def _finish(self, step: Step, status: str) -> None:
        """Mark a step done (right, revealed or lost) and keep the caches in step."""
        rec = self.records[step.id]
        if not rec.done:
            self._open -= 1
        rec.status = status
        self._changed(step)

    # --- where we are
    @property
    def asked(self) -> list[Step]:
        return [s for s in self.plan if self.is_asked(s)]

    @property
    def total_asked(self) -> int:
        if self._total_asked is None:
            self._total_asked = sum(1 for s in self.plan if self.is_asked(s))
        return self._total_asked

    def is_asked(self, step: Step) -> bool:
        return step.asked and (self.ask_only is None or step.id in self.ask_only)

    @property
    def helps_allowed(self) -> bool:
        """Exams allow no hints, breakdowns or reveals until the end."""
        return self.mode != "exam" or self.complete

    @property
    def hints_allowed(self) -> bool:
        """Hints: whenever helps are, and during an exam whose class allows them."""
        return self.helps_allowed or self.exam_hints

    @property
    def current(self) -> Step | None:
        return None if self.complete else self.plan[self.index]

    @property
    def complete(self) -> bool:
        return self._open == 0

    def first_open(self, start: int = 0) -> int:
        """The first step at or after ``start`` that is not done, wrapping round; else the end."""
        n = len(self.plan)
        for k in range(n):
            i = (start + k) % n
            if not self.records[self.plan[i].id].done:
                return i
        return n - 1

    def position(self) -> tuple[int, int]:
        """(k, N): the current step's number among the asked steps, and how many there are."""
        n = self.total_asked
        current = self.current
        if current is None:
            return n, n
        return self._ordinal.get(current.id, 0), n

    @property
    def score(self) -> float:
        """What the right answers earned (:func:`tutor.progress.records.earned`): one a step
        in learn mode, fewer points after wrong tries in an exam or with partial credit."""
        return round(sum(self._points.values()), 2)

    def _earned(self, rec: StepRecord) -> float:
        return earned(
            rec.status, rec.misses, rec.hint_level, self.mode, self.credit, rec.hints_asked
        )

    def elapsed(self) -> float:
        return self.elapsed_before + (self.clock() - self.started)

    def learner_values(self) -> dict[str, float]:
        """The learner's accepted values (revealed and shown steps count with the true value)."""
        return self._values

    # --- actions
    @_kept_or_undone
    def submit(self, text: str) -> Outcome:
        step = self.current
        if step is None:
            return Outcome(None, "The lesson is complete.", False)
        verdict = self.grader.grade(step.id, text, self.learner_values())
        rec = self.records[step.id]
        if not verdict.is_attempt:
            return Outcome(verdict, verdict.message, False)
        rec.attempts += 1
        rec.answer = text
        self._tick(rec)
        if verdict.accepted:
            rec.value = verdict.value
            rec.points = earned(
                verdict.verdict, rec.misses, rec.hint_level, self.mode, self.credit, rec.hints_asked
            )
            self._finish(step, verdict.verdict)
            self._learned(step, rec.misses == 0)
            self._advance()
            self._record(step, verdict, "answer")  # after advancing: it saves the next prompt
            return Outcome(verdict, verdict.message, True)
        rec.misses += 1
        self._learned(step, False)
        if verdict.diagnosis:
            rec.diagnoses.append(verdict.diagnosis)
        if self.mode == "exam":
            return self._exam_miss(step, rec, verdict)
        before = rec.hint_level
        rec.hint_level = max(rec.hint_level, auto_level(rec.misses))
        self._record(step, verdict, "answer")
        extra = None
        if rec.hint_level > before:
            extra = self.hint_text(step, rec.hint_level)
        return Outcome(verdict, verdict.message, False, extra)

    def _exam_miss(self, step: Step, rec: StepRecord, verdict: Verdict) -> Outcome:
        """Exams: no diagnosis or hint until the end; after the last attempt the step is lost."""
        left = len(EXAM_POINTS) - rec.misses
        if left > 0:
            self._record(step, verdict, "answer")
            plural = "s" if left > 1 else ""
            why = ""
            if verdict.diagnosis == "too_coarse":
                why = f" Give {self.plan.lesson.quiz.decimals} decimals."
            elif verdict.diagnosis == "out_of_range":
                why = " " + verdict.message
            return Outcome(
                verdict,
                f"Not accepted.{why} {left} attempt{plural} left for {step.label}.",
                False,
            )
        rec.points = 0.0
        self._finish(step, FAILED)
        self._advance()
        self._record(step, verdict, "answer")
        return Outcome(verdict, f"No attempts left for {step.label}; moving on.", True)

    def _learned(self, step: Step, first_try: bool) -> None:
        if self.mode != "drill":
            return
        drill.update(self.boxes, step.kind, first_try)
        self.streak = self.streak + 1 if first_try else 0

    def hint_text(self, step: Step, level: int) -> str:
        return hint(self.plan, step, level, self.learner_values())

    @_kept_or_undone
    def next_hint(self) -> Outcome:
        step = self.current
        if step is None:
            return Outcome(None, "The lesson is complete.", False)
        if not self.hints_allowed:
            return Outcome(None, "No hints during an exam; they come back at the end.", False)
        rec = self.records[step.id]
        if rec.hint_level >= MAX_LEVEL:
            return Outcome(
                None,
                "No more hints for this step: reveal it if you are stuck.",
                False,
                self.hint_text(step, MAX_LEVEL),
            )
        rec.hint_level += 1
        rec.hints_asked += 1
        self._record(step, None, "hint")
        return Outcome(
            None,
            f"Hint {rec.hint_level} of {MAX_LEVEL}.",
            False,
            self.hint_text(step, rec.hint_level),
        )

    @_kept_or_undone
    def reveal(self) -> Outcome:
        step = self.current
        if step is None:
            return Outcome(None, "The lesson is complete.", False)
        if not self.helps_allowed:
            return Outcome(None, "No reveals during an exam.", False)
        rec = self.records[step.id]
        rec.value = step.value
        self._finish(step, REVEALED)
        self._tick(rec)
        self._advance()
        self._record(step, None, "reveal")
        msg = f"Revealed: {step.label} = {self.grader.show(step)}"
        return Outcome(None, msg, True)

    @_kept_or_undone
    def skip(self) -> Outcome:
        step = self.current
        if step is None:
            return Outcome(None, "The lesson is complete.", False)
        rec = self.records[step.id]
        self._tick(rec)
        if rec.status == TODO:
            rec.status = SKIPPED
            self._changed(step)
        nxt = self.first_open(self.index + 1)  # the current step is open: found at the latest
        if nxt == self.index:
            self._record(step, None, "skip")
            return Outcome(None, "This is the only step left.", False)
        self.index = nxt
        self.step_started = self.clock()
        self._record(step, None, "skip")
        return Outcome(None, f"Skipped {step.label}; it stays open for later.", True)

    # --- summary
    def summary(self) -> dict[str, Any]:
        """The end of the lesson in numbers, counted as ``tutor progress`` counts them."""
        asked = self.asked
        counted = tally(self.records, [s.id for s in asked], self.mode, self.credit)
        mistakes: Counter[str] = Counter()
        for s in asked:
            mistakes.update(self.records[s.id].diagnoses)
        history = self.plan.loss_history()
        return {
            "mode": self.mode,
            "score": self.score,
            "total": len(asked),
            "failed": [s.id for s in asked if self.records[s.id].status == FAILED],
            "revealed": [s.id for s in asked if self.records[s.id].status == REVEALED],
            "carried": [s.id for s in asked if self.records[s.id].status == CARRIED],
            "seconds": round(self.elapsed(), 1),
            "mistakes": dict(mistakes.most_common()),
            # wrong tries with no diagnosis, so that the mistakes add up to the misses
            "other": max(0, counted.misses - sum(mistakes.values())),
            "misses": counted.misses,
            "hints": counted.hints,
            "credit": self.credit if self.mode in CREDIT_MODES else None,
            "first_try": sum(
                1
                for s in asked
                if self.records[s.id].status in RIGHT and not self.records[s.id].misses
            ),
            "updates": [
                (s.param + s.tag, s.formula.children()[0].evaluate(), s.value)
                for s in self.plan
                if s.kind == "update" and s.param
            ],
            "loss_history": history,
            # what the curve follows: a mini-batch's loss, or the lesson's total error
            "loss_name": "E_batch" if self.plan.lesson.network.batch else "E_total",
            "training_epochs": self.plan.lesson.training.epochs if self.plan.lesson.training else 0,
        }

    # --- internals
    def _tick(self, rec: StepRecord) -> None:
        now = self.clock()
        rec.seconds = round(rec.seconds + (now - self.step_started), 3)
        self.step_started = now

    def _record(self, step: Step, verdict: Verdict | None, event: str) -> None:
        if self.recorder is not None:
            self.recorder.attempt(self, step, verdict, event)

    def _fill_shown(self) -> None:
        for s in self.plan:
            if not self.is_asked(s):
                self.records[s.id] = StepRecord(status=SHOWN, value=s.value)

    @property
    def frontier(self) -> int:
        """One past the furthest step the learner has reached: later steps are all to do."""
        return max(self._frontier, self.index + 1)

    def _advance(self) -> None:
        # prefer the next step in order; come back to skipped ones after the end
        following = self._next_todo()
        self.index = self.first_open() if following is None else following
        self.step_started = self.clock()

    def _next_todo(self) -> int | None:
        """The first step after the current one that is still to do, if any."""
        for i in range(self.index + 1, len(self.plan)):
            if self.records[self.plan[i].id].status == TODO:
                return i
        return None
