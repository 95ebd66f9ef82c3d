"""Issue 20, computational-graph lessons: ``[graph]`` read by the tutor's own parser, the plan
(forward values, then each gate's local and upstream gradients in reverse), its numbers tied
to the independent autograd and to central differences, the named mistakes, carried errors,
the diagram and every validation message."""

from __future__ import annotations

import math

import pytest
from autograd import graph_reference
from conftest import LESSONS

from tutor.drawing import diagram_text, missing_givens, unseen_givens
from tutor.grading.breakdown import as_text, breakdown
from tutor.grading.grade import Grader
from tutor.grading.hints import hint
from tutor.grading.selfcheck import check_plan
from tutor.grading.verdict import CARRIED, CORRECT
from tutor.lesson.model import LessonError
from tutor.lesson.reader import load_lesson, parse_lesson
from tutor.plan.build import build_plan

INTRO = LESSONS / "graph-intro.toml"


def graph_lesson(nodes: str, inputs: str = "x = 1.5\ny = -2\n", extra: str = "") -> str:
    return f'title = "g"\n{extra}\n[graph.inputs]\n{inputs}\n[graph.nodes]\n{nodes}\n'


def problems(text: str) -> list[str]:
    with pytest.raises(LessonError) as err:
        parse_lesson(text, file="g.toml")
    return [str(p) for p in err.value.problems]


def test_intro_lesson_steps_and_values():
    plan = build_plan(load_lesson(INTRO))
    assert [(s.id, s.value) for s in plan] == [
        ("q", 3.0),
        ("f", -12.0),
        ("df/dz", 3.0),
        ("df/dq", -4.0),
        ("dq/dx", 1.0),
        ("dq/dy", 1.0),
        ("df/dx", -4.0),
        ("df/dy", -4.0),
    ]
    assert [s.kind for s in plan][:3] == ["gate", "gate", "upstream"]
    assert plan["dq/dx"].kind == "local"
    assert plan["df/dx"].formula.render() == "∂f/∂q · ∂q/∂x"


EVERY_OP = """
a = "x * y"
b = "a - x"
c = "b / y"
d = "c ^ 3"
e2 = "-d"
g = "exp(e2)"
h = "log(g + 0)"
k = "max(h, y)"
m = "sigmoid(k)"
n = "tanh(m)"
p = "relu(n)"
r = "softplus(p)"
s = "gelu(r)"
t = "leaky_relu(s)"
u = "x * x"
v = "t + u"
"""


def test_every_operation_matches_autograd_and_central_differences():
    text = graph_lesson(EVERY_OP.replace("log(g + 0)", "log(g)"))
    lesson = parse_lesson(text)
    plan = build_plan(lesson)
    ref = graph_reference(lesson)
    assert sorted(s.id for s in plan) == sorted(ref)
    for step in plan:
        assert step.value == pytest.approx(ref[step.id], rel=1e-9, abs=1e-12), step.id
    # central differences on the inputs, straight from the formulas of the forward steps
    forward = [s for s in plan if s.kind == "gate"]

    def f_at(x: float, y: float) -> float:
        env: dict[str, float] = {}
        for s in forward:
            env[s.id] = s.formula.evaluate(env, {"x": x, "y": y})
        return env["v"]

    h = 1e-6
    assert plan["dv/dx"].value == pytest.approx(
        (f_at(1.5 + h, -2) - f_at(1.5 - h, -2)) / (2 * h), rel=1e-5
    )
    assert plan["dv/dy"].value == pytest.approx(
        (f_at(1.5, -2 + h) - f_at(1.5, -2 - h)) / (2 * h), rel=1e-5
    )
    assert plan["du/dx"].value == pytest.approx(3.0)  # x · x: x + x


