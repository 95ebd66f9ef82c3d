"""The worked solution of a lesson as text, Markdown or JSON (``tutor solve``)."""

from __future__ import annotations

from typing import Any

from tutor.formula import ASCII, UNICODE, Given, Num, Ref, Style
from tutor.names import PHASE_TITLES
from tutor.plan.steps import Plan, Step
from tutor.plan.worked import worked_numbers
from tutor.textmode import json_text, markdown_text, safe_text


def section(step: Step, current: str | None) -> str:
    """The heading a step goes under (with its iteration or example): an update stays in the section that computed its
    gradient, so headings do not flip back and forth between weights."""
    if step.phase == "update" and current is not None:
        return current
    return step.phase_title


def step_lines(plan: Plan, step: Step, env: dict[str, float], style: Style) -> list[str]:
    """``name = formula = numbers = value``, leaving out parts that would repeat."""
    decimals = plan.lesson.quiz.decimals
    name = step.id if style.ascii else step.label
    parts = [name]
    names = step.formula.render(style)
    numbers = worked_numbers(plan, step, env, style)
    tol = plan.lesson.quiz.tolerance_for(step.id)
    value = tol.show(step.value, decimals, ascii_minus=style.ascii)
    parts.append(names)
    if not isinstance(step.formula, (Ref, Given, Num)) and numbers != names:
        parts.append(numbers)
    if value != parts[-1]:
        parts.append(value)
    return parts


def to_json(plan: Plan) -> dict[str, Any]:
    lesson = plan.lesson
    env = plan.values()
    return {
        "lesson": lesson.id,
        "title": lesson.title,
        "network": lesson.network.normalised(),
        "steps": [
            {
                "id": s.id,
                "label": s.label,
                "value": s.value,
                "formula": s.formula.render(UNICODE),
                "substituted": worked_numbers(plan, s, env, UNICODE),
                "depends_on": list(s.depends_on),
                "phase": s.phase,
                "asked": s.asked,
                "kind": s.kind,
            }
            for s in plan
        ],
    }


def render_json(plan: Plan) -> str:
    return json_text(to_json(plan), indent=2)


def render_text(plan: Plan, style: Style = UNICODE) -> str:
    lesson = plan.lesson
    env = plan.values()
    title = safe_text(lesson.title, 200).replace("\n", " ")  # never raw escape codes
    out = [f"{title}  ({lesson.id}, {lesson.size}, {len(plan)} steps)", ""]
    phase = None
    for s in plan:
        if section(s, phase) != phase:
            phase = section(s, phase)
            out += ["", PHASE_TITLES.get(phase, phase), "-" * len(PHASE_TITLES.get(phase, phase))]
        parts = step_lines(plan, s, env, style)
        shown = "" if s.asked else "   (shown)"
        pad = " " * (len(parts[0]) + 1)
        out.append(f"{parts[0]} = {parts[1]}{shown if len(parts) == 2 else ''}")
        for k, part in enumerate(parts[2:], start=2):
            tail = shown if k == len(parts) - 1 else ""
            out.append(f"{pad}= {part}{tail}")
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"


def render_markdown(plan: Plan) -> str:
    lesson = plan.lesson
    env = plan.values()
    out = [
        f"# {markdown_text(lesson.title.replace(chr(10), ' ')[:200])}",
        "",
        f"Lesson `{lesson.id}`, network {lesson.size}, {len(plan)} steps.",
        "",
    ]
    phase = None
    for s in plan:
        if section(s, phase) != phase:
            phase = section(s, phase)
            out += [f"## {PHASE_TITLES.get(phase, phase)}", ""]
        parts = step_lines(plan, s, env, UNICODE)
        shown = " *(shown)*" if not s.asked else ""
        body = " = ".join(f"`{p}`" for p in parts[1:-1])
        eq = f"{body} = " if body else ""
        out.append(f"- **`{parts[0]}`** = {eq}**{parts[-1]}**{shown}")
    out.append("")
    return "\n".join(out)


STYLES = {"unicode": UNICODE, "ascii": ASCII}
