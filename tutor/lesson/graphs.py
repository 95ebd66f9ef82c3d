"""A computational-graph lesson's ``[graph]``: named inputs and named gates, each gate one
operation written as a small expression (``q = "x + y"``). The expressions are data: a
bounded tokenizer and a recursive-descent parser read them into gates; nothing is run.

The reader checks everything an instructor can get wrong (an unknown name, a gate used
before it is defined, a cycle, an unknown function, a division by a constant zero, more than
one operation in a node) and reports each as ``FILE: graph.nodes.q: what``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from tutor.activations import ACTIVATIONS
from tutor.formula import Num
from tutor.lesson.fields import NAME_RE, Reader, clip
from tutor.lesson.model import ComputationGraph, Gate, Operand
from tutor.names import RESERVED, suggest

MAX_EXPRESSION = 120  # characters in one gate's expression
MAX_NODES = 40
MAX_INPUTS = 12
#: functions a gate may apply: exp and log, max of two, and the elementwise activations
UNARY = ("exp", "log", *(a for a in ACTIVATIONS if not ACTIVATIONS[a].layer_wide))
FUNCTIONS = (*UNARY, "max")
BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
GATE_WORDS = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "div": "divide",
    "pow": "power",
    "neg": "negate",
    "max": "max",
}


class ExpressionError(ValueError):
    """A gate's expression that cannot be used; the message says why, for the instructor."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\*\*|[-+*/^(),]))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    text = text.rstrip()
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None or m.end() == i:
            bad = text[i:].lstrip()[:1]
            raise ExpressionError(f"cannot read {bad!r} in {clip(text)!r}")
        kind = m.lastgroup or "op"
        out.append((kind, m.group(kind)))
        i = m.end()
    return out


Tree = tuple[
    Any, ...
]  # ("num", v) | ("name", n) | ("bin", op, a, b) | ("neg", a) | ("call", f, args)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.i, self.depth = tokens, 0, 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.i += 1
        return token

    def expect(self, op: str) -> None:
        kind, text = self.take()
        if (kind, text) != ("op", op):
            raise ExpressionError(f"expected {op!r}, found {text or 'the end'!r}")

    def parse(self) -> Tree:
        tree = self.expr()
        if self.peek()[0] != "end":
            raise ExpressionError(f"unexpected {self.peek()[1]!r}")
        return tree

    def expr(self) -> Tree:
        tree = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            tree = ("bin", op, tree, self.term())
        return tree

    def term(self) -> Tree:
        tree = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            tree = ("bin", op, tree, self.unary())
        return tree

    def unary(self) -> Tree:
        if self.peek() == ("op", "-"):
            self.take()
            inner = self.unary()
            return ("num", -inner[1]) if inner[0] == "num" else ("neg", inner)
        if self.peek() == ("op", "+"):
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> Tree:
        base = self.atom()
        if self.peek() in (("op", "^"), ("op", "**")):
            self.take()
            return ("bin", "^", base, self.unary())
        return base

    def atom(self) -> Tree:
        self.depth += 1
        if self.depth > 20:
            raise ExpressionError("nested too deeply")
        kind, text = self.take()
        if kind == "num":
            return ("num", float(text))
        if kind == "name":
            if self.peek() == ("op", "("):
                self.take()
                args = [self.expr()]
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.expr())
                self.expect(")")
                return ("call", text, tuple(args))
            return ("name", text)
        if (kind, text) == ("op", "("):
            tree = self.expr()
            self.expect(")")
            return tree
        raise ExpressionError(f"unexpected {text or 'end'!r}")


ONE_OP = "a node is one operation on names and numbers; split {text!r} into several nodes"


