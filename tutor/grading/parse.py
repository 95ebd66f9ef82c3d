"""Safe reading of typed numeric answers.

Learners type numbers (``0.41``, ``41/100``) or small arithmetic (``1/(1+exp(-0.41))``).
The text is untrusted, so it is never handed to ``eval``/``exec``: a whitelist tokenizer
and a small recursive-descent parser evaluate it to a float.  Every input is bounded in
length, token count, nesting depth and exponent size so that no answer can hang the tutor,
and every refusal is an :class:`AnswerError` whose message can be shown to the learner as is.

An answer may also use names (``out_h1*(1-out_h1)``) when the caller passes them: each known
name is looked up in a mapping and read as its number, exactly as a typed number is. A name is
data, never code: nothing is looked up anywhere but in that mapping.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, NamedTuple

from tutor.names import suggest

__all__ = [
    "ACCEPTED_HELP",
    "AnswerError",
    "NameRefused",
    "ParsedAnswer",
    "parse_answer",
    "render_answer",
]

ACCEPTED_HELP: Final[str] = (
    "Type a number such as 0.25, .25, 2.5e-1 or 1/4, or arithmetic like 2*0.3 + 1/(1+exp(-1.2))."
)

MAX_LENGTH: Final[int] = 200
MAX_TOKENS: Final[int] = 100
MAX_DEPTH: Final[int] = 20
MAX_EXPONENT: Final[float] = 1000.0
MAX_LITERAL: Final[int] = 40
_MAX_QUOTE: Final[int] = 20  # never echo more than this many characters of learner text

EXPRESSIONS_OFF: Final[str] = (
    "Expressions are switched off for this lesson: type a single number such as 0.41."
)


class AnswerError(ValueError):
    """Raised for input that is not an accepted answer.

    ``str(err)`` is a short, one-line, learner-facing message, so the UI can show it as is.
    """


class NameRefused(AnswerError):
    """A known name the answer may not use (no value yet, or names off): the answer was
    readable, so the grader adds no reminder of what can be typed."""


#: The most names a did-you-mean compares a word with: a 784-128-10 lesson has 100,000 weights,
#: and difflib over all of them would take seconds for one typo.
MAX_SUGGEST: Final[int] = 2000


@dataclass(frozen=True)
class ParsedAnswer:
    """A successfully read answer; the extra fields let graders judge stated precision and
    show what was understood (``tokens``: (kind, text) pairs; ``names``: the names used)."""

    raw: str
    value: float
    is_expression: bool
    decimals: int | None
    tokens: tuple[tuple[str, str], ...] = ()
    names: tuple[str, ...] = ()


# Look-alike characters that keyboards, phones and copy-paste from PDFs produce.
_TRANSLATE: Final[dict[int, str]] = str.maketrans(
    {
        "\u2212": "-",  # minus sign
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\ufe63": "-",  # small hyphen-minus
        "\uff0d": "-",  # full-width hyphen-minus
        "\u00d7": "*",  # multiplication sign
        "\u00b7": "*",  # middle dot
        "\u22c5": "*",  # dot operator
        "\u2219": "*",  # bullet operator
        "\u00f7": "/",  # division sign
        "\u2215": "/",  # division slash
    }
)
# Only when names are on: the on-screen labels ∂E_total/∂w5, δ_o1 and η typed as they look.
_NAME_TRANSLATE: Final[dict[int, str]] = str.maketrans(
    {
        "\u2202": "d",  # ∂ partial differential
        "\U0001d715": "d",  # 𝜕 mathematical italic partial differential
        "\u03b4": "delta",  # δ
        "\u03b7": "eta",  # η
        "\u03bb": "lambda",  # λ
        "\u03bc": "mu",  # μ
        "\u00b5": "mu",  # µ micro sign
    }
)

# ASCII-only classes on purpose: ``\d`` would also match Arabic-Indic and other digits.
_NUMBER_RE: Final = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WORD_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# a step id with a slash, such as dE_total/dw5: one name when it is known (longest match first)
_SLASHED_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*/[A-Za-z_][A-Za-z0-9_]*")
_TAIL_RE: Final = re.compile(r"[A-Za-z0-9_.]+")
# the tag of a later iteration's or a batch example's step id: sum_h1#2, E1[1]
_STEP_TAG_RE: Final = re.compile(r"#[0-9]{1,3}|\[[0-9]{1,4}\]")
_DIGITS_RE: Final = re.compile(r"[0-9]*")

_CONSTANTS: Final[dict[str, float]] = {"e": math.e}


class _Token(NamedTuple):
    kind: str  # "num", "name", "const", "func", "op", "(", ")" or "end"
    text: str


@dataclass(frozen=True)
class _Names:
    """The names an answer may use (``values``) and the known names it may not, each with
    the one-line reason (``refused``: a step not answered yet, or names switched off)."""

    values: Mapping[str, float]
    refused: Mapping[str, str]

    def knows(self, word: str) -> bool:
        return word in self.values or word in self.refused

    def unknown(self, word: str) -> AnswerError:
        """Today's 'Unknown name', with the nearest usable name when there is one."""
        hint = _did_you_mean(word, self.values)
        more = f" Did you mean {_quote(hint)}?" if hint else ""
        return AnswerError(f"Unknown name {_quote(word)}.{more}")


