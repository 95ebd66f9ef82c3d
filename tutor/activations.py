"""Every activation and loss the tutor teaches, one record each.

A record carries everything the rest of the tutor needs to know about it: the NumPy function
and derivative the engine runs, the Formula the plan writes for a step, the symbol the
diagram shows, the range and the slope's sign that grading checks answers against, the
words of the step texts, and the values of the mistakes learners make with it. A new
activation or loss is one record here; no other module names it.

NumPy is imported inside the array functions, not at the top: the lesson reader and the
app's first paint read these records without waiting for NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tutor.formula import (
    LN,
    POWER,
    PRODUCT,
    Call,
    Diff,
    Formula,
    Function,
    Neg,
    Num,
    Product,
    Quot,
    Softmax,
    Square,
    Sum,
)

if TYPE_CHECKING:
    from numpy import ndarray as Array
else:
    Array = Any

Slope = Callable[[Array, Array], Array]  # (z, a) -> da/dz, elementwise


# --- scalar forms, for formulas ----------------------------------------------------------


def sigmoid_of(x: float) -> float:
    """1/(1+e^-x) without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    ex = math.exp(x)
    return ex / (1.0 + ex)


SIGMOID = Function(
    "sigmoid",
    sigmoid_of,
    "1 / (1 + e^({m}{x}))",
    "1/(1 + exp(-{x}))",
    wrap=POWER,
    prec=PRODUCT,
)
TANH = Function("tanh", math.tanh)
RELU = Function("relu", lambda x: max(0.0, x), "max(0, {x})", "max(0, {x})")
STEP = Function(
    "step", lambda x: 1.0 if x > 0 else 0.0, "(1 if {x} > 0 else 0)", "(1 if {x} > 0 else 0)"
)


# --- array forms, for the engine ---------------------------------------------------------


def sigmoid(z: Array) -> Array:
    """1/(1+e^-z) elementwise, without overflow for large |z|."""
    import numpy as np

    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def sigmoid_slope(z: Array) -> Array:
    """σ'(z) = σ(z)·σ(−z) = e^−|z| / (1 + e^−|z|)², from the sum.

    Written with the output, out·(1 − out) loses its digits as out nears 1: out is rounded
    in steps of 2^−53 there, so 1 − out is off by up to about 1e−16 (0.1% at sum 30) and is
    0 from about sum 37 on, where the true slope is e^−37. From the sum, every operation is
    on e^−|z| ≤ 1, and the result is good to a few ulps until it underflows past |z| ≈ 745.
    """
    import numpy as np

    e = np.exp(-np.abs(z))
    d = 1.0 + e
    return e / (d * d)


def _one_plus_exp(z: Array) -> Array:
    """1 + e^z, good to an ulp or two; inf only where the true value overflows float64 (the
    gradients that call it silence that warning)."""
    import numpy as np

    return 1.0 + np.exp(z)


def log_sigmoid(z: Array) -> Array:
    """log σ(z), stable: −log(1+e^−z)."""
    import numpy as np

    return -np.logaddexp(0.0, -np.asarray(z, dtype=float))


def softmax(z: Array) -> Array:
    import numpy as np

    e = np.exp(np.asarray(z, dtype=float) - np.max(z))
    return e / e.sum()


def log_softmax(z: Array) -> Array:
    """z − max − ln Σ e^(z − max). The largest term of the sum is exactly 1, so the log is
    taken as log1p of the others: ln(1 + e^−37) rounded through 1 + e^−37 would be 0, and a
    saturated output's error e^−37 would be lost."""
    import numpy as np

    shifted = np.asarray(z, dtype=float) - np.max(z)
    others = np.exp(shifted)
    others[np.argmax(shifted)] = 0.0
    return shifted - np.log1p(others.sum())


def _tanh(z: Array) -> Array:
    import numpy as np

    return np.tanh(z)


