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
from functools import lru_cache
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
    Power,
    Product,
    Quot,
    Softmax,
    Square,
    Sum,
)
from tutor.formula import TANH as TANH_FN
from tutor.numfmt import fmt_given

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
TANH = TANH_FN
RELU = Function("relu", lambda x: max(0.0, x), "max(0, {x})", "max(0, {x})")
STEP = Function(
    "step", lambda x: 1.0 if x > 0 else 0.0, "(1 if {x} > 0 else 0)", "(1 if {x} > 0 else 0)"
)


def softplus_of(x: float) -> float:
    """ln(1 + e^x) without overflow: x + ln(1 + e^−x) for positive x."""
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


SOFTPLUS = Function("softplus", softplus_of, "ln(1 + e^({x}))", "ln(1 + exp({x}))", prec=PRODUCT)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
GELU_CUBIC = 0.044715  # the cubic term of the tanh approximation (Hendrycks and Gimpel)


def normal_cdf(x: float) -> float:
    """Φ(x), the standard normal's cumulative distribution, through erf."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def normal_pdf(x: float) -> float:
    """φ(x) = e^(−x²/2)/√(2π)."""
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi) if abs(x) < 1e154 else 0.0


PHI = Function("Φ", normal_cdf, "Φ({x})", "(1 + erf({x}/sqrt(2)))/2", prec=PRODUCT)
PDF = Function("φ", normal_pdf, "φ({x})", "exp(-({x})^2/2)/sqrt(2*3.14159265358979)", prec=PRODUCT)


def _gelu_exact_out(s: Formula) -> Formula:
    """out = sum · Φ(sum)."""
    return Product((s, Call(PHI, s)))


def _gelu_exact_slope(out: Formula, s: Formula) -> Formula:
    """d(sum · Φ(sum))/dsum = Φ(sum) + sum · φ(sum): the product rule."""
    return Sum((Call(PHI, s), Product((s, Call(PDF, s)))))


def _gelu_tanh_inner(s: Formula) -> Formula:
    """√(2/π) · (sum + 0.044715 · sum³), the tanh form's argument."""
    return Product(
        (
            Num(SQRT_2_OVER_PI, "√(2/π)"),
            Sum((s, Product((Num(GELU_CUBIC), Power(s, 3.0))))),
        )
    )


def _gelu_tanh_out(s: Formula) -> Formula:
    """out = ½ · sum · (1 + tanh(√(2/π) · (sum + 0.044715 · sum³)))."""
    return Product((Num(0.5, "½"), s, Sum((Num(1.0), Call(TANH_FN, _gelu_tanh_inner(s))))))


def _gelu_tanh_slope(out: Formula, s: Formula) -> Formula:
    """½ · (1 + t) + ½ · sum · (1 − t²) · √(2/π) · (1 + 3 · 0.044715 · sum²), t the tanh."""
    t = Call(TANH_FN, _gelu_tanh_inner(s))
    return Sum(
        (
            Product((Num(0.5, "½"), Sum((Num(1.0), t)))),
            Product(
                (
                    Num(0.5, "½"),
                    s,
                    Diff(Num(1.0), Square(t)),
                    Num(SQRT_2_OVER_PI, "√(2/π)"),
                    Sum((Num(1.0), Product((Num(3 * GELU_CUBIC), Square(s))))),
                )
            ),
        )
    )


def gelu_exact_of(x: float) -> float:
    return x * normal_cdf(x)


def gelu_tanh_of(x: float) -> float:
    return 0.5 * x * (1.0 + math.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x**3)))


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


def _softplus(z: Array) -> Array:
    """ln(1 + e^z), stable for large |z| (logaddexp)."""
    import numpy as np

    return np.logaddexp(0.0, np.asarray(z, dtype=float))


def _erf(z: Array) -> Array:
    """erf elementwise, from math.erf (NumPy has none; lessons are small)."""
    import numpy as np

    return np.vectorize(math.erf, otypes=[float])(np.asarray(z, dtype=float))


def _gelu_exact(z: Array) -> Array:
    z = _as_floats(z)
    return z * 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))


def _gelu_exact_slope_of(z: Array, a: Array) -> Array:
    import numpy as np

    z = _as_floats(z)
    with np.errstate(over="ignore", under="ignore"):
        pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0))) + z * pdf


def _gelu_tanh(z: Array) -> Array:
    import numpy as np

    z = _as_floats(z)
    with np.errstate(over="ignore"):
        return 0.5 * z * (1.0 + np.tanh(SQRT_2_OVER_PI * (z + GELU_CUBIC * z**3)))


def _gelu_tanh_slope_of(z: Array, a: Array) -> Array:
    import numpy as np

    z = _as_floats(z)
    with np.errstate(over="ignore", invalid="ignore"):
        t = np.tanh(SQRT_2_OVER_PI * (z + GELU_CUBIC * z**3))
        inner = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * z * z)
        return np.nan_to_num(0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * inner)