def _did_you_mean(word: str, names: Mapping[str, float]) -> str | None:
    """The nearest name to a mistyped word, comparing at most MAX_SUGGEST names (those that
    start like it first), so a big lesson's typo costs milliseconds."""
    if not names or len(word) > 40:
        return None
    if len(names) <= MAX_SUGGEST:
        choices = list(names)
    else:
        head = word[:1].lower()
        choices = [n for n in names if n[:1].lower() == head][:MAX_SUGGEST]
    found = suggest(word, choices)
    return None if found is None or len(found) > 40 else found


_END: Final = _Token("end", "")


def _quote(text: str) -> str:
    """Quote learner text for a message, cut short so messages stay one short line."""
    if len(text) > _MAX_QUOTE:
        text = text[: _MAX_QUOTE - 1] + "\u2026"
    return repr(text) if "'" not in text else f'"{text}"'


def _check(value: float, message: str = "Result too large.") -> float:
    """Refuse inf/nan at once so later steps never compute with them."""
    if not math.isfinite(value):
        raise AnswerError(message)
    return value


def _exp(x: float) -> float:
    try:
        return _check(math.exp(x))
    except OverflowError:
        raise AnswerError("Result too large.") from None


def _ln(x: float) -> float:
    if x <= 0.0:
        raise AnswerError("ln needs a positive number.")
    return math.log(x)


def _log(x: float) -> float:
    if x <= 0.0:
        raise AnswerError("log needs a positive number.")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0.0:
        raise AnswerError("sqrt needs a number that is not negative.")
    return math.sqrt(x)


_FUNCTIONS: Final[dict[str, Callable[[float], float]]] = {
    "exp": _exp,
    "ln": _ln,
    "log": _log,
    "sqrt": _sqrt,
    "tanh": math.tanh,
    "erf": math.erf,
}


def _power(base: float, exponent: float) -> float:
    """Bounded float power: refuse huge exponents before computing anything."""
    if abs(exponent) > MAX_EXPONENT:
        raise AnswerError("Exponent too large (1000 at most).")
    if base == 0.0 and exponent < 0.0:
        raise AnswerError("Division by zero.")
    if base < 0.0 and not exponent.is_integer():
        raise AnswerError("A negative number cannot have a fractional power.")
    try:
        return _check(math.pow(base, exponent))
    except OverflowError:
        raise AnswerError("Result too large.") from None
    except ValueError:
        raise AnswerError("That power cannot be computed.") from None


