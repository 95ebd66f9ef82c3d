"""A computational graph drawn as text: the inputs and their given values on the heading,
then one block of two lines per gate, in order. The first line lists the values arriving on
the gate's input edges and the gate's own value; the line below lists, under each of them,
the gradient of the output with respect to it. So each edge shows its value above and its
gradient below, as on a blackboard, in rows a terminal can hold. Pure (no Textual): the quiz,
the F8 screen and ``tutor check`` read the same rows."""

from __future__ import annotations

from collections.abc import Mapping

from tutor.lesson.model import ComputationGraph, Network
from tutor.numfmt import fmt_given, fmt_value

Row = tuple[tuple[str, str], ...]


def _heads(
    graph: ComputationGraph, highlight: set[str], width: int, lines: int, ascii_only: bool
) -> list[Row]:
    """The inputs with their values, on one line or (``lines`` > 1) wrapped at ``width``."""
    cells = [
        (f"{name}={fmt_given(value, ascii_minus=ascii_only)}", name) for name, value in graph.inputs
    ]
    rows: list[list[tuple[str, str]]] = [[("inputs ", "bold")]]
    used = len("inputs ")
    for text, name in cells:
        if lines > 1 and used + len(text) + 2 > width and len(rows[-1]) > 1:
            rows.append([("       ", "")])
            used = 7
        rows[-1].append((text, "reverse" if name in highlight else "bold"))
        rows[-1].append(("  ", ""))
        used += len(text) + 2
    return [tuple(r) for r in rows]


def gate_rows(
    net: Network,
    known: Mapping[str, float],
    highlight: set[str],
    decimals: int,
    ascii_only: bool = False,
    squeeze: int = 0,
    width: int = 78,
) -> list[Row]:
    """The drawing as rows of (text, style) cells; the current step's names in reverse. From
    ``squeeze`` 1 the gradients are written without their ∂f/∂ name; from 2 the inputs wrap
    onto ``squeeze`` heading lines (``head_count``)."""
    graph = net.graph
    assert graph is not None
    f = graph.output
    inputs = dict(graph.inputs)
    d, arrow = ("d", "->") if ascii_only else ("∂", "→")

    def value(name: str) -> str:
        if name in inputs:
            return fmt_given(inputs[name], ascii_minus=ascii_only)
        v = known.get(name)
        return "?" if v is None else fmt_value(v, decimals, ascii_minus=ascii_only)

    def grad(name: str) -> str:
        v = 1.0 if name == f else known.get(f"d{f}/d{name}")
        shown = "?" if v is None else fmt_value(v, decimals, ascii_minus=ascii_only)
        return f"{d}={shown}" if squeeze else f"{d}{f}/{d}{name}={shown}"

    left = max(len(f"{g.name} = {g.text}") for g in graph.gates) + 2
    cells = [
        t for g in graph.gates for n in (*g.names, g.name) for t in (f"{n}={value(n)}", grad(n))
    ]
    cell = max(len(t) for t in cells) + 2
    rows = _heads(graph, highlight, width, 2 if squeeze >= 2 else 1, ascii_only)
    for gate in graph.gates:
        lit = gate.name in highlight

        def style(name: str, lit: bool = lit) -> str:
            return "reverse" if lit and name in highlight else ""

        top: list[tuple[str, str]] = [(f"{gate.name} = {gate.text}".ljust(left), "bold")]
        bottom: list[tuple[str, str]] = [(" " * left, "")]
        for n in gate.names:
            top.append((f"{n}={value(n)}".ljust(cell), style(n)))
            bottom.append((grad(n).ljust(cell), style(n)))
        top.append((f"{arrow} ", ""))
        bottom.append((" " * (len(arrow) + 1), ""))
        top.append((f"{gate.name}={value(gate.name)}", style(gate.name)))
        bottom.append((grad(gate.name), style(gate.name)))
        rows += [tuple(top), tuple(bottom)]
    return rows


def head_count(net: Network, width: int, ascii_only: bool = False) -> int:
    """How many heading lines the inputs take when wrapped at ``width``."""
    graph = net.graph
    assert graph is not None
    return len(_heads(graph, set(), width, 2, ascii_only))


def gate_width(net: Network, decimals: int, ascii_only: bool, squeeze: int) -> int:
    """The widest line with every value known (a stand-in of the widest kind)."""
    graph = net.graph
    assert graph is not None
    known = {g.name: -1 / 3 for g in graph.gates}
    known.update({f"d{graph.output}/d{n}": -1 / 3 for n in (*dict(graph.inputs), *known)})
    rows = gate_rows(net, known, set(), decimals, ascii_only, squeeze, width=10**6)
    return max(sum(len(t) for t, _ in r) for r in rows[1:]) + 2


def gate_heads_width(net: Network) -> int:
    """The inputs' heading on one line."""
    graph = net.graph
    assert graph is not None
    return len("inputs ") + sum(len(f"{n}={fmt_given(v)}") + 2 for n, v in graph.inputs)