def tanh_slope(z: Array) -> Array:
    """tanh'(z) = 1/cosh²(z) = 4e^−2|z| / (1 + e^−2|z|)², from the sum: 1 − out² is 0 once
    tanh rounds to ±1 (|sum| ≳ 19), where the true slope is about 4e^−38."""
    import numpy as np

    e = np.exp(-2.0 * np.abs(z))
    d = 1.0 + e
    return 4.0 * e / (d * d)


def _relu(z: Array) -> Array:
    import numpy as np

    return np.maximum(z, 0.0)


def _relu_slope(z: Array, a: Array) -> Array:
    return (z > 0).astype(float)


def _linear(z: Array) -> Array:
    import numpy as np

    return np.asarray(z, dtype=float).copy()


def _ones(z: Array, a: Array) -> Array:
    import numpy as np

    return np.ones_like(z)


def _log(a: Array) -> Array:
    import numpy as np

    with np.errstate(divide="ignore"):
        return np.log(a)


def _log1m(a: Array) -> Array:
    import numpy as np

    with np.errstate(divide="ignore"):
        return np.log1p(-a)


@dataclass(frozen=True, slots=True)
class Activation:
    """One activation function, everything about it in one place."""

    name: str
    symbol: str  # in the diagram's layer heading
    forward: Callable[[Array], Array]
    slope: Slope | None  # None: not elementwise (softmax), so no ∂out/∂sum step
    function: Function | None  # out = function(sum); None: out = sum, or softmax
    slope_formula: Callable[[Formula, Formula], Formula]  # (out, sum) -> ∂out/∂sum
    out_words: str  # "take sum_u and …"
    slope_rule: str  # why ∂out/∂sum is what it is
    range: tuple[float, float, str] | None = None  # what an output can be, and the sentence
    negative_slope: str | None = None  # why a negative ∂out/∂sum is impossible
    saturation: float | None = None  # |sum| past which the slope is too small to teach
    layer_wide: bool = False  # each output depends on the whole layer (softmax)
    only_loss: str | None = None  # the one loss it is taught with
    log_out: Callable[[Array, Array], Array] | None = None  # stable log(out) from (z, a)
    log_one_minus_out: Callable[[Array], Array] | None = None  # stable log(1 − out) from z
    #: stable 1/out and 1/(1 − out) from z, for the cross-entropy gradients
    reciprocal_out: Callable[[Array], Array] | None = None
    reciprocal_one_minus_out: Callable[[Array], Array] | None = None
    #: misconception tag → the mistaken value it gives, from the unit's sum
    mistakes: Mapping[str, Callable[[float], float]] = field(default_factory=dict)

    def out_formula(self, j: int, sums: tuple[Formula, ...]) -> Formula:
        """out of the j-th unit of a layer whose sums are ``sums``."""
        if self.layer_wide:
            return Softmax(j, sums)
        if self.function is None:
            return sums[j]
        return Call(self.function, sums[j])