def _literal(text: str) -> float:
    """Convert an already regex-validated number token."""
    return _check(float(text), "Number too large.")


def _decimal_comma(text: str, i: int) -> AnswerError:
    """Build the hint for ``0,41``; echo the learner's number with a point when it is short."""
    start = i
    while start > 0 and text[start - 1] in "0123456789":
        start -= 1
    right = _DIGITS_RE.match(text, i + 1)
    fixed = text[start:i] + "." + (right.group() if right else "")
    if len(fixed) > _MAX_QUOTE:
        fixed = "0.41"
    return AnswerError(f"Use a decimal point, not a comma: {fixed}.")


def _number_tail_error(number: str, tail: str, names: _Names | None) -> AnswerError:
    """Explain a number glued to letters/dots, e.g. ``2e``, ``2exp(1)`` or ``1.2.3``."""
    word = tail.lower()
    if word == "e" and "e" not in number.lower():
        return AnswerError(
            f"Incomplete number {_quote(number + tail)}: an exponent needs digits, like 2e-1."
        )
    if word in _FUNCTIONS or word in _CONSTANTS or (names is not None and names.knows(tail)):
        return AnswerError(
            f"Missing operator between {_quote(number)} and {_quote(tail)}: write * to multiply."
        )
    return AnswerError(f"Malformed number {_quote(number + tail)}.")


def _word(text: str, i: int, names: _Names | None) -> tuple[_Token, int]:
    """The word at ``i`` as a token, and where it ends. A known name is matched exactly (case
    matters) and before the functions, a known step id with a slash (``dE_total/dw5``) as one
    name; otherwise ``a/b`` is a division. A word that is no name is refused right here."""
    match = _WORD_RE.match(text, i)
    assert match is not None  # text[i] itself always matches
    word, end = match.group(), match.end()
    if names is not None:
        slashed = _SLASHED_RE.match(text, i)
        # longest first: a slashed id with a tag, without, then the word with a tag
        for base in ([slashed.group()] if slashed else []) + [word]:
            tag = _STEP_TAG_RE.match(text, i + len(base))
            if tag is not None and names.knows(base + tag.group()):
                word, end = base + tag.group(), tag.end()
                break
            if base != word and names.knows(base):
                word, end = base, i + len(base)
                break
        if word in names.values:
            return _Token("name", word), end
        if word in names.refused:
            raise NameRefused(names.refused[word])
    lowered = word.lower()
    if lowered in _FUNCTIONS:
        return _Token("func", lowered), end
    if lowered in _CONSTANTS:
        return _Token("const", lowered), end
    if names is not None:
        raise names.unknown(word)
    raise AnswerError(f"Unknown name {_quote(word)}.")


def _tokenize(text: str, names: _Names | None = None) -> list[_Token]:
    """Split normalised text into whitelisted tokens; anything else is refused right here."""
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "0123456789.":
            match = _NUMBER_RE.match(text, i)
            if match is None:  # a lone "." or ".e5"
                raise AnswerError(f"Unexpected character {_quote(ch)}.")
            number = match.group()
            tail = _TAIL_RE.match(text, match.end())
            if tail is not None:
                raise _number_tail_error(number, tail.group(), names)
            if len(number) > MAX_LITERAL:
                raise AnswerError("Number too long (40 characters at most).")
            tokens.append(_Token("num", number))
            i = match.end()
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            token, i = _word(text, i, names)
            tokens.append(token)
        elif ch == "*" and text.startswith("**", i):
            tokens.append(_Token("op", "**"))
            i += 2
        elif ch in "+-*/^":
            tokens.append(_Token("op", ch))
            i += 1
        elif ch in "()":
            tokens.append(_Token(ch, ch))
            i += 1
        elif ch == "," and i + 1 < n and text[i + 1] in "0123456789":
            raise _decimal_comma(text, i)
        elif ch == "=":
            raise AnswerError("Type only the answer, without '='.")
        else:
            raise AnswerError(f"Unexpected character {_quote(ch)}.")
        if len(tokens) > MAX_TOKENS:
            raise AnswerError("Answer too complicated (100 symbols at most).")
    return tokens