def parse_gate(name: str, text: str) -> Gate:
    """Read one node's expression into a gate, or raise :class:`ExpressionError`."""
    if len(text) > MAX_EXPRESSION:
        raise ExpressionError(f"is too long (at most {MAX_EXPRESSION} characters)")
    if not text.strip():
        raise ExpressionError('is empty: write one operation, such as "x + y"')
    tree = _Parser(_tokens(text)).parse()
    shown = " ".join(text.split())

    def operand(t: Tree) -> Operand:
        if t[0] == "num":
            if not math.isfinite(t[1]):
                raise ExpressionError("a number in it is too large")
            return float(t[1])
        if t[0] == "name":
            return str(t[1])
        raise ExpressionError(ONE_OP.format(text=clip(shown)))

    kind = tree[0]
    if kind in ("num", "name"):
        raise ExpressionError(
            'applies no operation; a node computes something, such as "x + y" or "exp(x)"'
        )
    if kind == "neg":
        return Gate(name, "neg", (operand(tree[1]),), shown)
    if kind == "bin":
        op, left, right = tree[1], operand(tree[2]), tree[3]
        if op == "^":
            if right[0] != "num":
                raise ExpressionError(
                    "the exponent must be a number (a power by a constant, such as x ^ 2)"
                )
            return Gate(name, "pow", (left,), shown, exponent=float(right[1]))
        second = operand(right)
        if op == "/" and second == 0.0:
            raise ExpressionError("divides by the constant 0")
        return Gate(name, BINARY[op], (left, second), shown)
    function, args = str(tree[1]), tree[2]
    if function == "ln":
        function = "log"
    if function not in FUNCTIONS:
        near = suggest(function, list(FUNCTIONS))
        more = f" (did you mean '{near}'?)" if near else ""
        raise ExpressionError(
            f"unknown function {clip(function)!r}{more}; known: {', '.join(FUNCTIONS)}"
        )
    want = 2 if function == "max" else 1
    if len(args) != want:
        raise ExpressionError(f"{function} takes {want} argument{'s' if want > 1 else ''}")
    return Gate(name, function, tuple(operand(a) for a in args), shown)


def read_graph(r: Reader, raw: Any) -> ComputationGraph | None:
    """``[graph]``: its inputs and nodes, checked; None (with problems recorded) if unusable."""
    table = r.table(raw, "graph")
    if table is None:
        return None
    r.keys(table, "graph", {"inputs", "nodes"})
    inputs: dict[str, float] = {}
    raw_inputs = r.table(table.get("inputs"), "graph.inputs")
    if "inputs" not in table or not raw_inputs:
        r.bad("graph.inputs", "missing: give each input a value, such as x = -2")
    elif len(raw_inputs) > MAX_INPUTS:
        r.bad("graph.inputs", f"has {len(raw_inputs)} inputs; at most {MAX_INPUTS}")
    else:
        for key, value in raw_inputs.items():
            where = f"graph.inputs.{key}"
            if _name_ok(r, str(key), where):
                number = r.number(value, where)
                if number is not None:
                    inputs[str(key)] = number
    raw_nodes = r.table(table.get("nodes"), "graph.nodes")
    if "nodes" not in table or not raw_nodes:
        r.bad("graph.nodes", 'missing: give the nodes in order, such as q = "x + y"')
        return None
    if len(raw_nodes) > MAX_NODES:
        r.bad("graph.nodes", f"has {len(raw_nodes)} nodes; at most {MAX_NODES}")
        return None
    order = [str(k) for k in raw_nodes]
    gates: list[Gate] = []
    defined = dict.fromkeys(inputs)
    failed: set[str] = set()  # nodes already reported: their users are not reported again
    for k, key in enumerate(order):
        where = f"graph.nodes.{key}"
        text = r.text(raw_nodes[key], where)
        failed.add(key)
        if not _name_ok(r, key, where) or text is None:
            continue
        if key in inputs:
            r.bad(where, f"'{key}' is already the name of an input")
            continue
        try:
            gate = parse_gate(key, text)
        except ExpressionError as err:
            r.bad(where, str(err))
            continue
        if failed & set(gate.names) - {key}:
            continue
        problem = _unknown_name(gate, key, defined, inputs, order[k + 1 :], raw_nodes)
        if problem:
            r.bad(where, problem)
            continue
        if not gate.names:
            r.bad(where, "uses no input or node: a node must depend on something")
            continue
        gates.append(gate)
        defined[key] = None
        failed.discard(key)
    if r.problems or not gates:
        return None
    graph = ComputationGraph(tuple(inputs.items()), tuple(gates))
    for name in [*inputs, *(g.name for g in gates[:-1])]:
        if not graph.consumers(name):
            what = "input" if name in inputs else "node"
            r.bad(
                f"graph.{what}s.{name}",
                f"is not used: every input and node must lead to the output {graph.output!r}",
            )
    if not r.problems:
        _check_values(r, graph)
    return None if r.problems else graph


