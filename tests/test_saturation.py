"""Saturated outputs with cross-entropy: every step's value against closed forms.

A sigmoid output at sum 37 rounds to 1.0, so anything computed from 1 − out is lost; the
true values are finite (1 + e^37 for ∂E/∂out, e^−37 for the slope). The closed forms here
are written with ``math`` from the sum alone, independently of the engine's formulas: the
slope as 1/(4 cosh²(s/2)), ∂E/∂out as δ divided by that slope, δ as σ(s) − t.
"""

from __future__ import annotations

import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from netgen import lesson_toml

from tutor.cli.lessons import cmd_validate
from tutor.lesson.reader import parse_lesson
from tutor.plan.build import build_plan
from tutor.plan.steps import Plan

FEW_ULPS = 8 * sys.float_info.epsilon  # what the fixed cases must meet


def sig(s: float) -> float:
    return 1.0 / (1.0 + math.exp(-s)) if s >= 0 else math.exp(s) / (1.0 + math.exp(s))


def softplus(y: float) -> float:
    """ln(1 + e^y)."""
    return max(y, 0.0) + math.log1p(math.exp(-abs(y)))


def sigmoid_slope(s: float) -> float:
    """σ'(s) = 1/(e^(s/2) + e^(−s/2))²."""
    return 0.25 / math.cosh(s / 2) ** 2


def sigmoid_output(s: float, t: float, loss: str) -> dict[str, float]:
    """E, ∂E/∂out, ∂out/∂sum and δ of one sigmoid output with sum s and target t."""
    delta_bce = -sig(-s) if t == 1.0 else sig(s) - t  # σ(s) − t; 1 − σ(s) = σ(−s)
    if loss == "binary_cross_entropy":
        error = t * softplus(-s) + (1.0 - t) * softplus(s)
        delta = delta_bce
        dE_dout = delta / sigmoid_slope(s)
    else:  # cross-entropy on a sigmoid output: only −t·ln(out)
        error = t * softplus(-s)
        delta = -t * sig(-s)
        dE_dout = -t / sig(s)
    return {"E": error, "dE_dout": dE_dout, "slope": sigmoid_slope(s), "delta": delta}


def one_unit(
    weight: float,
    target: float,
    loss: str = "binary_cross_entropy",
    x: float = 1.0,
    form: str = "auto",
) -> str:
    """The issue's lesson: one input (1), one weight, one sigmoid output, no bias."""
    return f"""
title = "saturated"
[network]
loss = "{loss}"
learning_rate = 0.1
[quiz]
form = "{form}"
[[layers]]
units = ["x"]
[[layers]]
units = ["o"]
activation = "sigmoid"
[weights]
w = {{ from = "x", to = "o", value = {weight!r} }}
[inputs]
x = {x!r}
[targets]
o = {target!r}
"""


def expected_one_unit(plan: Plan, x: float, w: float, t: float, loss: str) -> dict[str, float]:
    s = x * w
    out = sigmoid_output(s, t, loss)
    eta = plan.lesson.network.learning_rate
    return {
        "sum_o": s,
        "out_o": sig(s),
        "E1": out["E"],
        "E_total": out["E"],
        "dE_total/dout_o": out["dE_dout"],
        "dout_o/dsum_o": out["slope"],
        "delta_o": out["delta"],
        "dsum_o/dw": x,
        "dE_total/dw": out["delta"] * x,
        "new_w": w - eta * out["delta"] * x,
    }


def assert_steps(plan: Plan, expected: dict[str, float], rel: float) -> None:
    """Every step of the plan has a closed form, and agrees with it."""
    for step in plan:
        assert step.id in expected, f"no closed form for {step.id}"
        want = expected[step.id]
        assert math.isfinite(step.value), (step.id, step.value, want)
        assert math.isclose(step.value, want, rel_tol=rel, abs_tol=0.0), (
            step.id,
            step.value,
            want,
        )


@pytest.mark.parametrize("form", ["paths", "delta"])
@pytest.mark.parametrize("weight", [37.0, 30.0, -37.0, 50.0, -50.0, 700.0, -700.0])
@pytest.mark.parametrize("target", [0.0, 1.0, 0.25])
@pytest.mark.parametrize("loss", ["binary_cross_entropy", "cross_entropy"])
def test_saturated_sigmoid_output_matches_closed_forms(loss, target, weight, form):
    plan = build_plan(parse_lesson(one_unit(weight, target, loss, form=form)))
    assert plan.form == form
    assert_steps(plan, expected_one_unit(plan, 1.0, weight, target, loss), FEW_ULPS)


def test_the_issues_lessons(tmp_path, capsys):
    """Weight 37 validates, and its values are the true ones; at weight 30 ∂E/∂out is
    1 + e^30 = 1.06865e13 (the rounded output gave 1.06974e13)."""
    for weight in (37.0, 30.0):
        path = tmp_path / f"w{weight:g}.toml"
        path.write_text(one_unit(weight, 0.0))
        assert cmd_validate([str(path)]) == 0
        assert "ok (9 steps)" in capsys.readouterr().out
    values = build_plan(parse_lesson(one_unit(37.0, 0.0))).values()
    assert values["dE_total/dout_o"] == pytest.approx(1.0 + math.exp(37), rel=FEW_ULPS)
    assert values["dout_o/dsum_o"] == pytest.approx(math.exp(-37), rel=1e-15)
    assert values["dE_total/dw"] == pytest.approx(1.0, rel=FEW_ULPS)
    assert values["new_w"] == pytest.approx(36.9, rel=FEW_ULPS)
    values = build_plan(parse_lesson(one_unit(30.0, 0.0))).values()
    assert values["dE_total/dout_o"] == pytest.approx(1.0 + math.exp(30), rel=FEW_ULPS)