class _Parser:
    """Recursive descent over the token list, evaluating as it goes.

    Grammar (lowest to highest precedence)::

        expr  := term (("+" | "-") term)*
        term  := unary (("*" | "/") unary)*
        unary := ("+" | "-") unary | power
        power := atom (("^" | "**") unary)?      # right-associative; -2^2 = -4, 2^-1 = 0.5
        atom  := NUMBER | NAME | "e" | FUNC "(" expr ")" | "(" expr ")"

    Recursion is bounded by MAX_TOKENS and MAX_DEPTH, far below Python's recursion limit.
    """

    def __init__(self, tokens: list[_Token], names: Mapping[str, float] | None = None) -> None:
        self._tokens = tokens
        self._names = names or {}
        self._pos = 0
        self._depth = 0

    def parse(self) -> float:
        value = self._expr()
        token = self._peek()
        if token.kind != "end":
            raise self._unexpected(token)
        return value

    def _peek(self) -> _Token:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else _END

    def _next(self) -> _Token:
        token = self._peek()
        if token.kind != "end":  # stay on "end" so _previous() keeps pointing at a real token
            self._pos += 1
        return token

    def _previous(self) -> _Token:
        return self._tokens[self._pos - 1] if self._pos > 0 else _END

    def _is_op(self, *ops: str) -> bool:
        token = self._peek()
        return token.kind == "op" and token.text in ops

    def _unexpected(self, token: _Token) -> AnswerError:
        """Error for a token that cannot follow a complete sub-expression."""
        if token.kind == ")":
            return AnswerError("Unexpected ')': there is no matching '('.")
        if token.kind in ("num", "name", "const", "func", "("):
            before = self._previous()
            # "1 000" or "0. 41" is a stray space, not a product: skip the "*" hint there.
            hint = "." if before.kind == token.kind == "num" else ": write * to multiply."
            return AnswerError(
                f"Missing operator between {_quote(before.text)} and {_quote(token.text)}{hint}"
            )
        return AnswerError(f"Unexpected {_quote(token.text)}.")

    def _expr(self) -> float:
        value = self._term()
        while self._is_op("+", "-"):
            op = self._next().text
            rhs = self._term()
            value = _check(value + rhs if op == "+" else value - rhs)
        return value

    def _term(self) -> float:
        value = self._unary()
        while self._is_op("*", "/"):
            op = self._next().text
            rhs = self._unary()
            if op == "/":
                if rhs == 0.0:
                    raise AnswerError("Division by zero.")
                value = _check(value / rhs)
            else:
                value = _check(value * rhs)
        return value

    def _unary(self) -> float:
        if self._is_op("+", "-"):
            op = self._next().text
            value = self._unary()
            return -value if op == "-" else value
        return self._power()

    def _power(self) -> float:
        base = self._atom()
        if self._is_op("^", "**"):
            self._next()
            return _power(base, self._unary())
        return base

    def _atom(self) -> float:
        token = self._next()
        if token.kind == "num":
            return _literal(token.text)
        if token.kind == "name":
            return _check(float(self._names[token.text]))
        if token.kind == "const":
            return _CONSTANTS[token.text]
        if token.kind == "func":
            if self._peek().kind != "(":
                raise AnswerError(f"{token.text} needs brackets, like {token.text}(-0.41).")
            self._next()
            return _FUNCTIONS[token.text](self._group())
        if token.kind == "(":
            return self._group()
        if token.kind == "end":
            before = self._previous()
            if before.kind in ("op", "("):
                raise AnswerError(f"Something is missing after {_quote(before.text)}.")
            raise AnswerError("Something is missing at the end.")
        if token.kind == ")":
            raise AnswerError("Something is missing before ')'.")
        raise AnswerError(f"Unexpected {_quote(token.text)}.")

    def _group(self) -> float:
        """Parse the inside of brackets whose '(' was just consumed, and the ')'."""
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise AnswerError("Too many nested brackets (20 at most).")
        value = self._expr()
        token = self._peek()
        if token.kind == "end":
            raise AnswerError("Missing closing bracket ')'.")
        if token.kind != ")":
            raise self._unexpected(token)
        self._next()
        self._depth -= 1
        return value


