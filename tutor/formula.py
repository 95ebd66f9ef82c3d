"""One Formula object both evaluates and renders a step's mathematics.

Like micrograd's ``Value``, each node knows how to compute itself and how to explain itself.
Evaluating with the learner's own earlier answers gives error-carried-forward grading;
rendering gives the formula with names, with numbers substituted, and the chain-rule breakdown.
There is no second copy of the mathematics as text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from tutor.numfmt import fmt_given, fmt_value
from tutor.values import Value, set_part

Env = Mapping[str, float]


class Style(Value):
    """Unicode for capable terminals, ASCII for TERM=linux/dumb and for typable answers."""

    __slots__ = _parts = ("ascii",)
    ascii: bool

    def __init__(self, ascii: bool = False) -> None:
        set_part(self, "ascii", ascii)

    @property
    def mul(self) -> str:
        return "*" if self.ascii else " · "

    @property
    def minus(self) -> str:
        return "-" if self.ascii else "−"


UNICODE = Style(False)
ASCII = Style(True)

# precedence levels
SUM, PRODUCT, NEG, POWER, ATOM = 1, 2, 3, 4, 9


class _Ctx:
    """How to render: the style, and the numbers to substitute (``env`` None: names)."""

    __slots__ = ("style", "env", "givens", "decimals")

    def __init__(self, style: Style, env: Env | None, givens: Env | None, decimals: int) -> None:
        self.style, self.env, self.givens, self.decimals = style, env, givens, decimals


class Formula(Value):
    """Base class: an expression over earlier steps (Ref), given numbers (Given) and literals.
    Each node writes out its ``__init__``: lessons make them by the hundred thousand."""

    __slots__ = ()
    _parts = ()
    prec: int = ATOM

    def evaluate(self, env: Env | None = None, givens: Env | None = None) -> float:
        """The value, taking earlier steps from ``env`` and given numbers from ``givens``."""
        return self._eval(env or {}, givens or {})

    def render(self, style: Style = UNICODE) -> str:
        """The formula with names: ``i1 · w1 + i2 · w3 + b1``."""
        return self._text(_Ctx(style, None, None, 5), True)

    def substitute(
        self,
        env: Env | None = None,
        style: Style = UNICODE,
        decimals: int = 5,
        givens: Env | None = None,
    ) -> str:
        """The formula with numbers: ``0.1 · 0.1 + 0.5 · 0.3 + 0.25``."""
        return self._text(_Ctx(style, env or {}, givens or {}, decimals), True)

    def refs(self) -> tuple[str, ...]:
        """Ids of the earlier steps this formula reads, in order of first use."""
        seen: dict[str, None] = {}
        self._collect(seen)
        return tuple(seen)

    def children(self) -> tuple[Formula, ...]:
        return ()

    def givens(self) -> list[Given]:
        """The given numbers this formula reads (inputs, weights, biases, η), in order."""
        out: list[Given] = []
        stack: list[Formula] = [self]
        while stack:
            node = stack.pop()
            if isinstance(node, Given):
                out.append(node)
            stack.extend(reversed(node.children()))
        return out

    # --- to override
    def _eval(self, env: Env, givens: Env) -> float:
        raise NotImplementedError

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        raise NotImplementedError

    def _collect(self, seen: dict[str, None]) -> None:
        for child in self.children():
            child._collect(seen)

    # --- helpers
    def _wrapped(self, ctx: _Ctx, need: int, leading: bool = False) -> str:
        text = self._text(ctx, leading)
        return f"({text})" if self._effective_prec(ctx, leading) < need else text

    def _effective_prec(self, ctx: _Ctx, leading: bool) -> int:
        return self.prec


def _number_text(value: float, ctx: _Ctx, leading: bool, given: bool) -> str:
    text = (
        fmt_given(value, ascii_minus=ctx.style.ascii)
        if given
        else fmt_value(value, ctx.decimals, ascii_minus=ctx.style.ascii)
    )
    if not leading and text[:1] in "-−":
        return f"({text})"
    return text


class Num(Formula):
    """A literal such as 1, 2 or ½ that is part of the rule, not of the lesson's numbers."""

    __slots__ = _parts = ("value", "unicode")
    value: float
    unicode: str | None

    def __init__(self, value: float, unicode: str | None = None) -> None:
        set_part(self, "value", value)
        set_part(self, "unicode", unicode)

    def _eval(self, env: Env, givens: Env) -> float:
        return self.value

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        if self.unicode and not ctx.style.ascii:
            return self.unicode
        return _number_text(self.value, ctx, leading, given=True)


