"""The chain-rule breakdown of a step, as plain text and as a Rich renderable.

Built from the step's Formula: the head line is ``label = names = numbers = value``, then one
line per factor with its own meaning and value. For a hidden weight the sum over paths is
expanded path by path; in the δ form the sum runs over δ_k · w.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import RenderableType

from tutor.formula import UNICODE, Style
from tutor.numfmt import fmt_given, fmt_value
from tutor.plan.steps import Plan, Step
from tutor.plan.worked import worked_numbers

GIVEN_WORDS = {"eta": "the learning rate η"}


@dataclass(frozen=True)
class Factor:
    """One factor of the chain (or one path of a sum), with what it means."""

    step_id: str
    label: str
    names: str
    numbers: str
    value: str
    meaning: str
    parts: tuple[Factor, ...] = ()


@dataclass(frozen=True)
class Breakdown:
    step_id: str
    head: str
    factors: tuple[Factor, ...]
    givens: tuple[str, ...] = field(default_factory=tuple)


def _line(parts: list[str]) -> str:
    unique: list[str] = []
    for p in parts:
        if not unique or unique[-1] != p:
            unique.append(p)
    return " = ".join(unique)


def breakdown(
    plan: Plan, step_id: str, learner: Mapping[str, float] | None = None, style: Style = UNICODE
) -> Breakdown:
    step = plan[step_id]
    env = learner or {}  # a Ref falls back to the engine's value
    d = plan.lesson.quiz.decimals

    def name(s: Step) -> str:
        return s.id if style.ascii else s.label

    def factor(s: Step, depth: int) -> Factor:
        parts: tuple[Factor, ...] = ()
        if depth == 0 and s.kind == "path":
            parts = tuple(factor(plan[r], 1) for r in s.depends_on)
        return Factor(
            s.id,
            name(s),
            s.formula.render(style),
            worked_numbers(plan, s, env, style),
            fmt_value(env.get(s.id, s.value), d, ascii_minus=style.ascii),
            s.meaning,
            parts,
        )

    value = step.formula.evaluate(env) if learner else step.value  # the numbers shown add up
    head = _line(
        [
            name(step),
            step.formula.render(style),
            worked_numbers(plan, step, env, style),
            fmt_value(value, d, ascii_minus=style.ascii),
        ]
    )
    factors = tuple(factor(plan[r], 0) for r in step.depends_on)
    givens = []
    for g in {g.name: g for g in step.formula.givens()}.values():  # each given once
        label = g.name if style.ascii or not g.unicode else g.unicode
        what = GIVEN_WORDS.get(g.name, "given")
        givens.append(f"{label} = {fmt_given(g.value, ascii_minus=style.ascii)} ({what})")
    return Breakdown(step.id, head, factors, tuple(givens))


def as_text(b: Breakdown) -> str:
    lines = [b.head]
    for f in b.factors:
        lines.append(f"  {_line([f.label, f.names, f.value])}")
        lines.append(f"      {f.meaning}")
        for p in f.parts:
            lines.append(f"      {_line([p.label, p.names, p.value])}")
    if b.givens:
        lines.append("  " + "; ".join(b.givens))
    return "\n".join(lines)


def as_rich(b: Breakdown) -> RenderableType:
    """A Rich renderable; every text is a ``Text`` so lesson text is never read as markup."""
    from rich.console import Group
    from rich.text import Text

    out = [Text(b.head, style="bold")]
    for f in b.factors:
        line = Text("  ")
        line.append(f.label, style="bold cyan")
        rest = _line([f.names, f.value]) if f.names != f.label else f.value
        line.append(" = " + rest)
        out.append(line)
        out.append(Text("      " + f.meaning, style="dim"))
        for p in f.parts:
            out.append(Text("      " + _line([p.label, p.names, p.value])))
    if b.givens:
        out.append(Text("  " + "; ".join(b.givens), style="dim"))
    return Group(*out)