def test_upstream_forgotten_and_fan_out_not_added_are_named():
    plan = build_plan(load_lesson(LESSONS / "graph-fan-out.toml"))
    grader = Grader(plan)
    step = plan["df/dx"]  # x feeds a and b
    terms = [t.evaluate() for t in step.formula.children()]
    assert len(terms) == 2 and math.isclose(sum(terms), step.value)
    for term in terms:
        assert grader.grade("df/dx", f"{term:.6f}").diagnosis == "fan_out_not_added"
    local_only = plan["da/dx"].value + plan["db/dx"].value
    assert grader.grade("df/dx", f"{local_only:.6f}").diagnosis == "upstream_forgotten"
    upstream_only = plan["df/db"].value  # df/dg passed down unchanged through the exp gate
    assert grader.grade("df/db", f"{plan['df/dg'].value:.6f}").diagnosis == "local_forgotten"
    assert upstream_only != plan["df/dg"].value
    own = plan["da/dx"]  # the multiply gate's local gradient w.r.t. x is y, not x
    assert grader.grade(own.id, "1.5").diagnosis == "own_input"
    assert grader.grade("df/dx", f"{step.value:.6f}").verdict == CORRECT


def test_a_slip_is_carried_through_the_backward_pass():
    plan = build_plan(load_lesson(INTRO))
    grader = Grader(plan)
    mine = {"q": 4.0}  # 5 + (−2) slipped to 4
    verdict = grader.grade("f", "-16", mine)
    assert verdict.verdict == CARRIED
    mine["f"] = -16.0
    mine["df/dz"] = 4.0
    assert grader.grade("df/dz", "4", mine).verdict == CARRIED
    mine.update({"df/dq": -4.0, "dq/dx": 1.0})
    assert grader.grade("df/dx", "-4", mine).verdict == CORRECT


def test_hints_three_levels_and_breakdown():
    plan = build_plan(load_lesson(LESSONS / "graph-neuron.toml"))
    step = plan["df/dc"]
    assert "chain rule" in hint(plan, step, 1).lower()
    assert hint(plan, step, 2) == "∂f/∂c = ∂f/∂s · ∂s/∂c"
    assert "0.2475 · 1.0000" in hint(plan, step, 3)
    text = as_text(breakdown(plan, "df/dc"))
    assert text.splitlines()[0].startswith("∂f/∂c = ∂f/∂s · ∂s/∂c = 0.2475 · 1.0000 = 0.2475")
    assert "∂f/∂s" in text and "∂s/∂c" in text


def test_shipped_graph_lessons_pass_the_self_check():
    for name in ("graph-intro", "graph-neuron", "graph-fan-out"):
        report = check_plan(build_plan(load_lesson(LESSONS / f"{name}.toml")))
        assert report.ok, report.failures


def test_diagram_values_above_gradients_below_in_unicode_and_ascii():
    lesson = load_lesson(INTRO)
    plan = build_plan(lesson)
    from tutor.drawing import network_rows

    rows = network_rows(lesson.network, plan.values(), set(), 3)
    lines = ["".join(t for t, _ in r) for r in rows]
    assert lines[0].startswith("inputs x=−2  y=5  z=−4")
    assert "x=−2" in lines[1] and "q=3.000" in lines[1]
    assert "∂f/∂x=−4.000" in lines[2] and "∂f/∂q=−4.000" in lines[2]
    ascii_rows = network_rows(lesson.network, plan.values(), set(), 3, ascii_only=True)
    text = "\n".join("".join(t for t, _ in r) for r in ascii_rows)
    assert text.isascii() and "df/dx=-4.000" in text and "-> f=-12.000" in text
    assert (
        missing_givens(
            [g for s in plan for g in s.formula.givens()],
            diagram_text(lesson.network, 3, room=3, width=70),
        )
        == []
    )


def test_every_given_is_visible_when_the_inputs_need_two_lines():
    inputs = "\n".join(f"input_number_{k} = -0.12345{k}" for k in range(6))
    nodes = "\n".join(
        [f'n{k} = "input_number_{k} * input_number_{k + 1}"' for k in range(5)]
        + ['out = "n0 + n1"', 'o2 = "out + n2"', 'o3 = "o2 + n3"', 'o4 = "o3 + n4"']
    )
    lesson = parse_lesson(graph_lesson(nodes, inputs))
    plan = build_plan(lesson)
    steps = [(s.id, s.formula.givens(), s.involves) for s in plan if s.asked]
    assert unseen_givens(lesson.network, 5, steps) == []