def _simple_shape(tokens: list[_Token]) -> tuple[bool, int | None]:
    """Is this a signed number or signed fraction a/b?  Also return its stated decimals."""
    signed = bool(tokens) and tokens[0].kind == "op" and tokens[0].text in ("+", "-")
    body = tokens[1:] if signed else tokens
    kinds = [t.kind for t in body]
    if kinds == ["num"]:
        number = body[0].text
        if "e" in number.lower():
            return True, None
        _, point, fraction = number.partition(".")
        return True, len(fraction) if point else 0
    if kinds == ["num", "op", "num"] and body[1].text == "/":
        return True, None
    return False, None


def parse_answer(
    text: str,
    *,
    allow_expressions: bool = True,
    names: Mapping[str, float] | None = None,
    refused: Mapping[str, str] | None = None,
) -> ParsedAnswer:
    """Read one typed answer without eval; raise AnswerError with a learner-facing message.

    Fractions ``a/b`` and a leading sign are always allowed, because lessons state targets
    that way; anything else needs ``allow_expressions``. ``names`` are the names the answer
    may use, each read as its number; ``refused`` are known names it may not use, each with
    the message to give (a step not answered yet, or names switched off). With neither, a
    word other than a function or ``e`` is an unknown name, as it always was.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_answer expects str, not {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise AnswerError("Type an answer first.")
    if len(stripped) > MAX_LENGTH:
        raise AnswerError("Answer too long (200 characters at most).")
    scope = None if names is None and refused is None else _Names(names or {}, refused or {})
    normal = stripped.translate(_TRANSLATE)
    if scope is not None:
        normal = normal.translate(_NAME_TRANSLATE)
    tokens = _tokenize(normal, scope)
    simple, decimals = _simple_shape(tokens)
    if not simple and not allow_expressions:
        raise AnswerError(EXPRESSIONS_OFF)
    try:
        value = _Parser(tokens, names).parse()
    except AnswerError:
        raise
    except (ArithmeticError, ValueError, RecursionError) as err:  # defence in depth only
        raise AnswerError("That answer could not be read.") from err
    used = tuple(dict.fromkeys(t.text for t in tokens if t.kind == "name"))
    return ParsedAnswer(
        raw=text,
        value=_check(value),
        is_expression=not simple,
        decimals=decimals,
        tokens=tuple((t.kind, t.text) for t in tokens),
        names=used,
    )


_SHOWN_OPS: Final[dict[str, str]] = {"+": " + ", "-": " \u2212 ", "*": "\u00b7", "/": "/"}


def render_answer(parsed: ParsedAnswer, name: Callable[[str], str]) -> str:
    """The answer as it was understood, one token at a time: ``name`` gives each name's text
    (its label, or its number). Operators are written as the screens write formulas (· and
    −); a negative number put in place of a name is bracketed, so the text means what was
    computed."""
    parts: list[str] = []
    previous = ""
    alone = len(parsed.tokens) == 1
    for kind, text in parsed.tokens:
        unary = kind == "op" and text in "+-" and previous in ("", "op", "(")
        if kind == "name":
            shown = name(text)
            if not alone and shown[:1] in "-\u2212":
                shown = f"({shown})"
            parts.append(shown)
        elif unary:
            parts.append("\u2212" if text == "-" else "+")
        elif kind == "op":
            parts.append(_SHOWN_OPS.get(text, "^"))
        else:
            parts.append(text)
        previous = kind
    return "".join(parts)