class Given(Formula):
    """A number the lesson gives: an input, weight, bias, target or the learning rate."""

    __slots__ = _parts = ("name", "value", "unicode")
    name: str
    value: float
    unicode: str | None

    def __init__(self, name: str, value: float, unicode: str | None = None) -> None:
        set_part(self, "name", name)
        set_part(self, "value", value)
        set_part(self, "unicode", unicode)

    def _eval(self, env: Env, givens: Env) -> float:
        return float(givens.get(self.name, self.value))

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        if ctx.env is None:
            return self.unicode if self.unicode and not ctx.style.ascii else self.name
        value = ctx.givens.get(self.name, self.value) if ctx.givens else self.value
        return _number_text(value, ctx, leading, given=True)


class Ref(Formula):
    """An earlier step's value, by id; the learner's own answer when grading carried errors."""

    __slots__ = _parts = ("step_id", "label", "value")
    step_id: str
    label: str
    value: float

    def __init__(self, step_id: str, label: str, value: float) -> None:
        set_part(self, "step_id", step_id)
        set_part(self, "label", label)
        set_part(self, "value", value)

    def _eval(self, env: Env, givens: Env) -> float:
        return float(env.get(self.step_id, self.value))

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        if ctx.env is None:
            return self.step_id if ctx.style.ascii else self.label
        return _number_text(ctx.env.get(self.step_id, self.value), ctx, leading, given=False)

    def _collect(self, seen: dict[str, None]) -> None:
        seen[self.step_id] = None

    def _effective_prec(self, ctx: _Ctx, leading: bool) -> int:
        # a label such as ∂E/∂w reads as one symbol; its number is wrapped by _number_text
        return ATOM


class Sum(Formula):
    __slots__ = _parts = ("terms",)
    terms: tuple[Formula, ...]
    prec = SUM

    def __init__(self, terms: tuple[Formula, ...]) -> None:
        set_part(self, "terms", terms)

    def children(self) -> tuple[Formula, ...]:
        return self.terms

    def _eval(self, env: Env, givens: Env) -> float:
        return math.fsum(t._eval(env, givens) for t in self.terms)

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        parts = [t._wrapped(ctx, SUM, leading and i == 0) for i, t in enumerate(self.terms)]
        return " + ".join(parts) if not ctx.style.ascii else " + ".join(parts)


class Diff(Formula):
    __slots__ = _parts = ("left", "right")
    left: Formula
    right: Formula
    prec = SUM

    def __init__(self, left: Formula, right: Formula) -> None:
        set_part(self, "left", left)
        set_part(self, "right", right)

    def children(self) -> tuple[Formula, ...]:
        return (self.left, self.right)

    def _eval(self, env: Env, givens: Env) -> float:
        return self.left._eval(env, givens) - self.right._eval(env, givens)

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        return (
            f"{self.left._wrapped(ctx, SUM, leading)} {ctx.style.minus} "
            f"{self.right._wrapped(ctx, PRODUCT)}"
        )


class Product(Formula):
    __slots__ = _parts = ("factors",)
    factors: tuple[Formula, ...]
    prec = PRODUCT

    def __init__(self, factors: tuple[Formula, ...]) -> None:
        set_part(self, "factors", factors)

    def children(self) -> tuple[Formula, ...]:
        return self.factors

    def _eval(self, env: Env, givens: Env) -> float:
        return math.prod(f._eval(env, givens) for f in self.factors)

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        parts = [f._wrapped(ctx, PRODUCT, leading and i == 0) for i, f in enumerate(self.factors)]
        return ctx.style.mul.join(parts)


class Quot(Formula):
    __slots__ = _parts = ("num", "den")
    num: Formula
    den: Formula
    prec = PRODUCT

    def __init__(self, num: Formula, den: Formula) -> None:
        set_part(self, "num", num)
        set_part(self, "den", den)

    def children(self) -> tuple[Formula, ...]:
        return (self.num, self.den)

    def _eval(self, env: Env, givens: Env) -> float:
        den = self.den._eval(env, givens)
        num = self.num._eval(env, givens)
        if den == 0:
            return math.nan if num == 0 else math.copysign(math.inf, num)
        return num / den

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        sep = "/" if ctx.style.ascii else " / "
        return f"{self.num._wrapped(ctx, PRODUCT, leading)}{sep}{self.den._wrapped(ctx, POWER)}"