def _name_ok(r: Reader, name: str, where: str) -> bool:
    if not NAME_RE.fullmatch(name):
        r.bad(
            where,
            f"'{clip(name)}' is not a valid name (a letter, then up to 31 letters, digits or _)",
        )
        return False
    if name in RESERVED or name in FUNCTIONS or name == "ln":
        r.bad(where, f"'{name}' is reserved for formulas; choose another name")
        return False
    return True


def _unknown_name(
    gate: Gate,
    key: str,
    defined: Mapping[str, None],
    inputs: Mapping[str, float],
    later: list[str],
    raw_nodes: Mapping[str, Any],
) -> str | None:
    """Why a gate's operands cannot be read (None when they can)."""
    for name in gate.names:
        if name in defined:
            continue
        if name == key:
            return f"uses itself ('{key}'): a cycle; a node can use only inputs and nodes above it"
        if name in later:
            if _reaches(name, key, raw_nodes):
                return (
                    f"'{name}' depends on '{key}', so using it here makes a cycle; a node can "
                    f"use only inputs and nodes above it"
                )
            return f"'{name}' is used before it is defined; list the nodes in order"
        near = suggest(name, [*inputs, *defined])
        more = f" (did you mean '{near}'?)" if near else ""
        return f"unknown name '{clip(name)}'{more}: not an input or a node above"
    return None


def _reaches(start: str, goal: str, raw_nodes: Mapping[str, Any]) -> bool:
    """Whether node ``start``'s expression leads back to ``goal`` (a cycle)."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        name = stack.pop()
        if name in seen or name not in raw_nodes:
            continue
        seen.add(name)
        try:
            names = parse_gate(name, str(raw_nodes[name])).names
        except ExpressionError:
            continue
        if goal in names:
            return True
        stack.extend(names)
    return False


def _check_values(r: Reader, graph: ComputationGraph) -> None:
    """Every value and local gradient must be a finite number: no log of a negative value,
    no division by a value of 0, no tie in a max (where it has no single gradient)."""
    values = dict(graph.inputs)
    for gate in graph.gates:
        where = f"graph.nodes.{gate.name}"
        args = [values[a] if isinstance(a, str) else a for a in gate.args]
        problem = None
        if gate.op == "log" and args[0] <= 0:
            problem = f"takes the log of {args[0]:g}, which is not positive"
        elif gate.op == "div" and args[1] == 0:
            problem = "divides by a value of 0"
        elif gate.op == "max" and args[0] == args[1]:
            problem = f"max of two equal values ({args[0]:g}) has no single gradient"
        elif gate.op == "pow" and args[0] <= 0 and not float(gate.exponent).is_integer():
            problem = f"raises {args[0]:g} to a power that is not a whole number"
        elif gate.op == "pow" and args[0] == 0 and gate.exponent < 1:
            problem = "raises 0 to a power below 1, which has no gradient there"
        if problem is None:
            value = gate_value(gate, args)
            if not math.isfinite(value) or abs(value) > 1e12:
                problem = f"comes to {value:g}, too large to work by hand"
            values[gate.name] = value
        if problem:
            r.bad(where, problem)
            return


def gate_value(gate: Gate, args: list[float]) -> float:
    """What a gate computes, in plain floats (the reader's check; the plan builds formulas)."""
    a = args[0]
    try:
        if gate.op == "add":
            return a + args[1]
        if gate.op == "sub":
            return a - args[1]
        if gate.op == "mul":
            return a * args[1]
        if gate.op == "div":
            return a / args[1]
        if gate.op == "pow":
            return math.pow(a, gate.exponent)
        if gate.op == "neg":
            return -a
        if gate.op == "exp":
            return math.exp(a)
        if gate.op == "log":
            return math.log(a)
        if gate.op == "max":
            return max(a, args[1])
        return ACTIVATIONS[gate.op].out_formula(0, (Num(a),)).evaluate()
    except (OverflowError, ValueError, ZeroDivisionError):
        return math.inf