@pytest.mark.parametrize(
    ("nodes", "where", "what"),
    [
        ('q = "x + yy"', "graph.nodes.q", "unknown name 'yy' (did you mean 'y'?)"),
        (
            'q = "x + r"\nr = "q * y"',
            "graph.nodes.q",
            "'r' depends on 'q', so using it here makes a cycle",
        ),
        ('q = "q + x"', "graph.nodes.q", "uses itself ('q'): a cycle"),
        ('q = "r + x"\nr = "x * y"', "graph.nodes.q", "'r' is used before it is defined"),
        ('q = "sigmod(x)"', "graph.nodes.q", "unknown function 'sigmod' (did you mean 'sigmoid'?)"),
        ('q = "x / 0"', "graph.nodes.q", "divides by the constant 0"),
        ('q = "x / (y + 2)"', "graph.nodes.q", "a node is one operation"),
        ('q = "x * y + y"', "graph.nodes.q", "a node is one operation"),
        ('q = "x ^ y"', "graph.nodes.q", "the exponent must be a number"),
        ('q = "x"', "graph.nodes.q", "applies no operation"),
        ('q = "1 + 2"\nr = "q * x * y"', "graph.nodes.q", "uses no input or node"),
        ('q = "log(y)"\nr = "q * x"', "graph.nodes.q", "takes the log of -2"),
        ('q = "x + 2"\nr = "q / (x + 0)"', "graph.nodes.r", "a node is one operation"),
        ('q = "max(x, 1.5)"\nr = "q * y"', "graph.nodes.q", "max of two equal values"),
        ('q = "x $ y"', "graph.nodes.q", "cannot read '$'"),
        ('q = "max(x)"\nr = "q * y"', "graph.nodes.q", "max takes 2 arguments"),
        ('x = "y * 2"', "graph.nodes.x", "already the name of an input"),
        ('exp = "x * y"', "graph.nodes.exp", "reserved for formulas"),
        ('q = "x * 2"', "graph.inputs.y", "is not used"),
        ("q = 3", "graph.nodes.q", "must be a string, not a whole number"),
        ('q = "x * y"\nr = "x - y"', "graph.nodes.q", "is not used"),
    ],
)
def test_each_graph_key_has_a_clear_message(nodes, where, what):
    found = problems(graph_lesson(nodes))
    assert any(p.startswith(f"g.toml: {where}: ") and what in p for p in found), found


def test_graph_lessons_refuse_network_keys_and_need_inputs_and_nodes():
    found = problems('title = "g"\n[network]\nlearning_rate = 1\n[graph.nodes]\nq = "1 + 1"\n')
    assert "g.toml: network: not used in a computational-graph lesson (one with [graph])" in found
    assert any(p.startswith("g.toml: graph.inputs: missing") for p in found)
    found = problems('title = "g"\n[graph.inputs]\nx = 1\n')
    assert any(p.startswith("g.toml: graph.nodes: missing") for p in found)
    found = problems(graph_lesson('q = "x * y"', extra="[variants]\nround = 2\n"))
    assert any(p.startswith("g.toml: variants: not used") for p in found)


def test_solve_json_and_summary_of_a_graph_lesson():
    from tutor.session import QuizSession
    from tutor.solution import to_json

    plan = build_plan(load_lesson(INTRO))
    data = to_json(plan)
    assert data["network"]["graph"]["nodes"] == {"q": "x + y", "f": "q * z"}
    summary = QuizSession(plan).summary()
    assert summary["loss_history"] == [] and summary["updates"] == []


def test_the_documented_example_is_the_intro_lesson_and_lists_in_course_order():
    import re
    import subprocess
    import sys

    from conftest import ROOT

    doc = (ROOT / "docs" / "lesson-format.md").read_text()
    section = doc[doc.index("### `[graph]`") :]
    example = re.search(r"```toml\n(.*?)```", section, re.S)
    assert example is not None
    lesson = parse_lesson(example.group(1))
    assert [s.value for s in build_plan(lesson)] == [
        s.value for s in build_plan(load_lesson(INTRO))
    ]
    out = subprocess.run(
        [sys.executable, "-m", "tutor", "list"], capture_output=True, text=True, check=True
    ).stdout
    ids = [line.split()[0] for line in out.splitlines()[1:]]
    assert ids[-3:] == ["graph-intro", "graph-neuron", "graph-fan-out"]
    assert "2 gates" in out