class Neg(Formula):
    __slots__ = _parts = ("arg",)
    arg: Formula
    prec = NEG

    def __init__(self, arg: Formula) -> None:
        set_part(self, "arg", arg)

    def children(self) -> tuple[Formula, ...]:
        return (self.arg,)

    def _eval(self, env: Env, givens: Env) -> float:
        return -self.arg._eval(env, givens)

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        return f"{ctx.style.minus}{self.arg._wrapped(ctx, POWER)}"


_SUPERSCRIPT = {2: "²", 3: "³"}


class Square(Formula):
    __slots__ = _parts = ("arg",)
    arg: Formula
    prec = POWER

    def __init__(self, arg: Formula) -> None:
        set_part(self, "arg", arg)

    def children(self) -> tuple[Formula, ...]:
        return (self.arg,)

    def _eval(self, env: Env, givens: Env) -> float:
        v = self.arg._eval(env, givens)
        return v * v

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        base = self.arg._wrapped(ctx, ATOM)
        return f"{base}^2" if ctx.style.ascii else f"{base}²"


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    ex = math.exp(x)
    return ex / (1.0 + ex)


def _safe_exp(x: float) -> float:
    return math.exp(x) if x < 709 else math.inf


def _safe_ln(x: float) -> float:
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


class Call(Formula):
    """A named function: sigmoid, tanh, relu, step (relu's slope), exp, ln."""

    __slots__ = _parts = ("fn", "arg")
    fn: str
    arg: Formula

    def __init__(self, fn: str, arg: Formula) -> None:
        set_part(self, "fn", fn)
        set_part(self, "arg", arg)

    def children(self) -> tuple[Formula, ...]:
        return (self.arg,)

    def _eval(self, env: Env, givens: Env) -> float:
        x = self.arg._eval(env, givens)
        match self.fn:
            case "sigmoid":
                return _sigmoid(x)
            case "tanh":
                return math.tanh(x)
            case "relu":
                return max(0.0, x)
            case "step":
                return 1.0 if x > 0 else 0.0
            case "exp":
                return _safe_exp(x)
            case "ln":
                return _safe_ln(x)
        raise ValueError(f"unknown function {self.fn}")

    def _effective_prec(self, ctx: _Ctx, leading: bool) -> int:
        return PRODUCT if self.fn == "sigmoid" else ATOM

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        a = self.arg._text(ctx, True)
        m = ctx.style.minus
        match self.fn:
            case "sigmoid":
                inner = self.arg._wrapped(ctx, POWER)
                if ctx.style.ascii:
                    return f"1/(1 + exp(-{inner}))"
                return f"1 / (1 + e^({m}{inner}))"
            case "exp":
                return f"exp({a})" if ctx.style.ascii else f"e^({a})"
            case "relu":
                return f"max(0, {a})"
            case "step":
                return f"(1 if {a} > 0 else 0)"
        return f"{self.fn}({a})"


class Softmax(Formula):
    """e^(z_k) / Σ_j e^(z_j), evaluated stably."""

    __slots__ = _parts = ("k", "args")
    k: int
    args: tuple[Formula, ...]

    def __init__(self, k: int, args: tuple[Formula, ...]) -> None:
        set_part(self, "k", k)
        set_part(self, "args", args)

    def children(self) -> tuple[Formula, ...]:
        return self.args

    def _eval(self, env: Env, givens: Env) -> float:
        zs = [a._eval(env, givens) for a in self.args]
        top = max(zs)
        es = [math.exp(z - top) for z in zs]
        return es[self.k] / math.fsum(es)

    def _effective_prec(self, ctx: _Ctx, leading: bool) -> int:
        return PRODUCT

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        def e(f: Formula) -> str:
            inner = f._text(ctx, True)
            return f"exp({inner})" if ctx.style.ascii else f"e^({inner})"

        den = " + ".join(e(a) for a in self.args)
        sep = "/" if ctx.style.ascii else " / "
        return f"{e(self.args[self.k])}{sep}({den})"


def product(*factors: Formula) -> Formula:
    """A product, flattened; a single factor is returned as it is."""
    flat: list[Formula] = []
    for f in factors:
        flat.extend(f.factors if isinstance(f, Product) else (f,))
    return flat[0] if len(flat) == 1 else Product(tuple(flat))


def total(*terms: Formula) -> Formula:
    """A sum; a single term is returned as it is."""
    return terms[0] if len(terms) == 1 else Sum(tuple(terms))
