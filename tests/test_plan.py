"""Plan and engine agree: every Formula, evaluated on the engine's values, gives the step's value."""

from __future__ import annotations

import math

import pytest
from conftest import LESSONS, all_lesson_files
from hypothesis import HealthCheck, given, settings
from netgen import lesson_toml, networks

from tutor.formula import ASCII, UNICODE
from tutor.lesson.reader import load_lesson, parse_lesson
from tutor.plan.build import build_plan, plan_problems


def assert_formulas_match(plan):
    env = plan.values()
    for step in plan:
        got = step.formula.evaluate(env)
        if math.isinf(step.value) or math.isinf(got):
            assert got == step.value, step.id
            continue
        assert got == pytest.approx(step.value, rel=1e-12, abs=1e-12), step.id
        # every step a formula reads comes earlier in the plan
        for dep in step.depends_on:
            assert plan.index(dep) < plan.index(step.id), (step.id, dep)


def assert_required_steps(plan):
    ids = {s.id for s in plan}
    net = plan.lesson.network
    if net.graph is not None:  # every gate forward, every input's gradient backward
        f = net.graph.output
        assert {g.name for g in net.graph.gates} <= ids
        assert {f"d{f}/d{n}" for n, _ in net.graph.inputs} <= ids
        return
    # a mini-batch's loss is E_batch; each example's E_total is tagged [k]
    assert ("E_batch" if net.batch else plan.lesson.total_name) in ids
    for w in net.weights:
        assert f"new_{w.name}" in ids
    if net.update_biases:
        for name, _li, _v in net.bias_params():
            assert f"new_{name}" in ids


@pytest.mark.parametrize("path", all_lesson_files(), ids=lambda p: p.stem)
def test_every_shipped_lesson_formulas_equal_engine(path):
    plan = build_plan(load_lesson(path))
    assert_formulas_match(plan)
    assert_required_steps(plan)
    assert plan_problems(plan.lesson, plan) == []


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_hidden=3))
def test_random_networks_formulas_equal_engine(text):
    plan = build_plan(parse_lesson(text))
    assert_formulas_match(plan)
    assert_required_steps(plan)


def test_deep_network_uses_delta_form():
    text = lesson_toml(
        [2, 3, 2, 1],
        "sigmoid",
        "sigmoid",
        "half_sse",
        [[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], [[0.7, 0.8]]],
        [[0.1] * 3, [0.2] * 2, [0.3]],
        [0.5, 0.9],
        [0.2],
    )
    plan = build_plan(parse_lesson(text))
    assert plan.form == "delta"
    ids = [s.id for s in plan]
    assert "delta_o1" in ids and "delta_h1_1" in ids and "delta_h2_1" in ids
    # the hidden ∂E/∂out is a sum over the units it feeds, not a list of paths
    f = plan["dE_total/dout_h2_1"].formula
    assert f.refs() == ("delta_o1",)
    f = plan["dE_total/dout_h1_1"].formula
    assert f.refs() == ("delta_h2_1", "delta_h2_2")
    assert not any(i.startswith("dE1/") for i in ids)


def test_softmax_delta_shows_the_shortcut():
    text = lesson_toml(
        [2, 2, 3],
        "sigmoid",
        "softmax",
        "cross_entropy",
        [[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6], [0.7, 0.8], [0.9, 0.1]]],
        [[0.1, 0.1], [0.2, 0.2, 0.2]],
        [0.5, 0.9],
        [0.0, 1.0, 0.0],
    )
    plan = build_plan(parse_lesson(text))
    assert plan["delta_o2"].formula.render(ASCII) == "out_o2 - target_o2"
    assert "out_o2 − target_o2" in plan["delta_o2"].meaning
    assert_formulas_match(plan)


def test_rendering_with_names_and_numbers(seed_plan):
    env = seed_plan.values()
    s = seed_plan["sum_h1"]
    assert s.formula.render(UNICODE) == "i1 · w1 + i2 · w3 + b1"
    assert s.formula.render(ASCII) == "i1*w1 + i2*w3 + b1"
    assert s.formula.substitute(env, UNICODE, 5) == "0.1 · 0.1 + 0.5 · 0.3 + 0.25"
    assert seed_plan["out_h1"].formula.render(ASCII) == "1/(1 + exp(-sum_h1))"
    w7 = seed_plan["new_w7"].formula.substitute(env, UNICODE, 5)
    assert w7 == "0.7 − 0.6 · (−0.01761)"
    w1 = seed_plan["dE_total/dw1"].formula.substitute(env, UNICODE, 5)
    assert w1 == "0.00160 + (−0.00049)"
    chain = seed_plan["dE_total/dw5"].formula.render(UNICODE)
    assert chain == "∂E_total/∂out_o1 · ∂out_o1/∂sum_o1 · ∂sum_o1/∂w5"
    assert seed_plan["E1"].formula.render(ASCII) == "0.5*(target_o1 - out_o1)^2"


def test_formula_evaluates_with_learner_values(seed_plan):
    """Error carried forward: a formula reads the values it is given, not the engine's."""
    f = seed_plan["out_h1"].formula
    assert f.evaluate({"sum_h1": 0.0}) == 0.5
    g = seed_plan["new_w5"].formula
    assert g.evaluate({"dE_total/dw5": 0.1}) == pytest.approx(0.5 - 0.06)


def test_ask_and_show_patterns():
    base = (LESSONS / "sigmoid-2-2-2.toml").read_text()
    text = base.replace("[quiz]\n", '[quiz]\nshow = ["dsum_*"]\n')
    plan = build_plan(parse_lesson(text))
    shown = [s.id for s in plan if not s.asked]
    assert shown and all(i.startswith("dsum_") for i in shown)
    text = base.replace("[quiz]\n", '[quiz]\nask = ["new_*"]\n')
    plan = build_plan(parse_lesson(text))
    assert {s.id for s in plan if s.asked} == {f"new_w{k}" for k in range(1, 9)}


def test_plan_problems_name_bad_patterns_and_hints():
    base = (LESSONS / "sigmoid-2-2-2.toml").read_text()
    text = base.replace("[quiz]\n", '[quiz]\nshow = ["nothing_*"]\n').replace(
        "[hints]\n", '[hints]\n"sum_H1" = "x"\n'
    )
    lesson = parse_lesson(text, file="l.toml")
    problems = [str(p) for p in plan_problems(lesson, build_plan(lesson))]
    assert "l.toml: quiz.show[0]: 'nothing_*' matches no step" in problems
    assert any('hints."sum_H1"' in p and "did you mean 'sum_h1'" in p for p in problems)


def test_bias_updates_when_asked():
    base = (
        (LESSONS / "sigmoid-2-2-2.toml")
        .read_text()
        .replace("update_biases = false", "update_biases = true")
    )
    plan = build_plan(parse_lesson(base))
    assert "new_b1" in plan and "new_b2" in plan
    # b2 is shared by o1 and o2: its gradient adds one term per unit
    assert len(plan["dE_total/db2"].formula.children()) == 2
    assert_formulas_match(plan)