@pytest.mark.parametrize("form", ["paths", "delta"])
def test_saturation_through_a_hidden_unit(form):
    """x → h (linear, weight u, bias c) → o (sigmoid, weight v, bias b): the hidden steps
    carry the output's δ back exactly."""
    x, u, c, v, b, t, eta = 2.0, 0.5, 1.0, 18.0, 1.0, 0.0, 0.1
    text = lesson_toml(
        [1, 1, 1],
        "linear",
        "sigmoid",
        "binary_cross_entropy",
        [[[u]], [[v]]],
        [[c], [b]],
        [x],
        [t],
        lr=eta,
        form=form,
    )
    plan = build_plan(parse_lesson(text))
    h = x * u + c
    s = h * v + b  # 37
    out = sigmoid_output(s, t, "binary_cross_entropy")
    d = out["delta"]
    expected = {
        "sum_h1_1": h,
        "out_h1_1": h,
        "sum_o1": s,
        "out_o1": sig(s),
        "E1": out["E"],
        "E_total": out["E"],
        "dE_total/dout_o1": out["dE_dout"],
        "dout_o1/dsum_o1": out["slope"],
        "delta_o1": d,
        "dsum_o1/dw_o1_h1_1": h,
        "dE_total/dw_o1_h1_1": d * h,
        "new_w_o1_h1_1": v - eta * d * h,
        "dE_total/db2_0": d,
        "new_b2_0": b - eta * d,
        "dsum_o1/dout_h1_1": v,
        "dE_total/dout_h1_1": d * v,
        "dout_h1_1/dsum_h1_1": 1.0,
        "delta_h1_1": d * v,
        "dsum_h1_1/dw_h1_1_i1": x,
        "dE_total/dw_h1_1_i1": d * v * x,
        "new_w_h1_1_i1": u - eta * d * v * x,
        "dE_total/db1_0": d * v,
        "new_b1_0": c - eta * d * v,
    }
    assert_steps(plan, expected, FEW_ULPS)


@pytest.mark.parametrize("target", [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
@pytest.mark.parametrize("top", [37.0, 50.0, 700.0])
def test_saturated_softmax_matches_closed_forms(top, target):
    """Softmax with cross-entropy, sums (top, 0): δ_k = out_k − t_k, where 1 − out_0 is the
    other output, e^−top/(1 + e^−top), not 0."""
    eta = 0.1
    text = lesson_toml(
        [1, 2],
        "linear",
        "softmax",
        "cross_entropy",
        [[[top], [0.0]]],
        [[0.0, 0.0]],
        [1.0],
        target,
        lr=eta,
    )
    plan = build_plan(parse_lesson(text))
    a1 = sig(-top)  # e^0/(e^top + e^0)
    a0 = sig(top)
    t0, t1 = target
    d0 = a0 * t1 - t0 * a1  # a0 − t0 with t0 + t1 = 1, and 1 − a0 = a1
    d1 = a1 * t0 - t1 * a0
    e0 = t0 * softplus(-top) + t1 * softplus(top)  # −t0 ln a0 − t1 ln a1
    expected = {
        "sum_o1": top,
        "sum_o2": 0.0,
        "out_o1": a0,
        "out_o2": a1,
        "E1": t0 * softplus(-top),
        "E2": t1 * softplus(top),
        "E_total": e0,
        "delta_o1": d0,
        "delta_o2": d1,
        "dE_total/dw_o1_i1": d0,
        "dE_total/dw_o2_i1": d1,
        "new_w_o1_i1": top - eta * d0,
        "new_w_o2_i1": 0.0 - eta * d1,
        "dE_total/db1_0": d0,
        "dE_total/db1_1": d1,
        "new_b1_0": -eta * d0,
        "new_b1_1": -eta * d1,
    }
    assert_steps(plan, expected, FEW_ULPS)


sums = st.floats(20.0, 700.0) | st.floats(-700.0, -20.0)
targets = st.sampled_from([0.0, 1.0]) | st.floats(0.01, 0.99)


@settings(max_examples=200, deadline=None)
@given(
    s=sums,
    x=st.floats(0.5, 2.0),
    t=targets,
    loss=st.sampled_from(["binary_cross_entropy", "cross_entropy"]),
    form=st.sampled_from(["paths", "delta"]),
)
def test_random_saturated_sums_agree_with_closed_forms(s, x, t, loss, form):
    w = s / x
    plan = build_plan(parse_lesson(one_unit(w, t, loss, x, form)))
    assert_steps(plan, expected_one_unit(plan, x, w, t, loss), 1e-12)


@pytest.mark.parametrize("weight", [5.0, -19.0, 25.0, -40.0, 300.0])
def test_saturated_tanh_slope_matches_its_closed_form(weight):
    # one tanh output, input 1: sum = weight; 1 − out² would be 0 from |sum| ≈ 19
    text = lesson_toml([1, 1], "tanh", "tanh", "half_sse", [[[weight]]], [[0.0]], [1.0], [0.5])
    plan = build_plan(parse_lesson(text))
    slope = plan["dout_o1/dsum_o1"].value
    exact = 1.0 / math.cosh(weight) ** 2
    assert slope > 0 and math.isclose(slope, exact, rel_tol=1e-13), (slope, exact)