def _as_floats(z: Array) -> Array:
    import numpy as np

    return np.asarray(z, dtype=float)


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
    #: misconception tag → the mistaken value it gives, from the unit's output
    output_mistakes: Mapping[str, Callable[[float], float]] = field(default_factory=dict)
    #: out = expand(sum), written out of formula nodes (GELU); None: Call(function, sum)
    expand: Callable[[Formula], Formula] | None = None
    #: False for a piecewise-linear slope (0, 1 or a given constant): no "trivial" slopes
    smooth: bool = True
    #: the slope where sum ≤ 0, for a piecewise-linear unit with a kink at 0 (ReLU: 0)
    kink_slope: float | None = None
    #: the lesson's layer key for this activation's one parameter, its default and range
    parameter: str | None = None
    parameter_default: float = 0.0
    parameter_range: tuple[float, float, str] = (0.0, 0.0, "")
    #: the record with a given parameter (leaky ReLU's slope)
    make: Callable[[float], Activation] | None = None

    def out_formula(self, j: int, sums: tuple[Formula, ...]) -> Formula:
        """out of the j-th unit of a layer whose sums are ``sums``."""
        if self.layer_wide:
            return Softmax(j, sums)
        if self.expand is not None:
            return self.expand(sums[j])
        if self.function is None:
            return sums[j]
        return Call(self.function, sums[j])

    def with_parameter(self, value: float | None) -> Activation:
        """This activation with the lesson's parameter (itself when it takes none)."""
        if self.make is None or value is None:
            return self
        return self.make(value)


@lru_cache(maxsize=64)
def leaky_relu(alpha: float) -> Activation:
    """Leaky ReLU with slope ``alpha`` for negative sums: out = sum if sum > 0 else α·sum."""
    a = fmt_given(alpha)
    out = Function(
        "leaky_relu",
        lambda x: x if x > 0 else alpha * x,
        f"max({a} · {{x}}, {{x}})",
        f"max({a}*{{x}}, {{x}})",
        wrap=POWER,
    )
    slope = Function(
        "leaky_step",
        lambda x: 1.0 if x > 0 else alpha,
        f"(1 if {{x}} > 0 else {a})",
        f"(1 if {{x}} > 0 else {a})",
    )

    def forward(z: Array) -> Array:
        import numpy as np

        z = np.asarray(z, dtype=float)
        return np.where(z > 0, z, alpha * z)

    def slope_of(z: Array, a_: Array) -> Array:
        import numpy as np

        return np.where(np.asarray(z) > 0, 1.0, alpha)

    return Activation(
        "leaky_relu",
        "lrelu",
        forward,
        slope_of,
        out,
        lambda o, s: Call(slope, s),
        f"pass it through a leaky ReLU: keep it if positive, otherwise multiply it by {a}",
        f"a leaky ReLU's slope is 1 where sum > 0 and {a} (its negative_slope) elsewhere",
        negative_slope=f"A leaky ReLU's slope is 1 or {a}, never negative.",
        smooth=False,
        kink_slope=alpha,
        parameter="negative_slope",
        parameter_default=0.01,
        parameter_range=(0.0, 1.0, "must be a number greater than 0 and less than 1"),
        make=leaky_relu,
        mistakes={"leaky_slope_zero": lambda s: 0.0 if s <= 0 else math.nan},
    )


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
            smooth=False,
            kink_slope=0.0,
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
            smooth=False,
        ),
        leaky_relu(0.01),
        Activation(
            "softplus",
            "softplus",
            _softplus,
            lambda z, a: sigmoid(z),
            SOFTPLUS,
            lambda out, s: Call(SIGMOID, s),
            "smooth it with softplus, ln(1 + e^x): close to 0 for very negative sums, close "
            "to the sum itself for large ones",
            "softplus's slope is the sigmoid of its sum, σ(sum) = 1/(1 + e^(−sum))",
            range=(
                0.0,
                math.inf,
                "softplus never gives a negative output (ln of a number above 1).",
            ),
            negative_slope="softplus only rises: its slope σ(sum) lies between 0 and 1.",
            output_mistakes={"slope_at_output": sigmoid_of},
            mistakes={"slope_as_sigmoid_slope": lambda s: sigmoid_of(s) * (1.0 - sigmoid_of(s))},
        ),
        Activation(
            "gelu",
            "gelu",
            _gelu_exact,
            _gelu_exact_slope_of,
            Function("gelu", gelu_exact_of),
            _gelu_exact_slope,
            "weigh it by how likely a standard normal value lies below it (GELU, exact form): "
            "sum · Φ(sum), with Φ(x) = (1 + erf(x/√2))/2",
            "out = sum · Φ(sum) is a product, so by the product rule the slope is "
            "Φ(sum) + sum · φ(sum), with φ(x) = e^(−x²/2)/√(2π)",
            range=(-0.17, math.inf, "A GELU's output is never below about −0.17."),
            expand=_gelu_exact_out,
            mistakes={"gelu_product_rule": normal_cdf},
        ),
        Activation(
            "gelu_tanh",
            "gelu~",
            _gelu_tanh,
            _gelu_tanh_slope_of,
            Function("gelu_tanh", gelu_tanh_of),
            _gelu_tanh_slope,
            "apply GELU in its tanh form: ½ · sum · (1 + tanh(√(2/π) · (sum + 0.044715 · sum³)))",
            "the tanh form of GELU is ½ · sum · (1 + t), a product: its slope is ½ · (1 + t) "
            "plus ½ · sum times the slope of t, where t is the tanh and t's slope is "
            "(1 − t²) · √(2/π) · (1 + 3 · 0.044715 · sum²)",
            range=(-0.18, math.inf, "A GELU's output is never below about −0.17."),
            expand=_gelu_tanh_out,
            mistakes={
                "gelu_product_rule": lambda s: (
                    0.5 * (1.0 + math.tanh(SQRT_2_OVER_PI * (s + GELU_CUBIC * s**3)))
                )
            },
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
