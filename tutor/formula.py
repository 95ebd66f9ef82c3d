"""One Formula object both evaluates and renders a step's mathematics.

Like micrograd's ``Value``, each node knows how to compute itself and how to explain itself.
Evaluating with the learner's own earlier answers gives error-carried-forward grading;
rendering gives the formula with names, with numbers substituted, and the chain-rule breakdown.
There is no second copy of the mathematics as text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from tutor.numfmt import fmt_given, fmt_value

Env = Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Style:
    """Unicode for capable terminals, ASCII for TERM=linux/dumb and for typable answers."""

    ascii: bool = False

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


class Formula:
    """Base class: an expression over earlier steps (Ref), given numbers (Given) and literals.

    Nodes are plain slotted classes, as micrograd's ``Value`` is: a big lesson makes hundreds
    of thousands of them, and nothing compares two formulas. They are never changed once
    made."""

    __slots__ = ()
    prec: ClassVar[int] = ATOM

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.render(ASCII)!r})"

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

    __slots__ = ("value", "unicode")

    def __init__(self, value: float, unicode: str | None = None) -> None:
        self.value = value
        self.unicode = unicode

    def _eval(self, env: Env, givens: Env) -> float:
        return self.value

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        if self.unicode and not ctx.style.ascii:
            return self.unicode
        return _number_text(self.value, ctx, leading, given=True)


class Given(Formula):
    """A number the lesson gives: an input, weight, bias, target or the learning rate."""

    __slots__ = ("name", "value", "unicode")

    def __init__(self, name: str, value: float, unicode: str | None = None) -> None:
        self.name = name
        self.value = value
        self.unicode = unicode

    def _eval(self, env: Env, givens: Env) -> float:
        return float(givens.get(self.name, self.value))

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        if ctx.env is None:
            return self.unicode if self.unicode and not ctx.style.ascii else self.name
        value = ctx.givens.get(self.name, self.value) if ctx.givens else self.value
        return _number_text(value, ctx, leading, given=True)


class Ref(Formula):
    """An earlier step's value, by id; the learner's own answer when grading carried errors."""

    __slots__ = ("step_id", "label", "value")

    def __init__(self, step_id: str, label: str, value: float) -> None:
        self.step_id = step_id
        self.label = label
        self.value = value

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
    __slots__ = ("terms",)

    def __init__(self, terms: tuple[Formula, ...]) -> None:
        self.terms = terms

    prec = SUM

    def children(self) -> tuple[Formula, ...]:
        return self.terms

    def _eval(self, env: Env, givens: Env) -> float:
        return math.fsum(t._eval(env, givens) for t in self.terms)

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        parts = [t._wrapped(ctx, SUM, leading and i == 0) for i, t in enumerate(self.terms)]
        return " + ".join(parts)


class Diff(Formula):
    __slots__ = ("left", "right")

    def __init__(self, left: Formula, right: Formula) -> None:
        self.left = left
        self.right = right

    prec = SUM

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
    __slots__ = ("factors",)

    def __init__(self, factors: tuple[Formula, ...]) -> None:
        self.factors = factors

    prec = PRODUCT

    def children(self) -> tuple[Formula, ...]:
        return self.factors

    def _eval(self, env: Env, givens: Env) -> float:
        return math.prod(f._eval(env, givens) for f in self.factors)

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        parts = [f._wrapped(ctx, PRODUCT, leading and i == 0) for i, f in enumerate(self.factors)]
        return ctx.style.mul.join(parts)


class Quot(Formula):
    __slots__ = ("num", "den")

    def __init__(self, num: Formula, den: Formula) -> None:
        self.num = num
        self.den = den

    prec = PRODUCT

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
    __slots__ = ("arg",)

    def __init__(self, arg: Formula) -> None:
        self.arg = arg

    prec = NEG

    def children(self) -> tuple[Formula, ...]:
        return (self.arg,)

    def _eval(self, env: Env, givens: Env) -> float:
        return -self.arg._eval(env, givens)

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        return f"{ctx.style.minus}{self.arg._wrapped(ctx, POWER)}"


class Square(Formula):
    __slots__ = ("arg",)

    def __init__(self, arg: Formula) -> None:
        self.arg = arg

    prec = POWER

    def children(self) -> tuple[Formula, ...]:
        return (self.arg,)

    def _eval(self, env: Env, givens: Env) -> float:
        v = self.arg._eval(env, givens)
        return v * v

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        base = self.arg._wrapped(ctx, ATOM)
        return f"{base}^2" if ctx.style.ascii else f"{base}²"


class Power(Formula):
    """A formula raised to a constant power: ``x³``, ``x^0.5``."""

    __slots__ = ("arg", "exponent")

    def __init__(self, arg: Formula, exponent: float) -> None:
        self.arg = arg
        self.exponent = exponent

    prec = POWER

    def children(self) -> tuple[Formula, ...]:
        return (self.arg,)

    def _eval(self, env: Env, givens: Env) -> float:
        v = self.arg._eval(env, givens)
        try:
            return math.pow(v, self.exponent)
        except (OverflowError, ValueError):
            return math.nan if v < 0 else math.inf

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        base = self.arg._wrapped(ctx, ATOM)
        exponent = fmt_given(self.exponent, ascii_minus=ctx.style.ascii)
        superscript = _SUPERSCRIPTS.get(exponent)
        if ctx.style.ascii or superscript is None:
            return f"{base}^{exponent}" if exponent[:1] not in "-−" else f"{base}^({exponent})"
        return f"{base}{superscript}"


_SUPERSCRIPTS = {"2": "²", "3": "³", "4": "⁴"}


def safe_exp(x: float) -> float:
    """e^x, and inf rather than OverflowError past about 709."""
    return math.exp(x) if x < 709 else math.inf


def safe_ln(x: float) -> float:
    """ln x, and −inf or nan rather than an error outside its domain."""
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


@dataclass(frozen=True, slots=True)
class Function:
    """A function of one number that a :class:`Call` applies: how to compute it and how to
    write it. ``{x}`` in a template is the argument and ``{m}`` the style's minus sign; the
    argument is bracketed when it binds less tightly than ``wrap`` (0: never), and the call
    itself binds as ``prec``. Activations define theirs in ``tutor.activations``."""

    name: str
    apply: Callable[[float], float]
    unicode: str = "{name}({x})"
    ascii: str = "{name}({x})"
    wrap: int = 0
    prec: int = ATOM


EXP = Function("exp", safe_exp, "e^({x})", "exp({x})")
LN = Function("ln", safe_ln)
TANH = Function("tanh", math.tanh)
ERF = Function("erf", math.erf)


class Call(Formula):
    """A function applied to a formula: exp, ln, or an activation and its slope."""

    __slots__ = ("fn", "arg")

    def __init__(self, fn: Function, arg: Formula) -> None:
        self.fn = fn
        self.arg = arg

    def children(self) -> tuple[Formula, ...]:
        return (self.arg,)

    def _eval(self, env: Env, givens: Env) -> float:
        return self.fn.apply(self.arg._eval(env, givens))

    def _effective_prec(self, ctx: _Ctx, leading: bool) -> int:
        return self.fn.prec

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        fn = self.fn
        x = self.arg._wrapped(ctx, fn.wrap) if fn.wrap else self.arg._text(ctx, True)
        template = fn.ascii if ctx.style.ascii else fn.unicode
        return template.format(x=x, m=ctx.style.minus, name=fn.name)


class Max(Formula):
    """The larger of two formulas: a max gate of a computational-graph lesson."""

    __slots__ = ("left", "right")

    def __init__(self, left: Formula, right: Formula) -> None:
        self.left = left
        self.right = right

    def children(self) -> tuple[Formula, ...]:
        return (self.left, self.right)

    def _eval(self, env: Env, givens: Env) -> float:
        return max(self.left._eval(env, givens), self.right._eval(env, givens))

    def _text(self, ctx: _Ctx, leading: bool) -> str:
        return f"max({self.left._text(ctx, True)}, {self.right._text(ctx, True)})"


class Softmax(Formula):
    """e^(z_k) / Σ_j e^(z_j), evaluated stably."""

    __slots__ = ("k", "args")

    def __init__(self, k: int, args: tuple[Formula, ...]) -> None:
        self.k = k
        self.args = args

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
