"""Decide whether an answer is right: correct, carried, incorrect, invalid or missing.

Every step is graded twice: against the engine's value, and against its own Formula evaluated
with the learner's earlier answers (error carried forward). The rules that keep carried
credit honest are in docs/grading.md, "Error carried forward".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from tutor.formula import Given, Ref
from tutor.grading.misconceptions import Candidate, Context, candidates
from tutor.grading.parse import (
    ACCEPTED_HELP,
    EXPRESSIONS_OFF,
    AnswerError,
    NameRefused,
    ParsedAnswer,
    parse_answer,
    render_answer,
)
from tutor.grading.symbols import ETA_NAMES, Refused, Usable, givens
from tutor.grading.verdict import CARRIED, CORRECT, INCORRECT, INVALID, MISSING, Verdict
from tutor.numfmt import fmt_given
from tutor.plan.steps import Plan, Step
from tutor.tolerance import Tolerance

DIAGNOSIS_RTOL = 2e-3
COARSE_BAND = 0.05  # "too coarse" only for answers within 5% of the value
TRIVIAL_UNITS = 10  # on a trivial value: this many units of the last place, this much closer


def trivial_points(
    plan: Plan, step: Step, learner: Mapping[str, float] | None = None
) -> tuple[float, ...]:
    """The values of ``step`` a learner could write down without working: 0 for a product or
    a difference (any factor of 0 makes it 0); for an output, also the activation at a zero
    sum and the ends of its range (saturation); for a smooth activation's slope, 0 and 1; for
    an update, the old value (a gradient of 0; in a later iteration the learner's own
    previous value, from ``learner``). A sum needs working whatever it comes to, and
    a ReLU's slope is 0 or 1 by the sign of its sum, so neither has trivial values."""
    if step.kind == "sum":
        return ()
    if step.kind == "update":
        old = next((c for c in step.formula.children() if isinstance(c, Given | Ref)), None)
        if old is None or math.isclose(step.value, old.value, rel_tol=1e-12, abs_tol=1e-15):
            return ()  # a gradient of exactly 0: keeping the old value is the work
        return (old.evaluate(learner),)
    points = [0.0]
    net = plan.lesson.network
    if step.kind == "out" and step.unit:
        act = net.activation_of(step.unit)
        if act.layer_wide:
            points.append(1.0 / len(net.layers[net.unit_position(step.unit)[0]].units))
        elif act.function is not None:
            points.append(act.function.apply(0.0))
        if act.range is not None:
            points.extend(p for p in act.range[:2] if math.isfinite(p))
    elif step.kind == "dout_dsum" and step.unit:
        if not net.activation_of(step.unit).smooth:
            return ()
        points.append(1.0)
    return tuple(points)


def trivial(plan: Plan, step: Step, x: float, learner: Mapping[str, float] | None = None) -> bool:
    """True when ``x`` sits on one of the step's trivial values and the right value does not.

    Such a value, typed early or reached by carrying, would let later steps be answered
    without working (a product with a zero factor, σ of a huge sum), so it earns no carried
    credit. Every other value carries, however far it is from the right one. "Sits on" means
    within ten units of the last place asked (the lesson's decimals, or the second
    significant figure of a value smaller than its band) and ten times closer to the trivial
    value than the right value is; a value accepted as right is never trivial."""
    tol = plan.lesson.quiz.tolerance_for(step.id)
    v = step.value
    if tol.accepts(x, v):
        return False
    unit = tol.figure(v) if tol.tiny(v) else 10.0**-plan.lesson.quiz.decimals
    band = TRIVIAL_UNITS * unit * (1 + 1e-9)
    return any(
        abs(x - p) <= band and abs(x - p) * TRIVIAL_UNITS < abs(v - p)
        for p in trivial_points(plan, step, learner)
    )


def _near(x: float, mistaken: float, tol: Tolerance) -> bool:
    """Looser than grading: a learner's own rounding must not hide a recognisable mistake."""
    return tol.accepts(x, mistaken) or abs(x - mistaken) <= DIAGNOSIS_RTOL * abs(mistaken)


def range_note(plan: Plan, step: Step, x: float) -> str | None:
    """A sentence when the answer is impossible for this kind of quantity, whatever the numbers."""
    act = plan.lesson.network.activation_of(step.unit) if step.unit else None
    if step.kind == "out" and act is not None and act.range is not None:
        lo, hi, sentence = act.range
        if not lo <= x <= hi:
            return sentence
    if step.kind in ("error", "total") and x < 0:
        return "An error is never negative: every loss term is a square or a −log of a probability."
    if step.kind == "dout_dsum" and act is not None and act.negative_slope and x < 0:
        return act.negative_slope
    return None


NAMES_OFF = "Names such as {name} are switched off for this lesson: type the number."
NAMES_OFF_EXAM = "Names such as {name} are switched off in this exam: type the number."