def _never(out: Formula, s: Formula) -> Formula:
    raise ValueError("softmax has no elementwise slope")


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "sigmoid",
            "σ",
            sigmoid,
            lambda z, a: sigmoid_slope(z),
            SIGMOID,
            lambda out, s: Product((out, Diff(Num(1.0), out))),
            "squeeze it into (0, 1) with the sigmoid σ(x) = 1/(1 + e^(−x))",
            "the sigmoid's slope is out·(1 − out), written with the output, not the sum",
            range=(0.0, 1.0, "A sigmoid's output always lies between 0 and 1."),
            negative_slope="The sigmoid only rises, so its slope is never negative.",
            saturation=4.0,
            log_out=lambda z, a: log_sigmoid(z),
            log_one_minus_out=lambda z: log_sigmoid(-z),
            reciprocal_out=lambda z: _one_plus_exp(-z),  # 1/σ(z) = 1 + e^−z
            reciprocal_one_minus_out=_one_plus_exp,  # 1/(1 − σ(z)) = 1/σ(−z) = 1 + e^z
            mistakes={
                "sigmoid_sign": lambda s: 1.0 / (1.0 + math.exp(min(s, 700.0))),
                "derivative_from_sum": lambda s: s * (1.0 - s),
            },
        ),
        Activation(
            "tanh",
            "tanh",
            _tanh,
            lambda z, a: tanh_slope(z),
            TANH,
            lambda out, s: Diff(Num(1.0), Square(out)),
            "squeeze it into (−1, 1) with tanh",
            "the slope of tanh is 1 − out²",
            range=(-1.0, 1.0, "tanh's output always lies between −1 and 1."),
            negative_slope="tanh only rises, so its slope is never negative.",
            saturation=4.0,
            mistakes={"derivative_from_sum": lambda s: 1.0 - s * s},
        ),
        Activation(
            "relu",
            "relu",
            _relu,
            _relu_slope,
            RELU,
            lambda out, s: Call(STEP, s),
            "pass it through ReLU: keep it if positive, otherwise 0",
            "ReLU's slope is 1 where sum > 0 and 0 elsewhere",
            range=(0.0, math.inf, "ReLU never gives a negative output."),
            negative_slope="ReLU's slope is 1 or 0, never negative.",
        ),
        Activation(
            "linear",
            "lin",
            _linear,
            _ones,
            None,
            lambda out, s: Num(1.0),
            "pass it on unchanged (a linear unit)",
            "a linear unit's slope is 1",
            negative_slope="A linear unit's slope is always 1.",
        ),
        Activation(
            "softmax",
            "softmax",
            softmax,
            None,
            None,
            _never,
            "take e^(sum) and divide by the same for every unit of the layer (softmax)",
            "",
            range=(0.0, 1.0, "A softmax output always lies between 0 and 1."),
            layer_wide=True,
            only_loss="cross_entropy",
            log_out=lambda z, a: log_softmax(z),
        ),
    )
}


# --- losses --------------------------------------------------------------------------------

#: (out, target, number of outputs) -> a Formula
LossFormula = Callable[[Formula, Formula, int], Formula]
#: (z, a, t, output activation) -> ∂E_total/∂a, elementwise
Gradient = Callable[[Array, Array, Array, Activation], Array]


@dataclass(frozen=True, slots=True)
class Loss:
    """One loss function, everything about it in one place."""

    name: str
    words: str  # "half squared error"
    per_output: Callable[[Array, Array, Array, Activation], Array]  # (z, a, t, act) -> E_k
    gradient: Gradient  # (z, a, t, act) -> ∂E_total/∂a
    error_formula: LossFormula
    slope_formula: LossFormula  # ∂E_total/∂out
    outputs: tuple[str, ...] | None = None  # the output activations it needs; None: any
    unit_targets: bool = False  # targets must lie in [0, 1]
    halved: bool = False  # its ½ cancels the power rule's 2 (a ½ that learners drop)
    #: output activations with which δ = out − target exactly, and why
    shortcut: tuple[str, ...] = ()
    shortcut_words: str = ""


def _half_sse(z: Array, a: Array, t: Array, act: Activation) -> Array:
    return 0.5 * (t - a) ** 2


def _mse(z: Array, a: Array, t: Array, act: Activation) -> Array:
    return (t - a) ** 2 / a.size


def _log_out(z: Array, a: Array, act: Activation) -> Array:
    return act.log_out(z, a) if act.log_out is not None else _log(a)


def _cross_entropy(z: Array, a: Array, t: Array, act: Activation) -> Array:
    return -t * _log_out(z, a, act)


def _binary_cross_entropy(z: Array, a: Array, t: Array, act: Activation) -> Array:
    log_1ma = act.log_one_minus_out(z) if act.log_one_minus_out is not None else _log1m(a)
    return -(t * _log_out(z, a, act) + (1.0 - t) * log_1ma)


