"""The built-in lesson library: every lesson's numbers are right, and each lesson teaches
what its intro promises (published values, an inactive ReLU unit, the softmax shortcut, δ steps
in every hidden layer of the deep net) and shows up in course order in ``tutor list``."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import LESSONS, all_lesson_files
from test_engine import _fd_grads
from test_plan import assert_formulas_match

from tutor.lesson.reader import load_lesson
from tutor.plan.build import build_plan

# id -> course order; the default lesson is 1.
COURSE = {
    "sigmoid-2-2-2": 1,
    "classic-2-2-2": 2,
    "tanh-sigmoid": 3,
    "relu-regression": 4,
    "softmax-ce": 5,
    "deep-2-3-2-1": 6,
    "per-unit-bias": 7,
    "logistic-bce": 8,
    "leaky-softplus": 10,
    "gelu-exact": 11,
    "decay-momentum": 12,
    "two-updates": 13,
    "batch-of-two": 14,
}

LESSON_FILES = all_lesson_files()


def plan_of(lesson_id: str):
    return build_plan(load_lesson(LESSONS / f"{lesson_id}.toml"))


def sig(x: float, digits: int = 9) -> float:
    """x rounded to ``digits`` significant digits."""
    return float(f"{x:.{digits}g}")


def test_the_library_is_complete():
    assert set(COURSE) <= {p.stem for p in LESSON_FILES}


# --- every lesson -------------------------------------------------------------------------


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_gradients_agree_with_central_differences(path):
    plan = build_plan(load_lesson(path))
    if plan.lesson.network.graph is not None:
        _graph_gradients_agree_with_central_differences(plan)
        return
    c, trace = plan.compiled, plan.trace
    gW, gb = _fd_grads(c, h=1e-6)
    for mine, fd in zip(trace.grad_W, gW, strict=True):
        np.testing.assert_allclose(mine, fd, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(trace.grad_bias_groups, gb, rtol=1e-5, atol=1e-7)
    # the plan's gradient steps are the engine's gradients, by name
    total = "E_batch" if plan.lesson.network.batch else plan.lesson.total_name
    for name, (li, r, col) in c.weight_index.items():
        step = plan[f"d{total}/d{name}"]
        assert step.value == pytest.approx(gW[li][r, col], rel=1e-5, abs=1e-7), name
    if plan.lesson.network.update_biases:
        for name, gid in c.bias_group.items():
            step = plan[f"d{total}/d{name}"]
            assert step.value == pytest.approx(gb[gid], rel=1e-5, abs=1e-7), name


def _graph_gradients_agree_with_central_differences(plan, h: float = 1e-6) -> None:
    """A graph lesson: ∂f/∂ of every input by central differences of f (computed by the
    independent autograd's forward pass), and of every gate by nudging that gate's value."""
    from autograd import graph_forward

    lesson = plan.lesson
    graph = lesson.network.graph
    f = graph.output

    def f_with(name: str, delta: float) -> float:
        if name in dict(graph.inputs):
            inputs = dict(graph.inputs)
            inputs[name] += delta
            return graph_forward(lesson, inputs)[0].data
        # nudge a gate's output: recompute the gates after it from the nudged value
        _, value = graph_forward(lesson)
        values = {n: v.data for n, v in value.items()}
        values[name] += delta
        seen = False
        for gate in graph.gates:
            if seen:
                sub = {a: values[a] for a in gate.names}
                out, _ = graph_forward(_one_gate(lesson, gate), sub)
                values[gate.name] = out.data
            seen = seen or gate.name == name
        return values[f]

    names = [*dict(graph.inputs), *(g.name for g in graph.gates[:-1])]
    for name in names:
        fd = (f_with(name, h) - f_with(name, -h)) / (2 * h)
        assert plan[f"d{f}/d{name}"].value == pytest.approx(fd, rel=1e-5, abs=1e-7), name


def _one_gate(lesson, gate):
    """A stand-in lesson whose graph is that one gate (its inputs given by the caller)."""
    from types import SimpleNamespace

    graph = SimpleNamespace(inputs=(), gates=(gate,), output=gate.name)
    return SimpleNamespace(network=SimpleNamespace(graph=graph))


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_every_formula_gives_its_step_value(path):
    assert_formulas_match(build_plan(load_lesson(path)))


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_has_its_teaching_material(path):
    lesson = load_lesson(path)
    assert lesson.intro.strip()
    assert lesson.hints
    if lesson.network.graph is not None:  # a graph's numbers are the lesson's own: no drills
        assert lesson.variants is None
        return
    assert lesson.variants is not None
    if lesson.network.layers[-1].activation == "softmax":
        assert lesson.variants.targets == "one-hot"
    if lesson.id in COURSE:
        assert lesson.order == COURSE[lesson.id]


# --- lesson by lesson ---------------------------------------------------------------------


def test_classic_reproduces_the_published_numbers():
    plan = plan_of("classic-2-2-2")
    assert sig(plan["E_total"].value) == 0.298371109
    assert sig(plan["new_w5"].value) == 0.35891648
    assert sig(plan["new_w1"].value) == 0.149780716
    # and the forward pass on the way there
    assert sig(plan["out_h1"].value) == 0.593269992
    assert sig(plan["out_o1"].value) == 0.75136507


def test_classic_wiring_numbers_weights_by_the_unit_they_enter():
    plan = plan_of("classic-2-2-2")
    assert plan["sum_h1"].formula.refs() == ()  # inputs, weights and bias only
    assert plan["dsum_o2/dout_h1"].param == "w7"
    assert plan["dsum_o1/dout_h2"].param == "w6"
    assert not plan.lesson.network.update_biases


def test_relu_lesson_has_an_inactive_unit_with_zero_gradients():
    plan = plan_of("relu-regression")
    net = plan.lesson.network
    hidden = net.layers[1]
    assert hidden.activation == "relu"
    dead = [u for u in hidden.units if plan[f"sum_{u}"].value < 0]
    assert dead, "some hidden ReLU unit must be switched off"
    total = plan.lesson.total_name
    for u in dead:
        assert plan[f"out_{u}"].value == 0.0
        assert plan[f"dout_{u}/dsum_{u}"].value == 0.0
        into = [w for w in net.weights if w.target == u]
        assert into
        for w in into:
            li, r, col = plan.compiled.weight_index[w.name]
            assert plan.trace.grad_W[li][r, col] == 0.0
            assert plan[f"d{total}/d{w.name}"].value == 0.0
            assert plan[f"new_{w.name}"].value == w.value
    # and the other units are on, so the lesson has real gradients too
    assert any(plan[f"sum_{u}"].value > 0 for u in hidden.units)
    assert net.layers[-1].activation == "linear" and net.loss == "mse"


def test_softmax_output_deltas_are_out_minus_target():
    plan = plan_of("softmax-ce")
    net = plan.lesson.network
    assert plan.form == "delta"
    assert net.layers[-1].activation == "softmax" and net.loss == "cross_entropy"
    assert sorted(net.targets) == [0.0] * (len(net.targets) - 1) + [1.0]
    for k, o in enumerate(net.output_units):
        step = plan[f"delta_{o}"]
        assert step.formula.refs() == (f"out_{o}",)
        assert step.value == pytest.approx(plan[f"out_{o}"].value - net.targets[k], abs=1e-15)
        assert f"dout_{o}/dsum_{o}" not in plan


def test_deep_lesson_has_delta_steps_in_both_hidden_layers():
    plan = plan_of("deep-2-3-2-1")
    net = plan.lesson.network
    assert [len(layer.units) for layer in net.layers] == [2, 3, 2, 1]
    assert plan.form == "delta"
    for layer in net.layers[1:]:
        for u in layer.units:
            assert f"delta_{u}" in plan, u
    ids = [s.id for s in plan]
    assert not any(i.startswith("dE1/") for i in ids)  # no per-path steps


def test_per_unit_bias_lesson_updates_every_bias():
    plan = plan_of("per-unit-bias")
    net = plan.lesson.network
    assert net.update_biases
    names = [name for name, _li, _v in net.bias_params()]
    for layer in net.layers[1:]:
        assert layer.bias_names is not None and len(set(layer.bias_names)) == len(layer.units)
    for name in names:
        assert f"dE_total/d{name}" in plan and f"new_{name}" in plan


def test_logistic_lesson_is_one_sigmoid_unit_with_bce():
    plan = plan_of("logistic-bce")
    net = plan.lesson.network
    assert len(net.layers) == 2 and len(net.output_units) == 1
    assert net.layers[-1].activation == "sigmoid" and net.loss == "binary_cross_entropy"
    assert net.update_biases
    o = net.output_units[0]
    out, t = plan[f"out_{o}"].value, net.targets[0]
    # the loss's derivative times the sigmoid's slope collapses to out − target
    for w in net.weights:
        x = net.inputs[net.unit_position(w.source)[1]]
        assert plan[f"dE_total/d{w.name}"].value == pytest.approx((out - t) * x, rel=1e-12)
    (bias,) = {name for name, _li, _v in net.bias_params()}
    assert plan[f"dE_total/d{bias}"].value == pytest.approx(out - t, rel=1e-12)


# --- the command line ---------------------------------------------------------------------


def test_list_json_shows_the_course_in_order():
    out = subprocess.run(
        [sys.executable, "-m", "tutor", "list", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stderr
    assert "skipping" not in out.stderr
    rows = json.loads(out.stdout)
    assert [r["id"] for r in rows] == sorted(
        (p.stem for p in LESSON_FILES), key=lambda i: (load_lesson(LESSONS / f"{i}.toml").order, i)
    )
    ours = [r for r in rows if r["id"] in COURSE]
    assert [r["id"] for r in ours] == sorted(COURSE, key=COURSE.get)
    assert [r["order"] for r in rows] == sorted(r["order"] for r in rows)
    for r in ours:
        assert r["order"] == COURSE[r["id"]]
        assert isinstance(r["difficulty"], int) and 1 <= r["difficulty"] <= 5
        assert isinstance(r["minutes"], int) and 1 <= r["minutes"] <= 600