class Grader:
    """Grades answers for one plan; pure apart from a cache of misconception values.

    ``mode`` is the quiz mode answers are given in: it decides whether an answer may use
    names (``[quiz] names`` and ``exam_names``)."""

    def __init__(self, plan: Plan, mode: str = "learn"):
        self.plan = plan
        self.lesson = plan.lesson
        self.mode = mode
        self.names_on = self.lesson.quiz.names_in(mode)
        self._cache: dict[str, list[Candidate]] = {}
        self._givens: dict[str, float] | None = None

    @property
    def givens(self) -> dict[str, float]:
        """The lesson's given numbers by name, made once (a big lesson has many weights)."""
        if self._givens is None:
            self._givens = givens(self.lesson.network)
        return self._givens

    def tolerance(self, step: Step) -> Tolerance:
        return self.lesson.quiz.tolerance_for(step.id)

    def show(self, step: Step, value: float | None = None) -> str:
        """A value of ``step`` (its own by default) as a right answer to it is shown: a tiny
        one in scientific notation, with the figures it is asked to."""
        shown = step.value if value is None else value
        return self.tolerance(step).show(shown, self.lesson.quiz.decimals)

    def parse(
        self, text: str, step_id: str | None = None, learner: Mapping[str, float] | None = None
    ) -> ParsedAnswer:
        """Read an answer to ``step_id``; names, when on, take earlier steps from ``learner``."""
        if step_id is None:
            return parse_answer(text, allow_expressions=self.lesson.quiz.expressions)
        if not self.names_on:
            off = NAMES_OFF_EXAM if self.mode == "exam" else NAMES_OFF
            refused = Refused(self.plan, None, step_id, off)
            return parse_answer(
                text, allow_expressions=self.lesson.quiz.expressions, refused=refused
            )
        usable = Usable(self.givens, learner or {}, step_id)
        return parse_answer(
            text,
            allow_expressions=self.lesson.quiz.expressions,
            names=usable,
            refused=Refused(self.plan, usable, step_id, None),
        )

    def understood(
        self, step: Step, parsed: ParsedAnswer, learner: Mapping[str, float] | None = None
    ) -> str | None:
        """What an answer with names was read as, names then numbers then the result:
        ``out_h1 · (1 − out_h1) = 0.60109·(1 − 0.60109) = 0.23978``; None without names."""
        if not parsed.names:
            return None
        usable = Usable(self.givens, learner or {}, step.id)

        def label(name: str) -> str:
            if name in self.givens:
                return "η" if name in ETA_NAMES else name
            return self.plan[name].label

        def number(name: str) -> str:
            if name in self.givens:
                return fmt_given(usable[name])
            return self.show(self.plan[name], usable[name])

        result = self.show(step, parsed.value)
        if len(parsed.tokens) == 1:
            return f"{label(parsed.names[0])} = {result}"
        return f"{render_answer(parsed, label)} = {render_answer(parsed, number)} = {result}"

    def grade(
        self,
        step_id: str,
        text: str | None,
        learner: Mapping[str, float] | None = None,
        *,
        reveal_expected: bool = False,
    ) -> Verdict:
        """Grade ``text`` for a step. ``learner`` holds the learner's own earlier values."""
        step = self.plan[step_id]
        expected = step.value
        if text is None:
            return Verdict(step.id, MISSING, None, None, expected, "No answer given.")
        try:
            parsed = self.parse(text, step.id, learner)
        except AnswerError as err:
            msg = str(err)
            plain = msg == EXPRESSIONS_OFF or isinstance(err, NameRefused)
            if not plain and not msg.startswith("Type an answer"):
                msg = f"{msg} {ACCEPTED_HELP}"
            return Verdict(step.id, INVALID, text, None, expected, msg)
        verdict = self._judge(step, text, parsed, learner or {}, reveal_expected)
        line = self.understood(step, parsed, learner)
        return verdict if line is None else replace(verdict, understood=line)

    def _judge(
        self,
        step: Step,
        text: str,
        parsed: ParsedAnswer,
        learner: Mapping[str, float],
        reveal_expected: bool,
    ) -> Verdict:
        x = parsed.value
        tol = self.tolerance(step)
        if tol.accepts(x, step.value):
            return Verdict(step.id, CORRECT, text, x, step.value, self.correct_message(step))
        carried = self._carried(step, text, x, tol, learner)
        if carried is not None:
            return carried
        return self._incorrect(step, parsed, tol, learner, reveal_expected)

    def correct_message(self, step: Step) -> str:
        """What a right answer to ``step`` is told (known before it is typed)."""
        return f"Correct: {step.label} = {self.show(step)}"

    # --- error carried forward
    def usable_earlier(self, step: Step, learner: Mapping[str, float]) -> dict[str, float]:
        """The learner's values for the steps this formula reads, minus degenerate ones.

        An earlier answer that sits on a trivial value (:func:`trivial`) is ignored, so that
        typing 0 or 0.0001 early can never make later steps trivial, unless it is the learner's
        own rounding of their working (σ of their sum 0.02 is 0.505, typed 0.50 at two
        decimals), or only the rounding of right answers brought it there: those were earned.
        """
        env: dict[str, float] = {}
        for ref in step.depends_on:
            if ref not in learner or not math.isfinite(learner[ref]):
                continue
            earlier = self.plan[ref]
            if trivial(self.plan, earlier, learner[ref], learner) and not (
                self._worked(earlier, learner) or self.rounding_only(ref, learner, {})
            ):
                continue
            env[ref] = learner[ref]
        return env

    def _worked(self, step: Step, learner: Mapping[str, float]) -> bool:
        """Whether the learner's value of ``step`` is their own earlier values worked through
        its formula (within its tolerance), and that result is not itself trivial."""
        env = self.usable_earlier(step, learner)
        if not env:
            return False
        try:
            value = step.formula.evaluate(env)
        except (ArithmeticError, ValueError):
            return False
        return (
            math.isfinite(value)
            and self.tolerance(step).accepts(learner[step.id], value)
            and not trivial(self.plan, step, value, env)
        )

    def _carried(
        self, step: Step, text: str, x: float, tol: Tolerance, learner: Mapping[str, float]
    ) -> Verdict | None:
        env = self.usable_earlier(step, learner)
        if not env or all(env[r] == self.plan[r].value for r in env):
            return None
        try:
            value = step.formula.evaluate(env)
        except (ArithmeticError, ValueError):  # huge earlier values overflow a sum
            return None
        if not math.isfinite(value) or not tol.accepts(x, value):
            return None
        wrong = tuple(
            r for r in env if not self.tolerance(self.plan[r]).accepts(env[r], self.plan[r].value)
        )
        if trivial(self.plan, step, value, env) and not all(
            self.rounding_only(r, learner, {}) for r in env
        ):
            # a result that needs no working earns no credit, unless only the rounding of
            # answers accepted as right brought it there (nothing to game)
            return None
        if not wrong and not self.rounding_explains(step, value):
            # accepted earlier values can still hold an earlier error too small for them to
            # show (a batch gradient averages two such): that is carried, not rounding
            wrong = self.wrong_ancestors(step, learner)
        if not wrong and not self.rounding_explains(step, value):
            return Verdict(
                step.id,
                INCORRECT,
                text,
                x,
                step.value,
                f"Your working is right, but rounding the earlier values moved {step.label} "
                f"to {self.show(step, value)}, across zero: it is small, so work it again "
                "from them to more figures.",
                diagnosis="rounding_too_coarse",
            )
        if not wrong:
            # only rounding of accepted earlier answers: that is simply correct
            return Verdict(
                step.id,
                CORRECT,
                text,
                x,
                step.value,
                f"Correct: {step.label} = {self.show(step)} (from your rounded "
                f"earlier values: {self.show(step, value)})",
                carried_expected=value,
            )
        names = ", ".join(self.plan[r].label for r in wrong)
        return Verdict(
            step.id,
            CARRIED,
            text,
            x,
            step.value,
            f"Your method is right: with your earlier {names} this gives {self.show(step, value)}. "
            f"The difference from {self.show(step)} comes from your earlier {names}.",
            carried_expected=value,
            carried_from=wrong,
        )

    def rounding_only(self, step_id: str, learner: Mapping[str, float], memo: dict) -> bool:
        """Whether the learner's value of a step differs from the tutor's only by the rounding
        of right answers: it is accepted, or it is its formula worked on earlier values that
        are themselves rounding only (an accepted sum of 0.0152 typed from rounded outputs
        as −0.0014)."""
        if step_id in memo:
            return bool(memo[step_id])
        memo[step_id] = False  # no cycles in a plan; a guard all the same
        step = self.plan[step_id]
        x = learner.get(step_id)
        tol = self.tolerance(step)
        ok = x is None or tol.accepts(x, step.value)
        if not ok and step.depends_on:
            refs = step.depends_on
            if all(self.rounding_only(r, learner, memo) for r in refs):
                env = {r: learner.get(r, self.plan[r].value) for r in refs}
                try:
                    ok = tol.accepts(x, step.formula.evaluate(env))  # type: ignore[arg-type]
                except (ArithmeticError, ValueError):
                    ok = False
        memo[step_id] = ok
        return ok

    def wrong_ancestors(
        self, step: Step, learner: Mapping[str, float], limit: int = 5000
    ) -> tuple[str, ...]:
        """The earlier steps, however far back, whose learner's value was not accepted (the
        search stops after ``limit`` steps: a huge lesson's chains are long)."""
        seen: set[str] = set()
        stack = list(step.depends_on)
        wrong: list[str] = []
        while stack and len(seen) < limit:
            ref = stack.pop()
            if ref in seen:
                continue
            seen.add(ref)
            earlier = self.plan[ref]
            if ref in learner and not self.tolerance(earlier).accepts(learner[ref], earlier.value):
                wrong.append(ref)
            stack.extend(earlier.depends_on)
        return tuple(sorted(wrong, key=self.plan.index))

    def rounding_explains(self, step: Step, value: float) -> bool:
        """Whether rounding accepted earlier answers can account for ``value``: always, except
        that a value smaller than its band keeps its sign (0 and the wrong sign are never
        accepted for a non-zero value, however they were reached)."""
        tol, v = self.tolerance(step), step.value
        return not tol.tiny(v) or (value != 0 and (value > 0) == (v > 0))

    # --- wrong answers
    def candidates(self, step: Step) -> list[Candidate]:
        if step.id not in self._cache:
            self._cache[step.id] = candidates(self.plan, step)
        return self._cache[step.id]

    def diagnose(
        self, step: Step, x: float, learner: Mapping[str, float] | None = None
    ) -> Candidate | None:
        """The first known mistake whose value matches ``x`` (and differs from the right one):
        first one matched within the step's tolerance, then one within the looser band, so a
        mistake typed exactly is never named after a neighbour that is merely close."""
        tol = self.tolerance(step)
        pool = list(self.candidates(step))
        env = self.usable_earlier(step, learner or {})
        if env:
            pool += candidates(self.plan, step, env)
        fits = [
            c
            for c in pool
            if _near(x, c.value, tol)
            and not tol.accepts(c.value, step.value)
            and abs(x - c.value) < abs(x - step.value)
        ]
        exact = [c for c in fits if tol.accepts(x, c.value)]
        best = exact or fits
        return best[0] if best else None

    def _incorrect(
        self,
        step: Step,
        parsed: ParsedAnswer,
        tol: Tolerance,
        learner: Mapping[str, float],
        reveal_expected: bool,
    ) -> Verdict:
        x = parsed.value
        tail = f" Expected {self.show(step)}." if reveal_expected else ""
        hit = self.diagnose(step, x, learner)
        if hit is not None:
            message = hit.message(Context(self.plan), step)
            return Verdict(
                step.id,
                INCORRECT,
                parsed.raw,
                x,
                step.value,
                message + tail,
                diagnosis=hit.misconception.tag,
            )
        note = range_note(self.plan, step, x)
        if note:
            return Verdict(
                step.id, INCORRECT, parsed.raw, x, step.value, note + tail, diagnosis="out_of_range"
            )
        small = self._tiny_note(step, x, tol)
        if small:
            return Verdict(
                step.id, INCORRECT, parsed.raw, x, step.value, small + tail, diagnosis="tiny_value"
            )
        coarse = self._too_coarse(parsed, step.value, tol)
        if coarse:
            return Verdict(
                step.id, INCORRECT, parsed.raw, x, step.value, coarse + tail, diagnosis="too_coarse"
            )
        return Verdict(
            step.id,
            INCORRECT,
            parsed.raw,
            x,
            step.value,
            f"Not right yet: check your {step.label}." + tail,
        )

    def _tiny_note(self, step: Step, x: float, tol: Tolerance) -> str | None:
        """Why an answer within the usual band of a tiny value is not accepted."""
        v = step.value
        if not tol.tiny(v) or abs(x - v) >= tol.epsilon(v) * (1 + 1e-9):
            return None
        rule = f"{step.label} is asked {tol.describe(v)}, in a form such as 1.2e-5"
        if x == 0:
            return f"Not zero: {rule}."
        if (x > 0) != (v > 0):
            return f"Check the sign: {rule}."
        return f"Close, but too coarse: {rule}."

    def _too_coarse(self, parsed: ParsedAnswer, expected: float, tol: Tolerance) -> str | None:
        """'give 5 decimals' when the answer is the right value rounded or cut to fewer places."""
        p = parsed.decimals
        if p is None or p < 1:
            return None
        if tol.mode == "decimals":
            needed: int | None = tol.decimals
        else:
            needed = next((k for k in range(13) if tol.accepts(round(expected, k), expected)), None)
        if needed is None or p >= needed:
            return None
        if abs(parsed.value - expected) > COARSE_BAND * abs(expected):
            return None  # not close: rounding to fewer places is not the whole story
        scale = 10.0**p
        shortened = {round(expected, p), math.trunc(expected * scale) / scale}
        if any(abs(parsed.value - s) < 1e-12 for s in shortened):
            return (
                f"Close, but too coarse: give {needed} decimals (you gave {p}); "
                f"the answer is checked {tol.describe()}."
            )
        return None