def _quiet(fn: Gradient) -> Gradient:
    """A gradient that may overflow or divide by an output of 0 or 1: inf rather than a
    warning (only where the true value is not a float64 either)."""

    def quiet(z: Array, a: Array, t: Array, act: Activation) -> Array:
        import numpy as np

        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return fn(z, a, t, act)

    return quiet


def _reciprocals(z: Array, a: Array, act: Activation) -> tuple[Array, Array]:
    """1/out and 1/(1 − out): from the sum where the activation knows how (the sigmoid's
    1 + e^−z and 1 + e^z), otherwise from the output."""
    inv = act.reciprocal_out(z) if act.reciprocal_out is not None else 1.0 / a
    if act.reciprocal_one_minus_out is not None:
        return inv, act.reciprocal_one_minus_out(z)
    return inv, 1.0 / (1.0 - a)


def _times(t: Array, x: Array) -> Array:
    """t · x, and 0 wherever t is 0: a target of 0 switches its term off even where x
    overflowed, as it does in the mathematics."""
    import numpy as np

    return np.where(t == 0, 0.0, t * x)


@_quiet
def _cross_entropy_gradient(z: Array, a: Array, t: Array, act: Activation) -> Array:
    """−t/out, with 1/out taken from the sum (see :func:`_binary_cross_entropy_gradient`)."""
    return -_times(t, _reciprocals(z, a, act)[0])


@_quiet
def _binary_cross_entropy_gradient(z: Array, a: Array, t: Array, act: Activation) -> Array:
    """(out − t)/(out·(1 − out)), computed as (1 − t)/(1 − out) − t/out from the sum.

    A sigmoid output near 1 is rounded, and 1 − out keeps only its rounding error: at sum 30
    the textbook form is 0.1% off and from about 37 it divides by zero, although the true
    value, 1 + e^sum for a target of 0, is a finite number. With σ, 1/out = 1 + e^−sum and
    1/(1 − out) = 1 + e^sum, each good to an ulp or two, and the two terms cancel only
    where out is close to the target, as the exact value does. The result overflows only
    where the true value does (sum past about 709).
    """
    inv, inv_1m = _reciprocals(z, a, act)
    return _times(1.0 - t, inv_1m) - _times(t, inv)


def _mean_of(n: int, f: Formula) -> Formula:
    return Quot(f, Num(float(n))) if n > 1 else f


def _ln_one_minus(out: Formula) -> Formula:
    return Call(LN, Diff(Num(1.0), out))


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            "half_sse",
            "half squared error",
            _half_sse,
            lambda z, a, t, act: a - t,
            lambda out, t, n: Product((Num(0.5, "½"), Square(Diff(t, out)))),
            lambda out, t, n: Diff(out, t),
            halved=True,
        ),
        Loss(
            "mse",
            "mean squared error",
            _mse,
            lambda z, a, t, act: 2.0 * (a - t) / a.size,
            lambda out, t, n: _mean_of(n, Square(Diff(t, out))),
            lambda out, t, n: _mean_of(n, Product((Num(2.0), Diff(out, t)))),
        ),
        Loss(
            "cross_entropy",
            "cross-entropy",
            _cross_entropy,
            _cross_entropy_gradient,
            lambda out, t, n: Neg(Product((t, Call(LN, out)))),
            lambda out, t, n: Neg(Quot(t, out)),
            outputs=("softmax", "sigmoid"),
            unit_targets=True,
            shortcut=("softmax",),
            shortcut_words="the softmax slope and the log's derivative cancel",
        ),
        Loss(
            "binary_cross_entropy",
            "binary cross-entropy",
            _binary_cross_entropy,
            _binary_cross_entropy_gradient,
            lambda out, t, n: Neg(
                Sum(
                    (
                        Product((t, Call(LN, out))),
                        Product((Diff(Num(1.0), t), _ln_one_minus(out))),
                    )
                )
            ),
            lambda out, t, n: Quot(Diff(out, t), Product((out, Diff(Num(1.0), out)))),
            outputs=("sigmoid",),
            unit_targets=True,
        ),
    )
}
