"""The network as text, for the quiz's diagram and for ``tutor check``: layers as columns,
each unit with its value once known, its bias and target, the weights leaving it. Pure (no
Textual), so that a check can read exactly what the quiz shows."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping

from tutor.formula import Given
from tutor.gatediagram import gate_heads_width, gate_rows, gate_width, head_count
from tutor.lesson.model import Network, Weight
from tutor.numfmt import fmt_given, fmt_value
from tutor.textmode import to_ascii

MAX_SHOWN_UNITS = 4
MAX_SHOWN_WEIGHTS = 3
HEAD_WIDTH = 70  # a computational graph's inputs wrap at the narrowest diagram's width


Row = tuple[tuple[str, str], ...]  # one line of the drawing: (text, style) cells

_OUTGOING: dict[int, tuple[Network, dict[str, list[Weight]]]] = {}


def _outgoing(net: Network) -> dict[str, list[Weight]]:
    """Weights leaving each unit, computed once per network (redrawn on every answer)."""
    cached = _OUTGOING.get(id(net))
    if cached is None or cached[0] is not net:
        table: dict[str, list[Weight]] = {}
        for w in net.weights:
            table.setdefault(w.source, []).append(w)
        _OUTGOING.clear()
        _OUTGOING[id(net)] = cached = (net, table)
    return cached[1]


def current_values(values: Mapping[str, float], tag: str) -> Mapping[str, float]:
    """The values the drawing shows while a step tagged ``tag`` is asked: that iteration's or
    example's (``out_h1[2]`` drawn as h1's value), none of another one's."""
    if not tag:
        return values
    n = len(tag)
    return {k[:-n]: v for k, v in values.items() if k.endswith(tag)}


def network_rows(
    net: Network,
    known: Mapping[str, float],
    highlight: set[str],
    decimals: int,
    ascii_only: bool = False,
    paired: frozenset[int] = frozenset(),
    squeeze: int = 0,
) -> list[Row]:
    """The drawing as rows of (text, style) cells: columns of layers, each unit with its value
    once known, its bias and (for an output) its target, the weights leaving it, and the
    current step's units and weights in reverse. Every given number is shown in full
    (``fmt_given``): a step must never need a number that is not on screen. The columns in
    ``paired`` list their weights two to a line (``pairing`` picks them, to save height);
    ``squeeze`` saves width: from 1, arrows without spaces and one space between columns;
    from 2, also a heading's activation and bias (or the learning rate) on a second line
    (``head_lines``) and a unit's weights indented by one space, not two."""
    if net.graph is not None:
        return gate_rows(net, known, highlight, decimals, ascii_only, squeeze, width=HEAD_WIDTH)
    arrow = "->" if ascii_only else "→"
    if not squeeze:
        arrow = f" {arrow} "
    gap = 1 if squeeze else 2
    stacked = squeeze >= 2
    indent = " " if stacked else "  "  # of a unit's target and weights
    outgoing_of = _outgoing(net)
    columns: list[list[tuple[str, str]]] = []  # per column: (text, style) lines
    for li, layer in enumerate(net.layers):
        lines: list[tuple[str, str]] = []
        head, given = layer.name, ""
        if li == 0:
            given = f"η={fmt_given(net.learning_rate)}"
            if net.weight_decay:
                given += f" λ={fmt_given(net.weight_decay)}"
            if net.momentum is not None:
                given += f" μ={fmt_given(net.momentum)}"
        names, values = layer.bias_names, layer.bias_values
        one_bias = names is not None and values is not None and len(set(names)) == 1
        if li:
            given = f"({layer.activation_record.symbol})"
            if one_bias and names and values:  # one bias for the layer: said once
                given += f" {names[0]}={fmt_given(values[0])}{_velocity(net, names[0])}"
        if stacked:  # every column has the second line, so that the units stay level
            lines += [(head, "bold"), (given, "bold")]
        else:
            lines.append((f"{head}{'  ' if li == 0 else ' '}{given}", "bold"))
        units = layer.units
        last = li == len(net.layers) - 1
        for j, u in enumerate(units[:MAX_SHOWN_UNITS]):
            if li == 0:
                value = fmt_given(net.inputs[j])
            elif f"out_{u}" in known:
                value = fmt_value(known[f"out_{u}"], decimals)
            elif f"sum_{u}" in known:
                value = ("sum " if ascii_only else "Σ") + fmt_value(known[f"sum_{u}"], decimals)
            else:
                value = "?"
            text = f"{u} {value}"
            if not one_bias and names is not None and values is not None:
                text += f"  {names[j]}={fmt_given(values[j])}{_velocity(net, names[j])}"
            if li == 0 and net.batch:  # a mini-batch: each example's value of the input
                text = f"{u}[1] {value}"
            lines.append((text, "reverse bold" if u in highlight else ""))
            if li == 0 and net.batch:
                lines.extend(
                    (f"{u}[{k}] {fmt_given(x[j])}", "")
                    for k, (x, _) in enumerate(net.batch[1:], start=2)
                )
            if last and net.batch:
                lines.extend(
                    (f"{indent}target_{u}[{k}] {fmt_given(t[j])}", "dim")
                    for k, (_, t) in enumerate(net.batch, start=1)
                )
            elif last:
                lines.append((f"{indent}target_{u} {fmt_given(net.targets[j])}", "dim"))
            outgoing = outgoing_of.get(u, [])
            cells = [
                (
                    f"{w.name} {fmt_given(w.value)}{_velocity(net, w.name)}{arrow}{w.target}",
                    w.name in highlight,
                )
                for w in outgoing[:MAX_SHOWN_WEIGHTS]
            ]
            step = 2 if li in paired else 1
            for k in range(0, len(cells), step):
                group = cells[k : k + step]
                text = indent + (" " * gap).join(t for t, _ in group)
                lines.append((text, "reverse" if any(h for _, h in group) else "dim"))
            if len(outgoing) > MAX_SHOWN_WEIGHTS:
                lines.append((f"  … {len(outgoing) - MAX_SHOWN_WEIGHTS} more", "dim"))
        if len(units) > MAX_SHOWN_UNITS:
            lines.append((f"… {len(units) - MAX_SHOWN_UNITS} more units", "dim"))
        if ascii_only:
            lines = [(to_ascii(t), st) for t, st in lines]
        columns.append(lines)
    widths = [max(len(t) for t, _ in col) + gap for col in columns]
    height = max(len(col) for col in columns)
    rows: list[Row] = []
    for row in range(height):
        cells_: list[tuple[str, str]] = []
        for col, width in zip(columns, widths, strict=True):
            text, style = col[row] if row < len(col) else ("", "")
            cells_.append((text, style))
            cells_.append((" " * (width - len(text)), ""))
        cells_.pop()  # no padding after the last column: a line is cut only for what it shows
        rows.append(tuple(cells_))
    return rows


def _velocity(net: Network, param: str) -> str:
    """`` v_w5=0.05``: a parameter's velocity before the step, when the lesson gives one."""
    if param not in net.velocities:
        return ""
    return f" v_{param}={fmt_given(net.velocities[param])}"


Fit = tuple[frozenset[int], int]  # (columns listing two weights a line, squeeze)
SQUEEZES = (0, 1, 2)  # see network_rows


def head_lines(fit: Fit) -> int:
    """The heading's lines: always on screen, above the part of the drawing shown (a
    computational graph's inputs may wrap onto more: its squeeze is then their count)."""
    return fit[1] if fit[1] >= 2 else 1


def window(rows: list[Row], room: int, heads: int = 1) -> list[Row]:
    """The lines shown in ``room`` lines when the drawing is taller (a small terminal): the
    ``heads``, then the stretch that holds the current step's units and weights (drawn in
    reverse: its givens). When they lie further apart than the room, the lines between are
    left out, keeping those nearest them; when there are more of them than the room, the
    stretch holds the step's weights."""
    if len(rows) <= room or room <= heads:
        return rows
    body, shown = rows[heads:], room - heads
    lit = [i for i, row in enumerate(body) if any("reverse" in st for _, st in row)]
    if lit and lit[-1] - lit[0] >= shown:
        if len(lit) <= shown:
            nearest = sorted(range(len(body)), key=lambda i: (min(abs(i - j) for j in lit), i))
            return [*rows[:heads], *(body[i] for i in sorted(nearest[:shown]))]
        # the weights' lines first (a step's givens), then its units' lines
        lit = [i for i, row in enumerate(body) if any(st == "reverse" for _, st in row)] or lit
    first, last = (lit[0], lit[-1]) if lit else (0, 0)
    start = min(first, max(0, last - shown + 1), len(body) - shown)
    return [*rows[:heads], *body[start : start + shown]]


def _measure(net: Network, decimals: int, fit: Fit, ascii_only: bool = False) -> tuple[int, int]:
    """(height, width) of the drawing with every value known and as wide as it gets (ASCII
    mode is wider: σ is written sigma, → is ->)."""
    known = {f"out_{u}": -1 / 3 for layer in net.layers for u in layer.units}
    rows = network_rows(net, known, set(), decimals, ascii_only, fit[0], fit[1])
    # a sum or a value past ±10 is a little wider than the stand-in: two columns of slack
    return len(rows), max((sum(len(t) for t, _ in r) for r in rows), default=0) + 2


def fitting(net: Network, decimals: int, room: int, width: int, ascii_only: bool = False) -> Fit:
    """How to draw the network in ``room`` lines of ``width`` columns: squeezed as little as
    it takes to be narrow enough; then, if it is too tall, the columns to list two weights a
    line, tallest first, until it fits or no column more can be paired within ``width`` (in
    a narrower form if that pairs more). The history and the prompt keep their rows, and
    every given stays on screen. A computational graph is only squeezed (its inputs then on
    two heading lines)."""
    if net.graph is not None:
        for squeeze in SQUEEZES[:2]:
            if gate_width(net, decimals, ascii_only, squeeze) <= width >= gate_heads_width(net):
                return (frozenset(), squeeze)
        return (frozenset(), max(SQUEEZES[-1], head_count(net, HEAD_WIDTH, ascii_only)))
    outgoing = _outgoing(net)
    candidates = [
        li
        for li, layer in enumerate(net.layers)
        if any(len(outgoing.get(u, [])) > 1 for u in layer.units)
    ]
    best_fit: tuple[int, Fit] | None = None
    for squeeze in SQUEEZES:
        fit: Fit = (frozenset(), squeeze)
        height, wide = _measure(net, decimals, fit, ascii_only)
        if wide > width and squeeze < SQUEEZES[-1]:
            continue
        left = list(candidates)
        while height > room and left:
            best: tuple[Fit, int] | None = None
            for li in left:
                trial = (fit[0] | {li}, squeeze)
                h, w = _measure(net, decimals, trial, ascii_only)
                if w <= width and h < height and (best is None or h < best[1]):
                    best = (trial, h)
            if best is None:
                break
            fit, height = best
            left = [li for li in left if li not in fit[0]]
        if best_fit is None or height < best_fit[0]:
            best_fit = (height, fit)
        if height <= room:
            break
    assert best_fit is not None
    return best_fit[1]


def diagram_text(
    net: Network, decimals: int, room: int = 14, width: int = 70, ascii_only: bool = False
) -> str:
    """The drawing as plain text, as the quiz first shows it in ``room`` lines of ``width``
    columns: what ``tutor check`` reads to make sure every given is on screen."""
    rows = network_rows(
        net, {}, set(), decimals, ascii_only, *fitting(net, decimals, room, width, ascii_only)
    )[:room]
    return "\n".join("".join(t for t, _ in r)[:width] for r in rows)


def given_shown(given: Given, text: str, ascii_only: bool = False) -> bool:
    """Whether ``text`` shows this given in full: its name (η for the learning rate), then a
    space or ``=``, then its value exactly as ``fmt_given`` prints it."""
    label = given.name if ascii_only or not given.unicode else given.unicode
    value = fmt_given(given.value, ascii_minus=ascii_only)
    pattern = rf"(?<![\w]){re.escape(label)}[ =]{re.escape(value)}(?![\d.e])"
    return re.search(pattern, text) is not None


def missing_givens(givens: Iterable[Given], text: str, ascii_only: bool = False) -> list[str]:
    """The givens ``text`` does not show in full, as ``name=value``."""
    return [
        f"{g.name}={fmt_given(g.value)}" for g in givens if not given_shown(g, text, ascii_only)
    ]


# the quiz's rows other than the diagram: the status line, the history and the panel at their
# smallest (#middle's min-height: a heading and three rows), the prompt, the feedback and the
# footer (tutor/ui/app.tcss)
OTHER_ROWS = 1 + 4 + 3 + 3 + 1
# the diagram's rows (with its border) it tries to keep to, so that the history shows 7 rows
DIAGRAM_ROWS = 8
# the terminal sizes every given must be visible at: the usual one and the tutor's minimum
SIZES = ((80, 24), (72, 22))


def diagram_room(width: int, height: int) -> tuple[int, int, int]:
    """(lines the drawing may take, lines it tries to keep to, its columns) on a screen of
    ``width``×``height``, not counting the border under it and its padding."""
    room = min(14, height - OTHER_ROWS) - 1
    return room, min(room, DIAGRAM_ROWS - 1), width - 2


def unseen_givens(
    net: Network, decimals: int, steps: Iterable[tuple[str, list[Given], Iterable[str]]]
) -> list[str]:
    """For ``tutor check``: the steps whose givens the quiz's diagram would not show in full,
    at each of ``SIZES``, in Unicode and in ASCII. ``steps`` are (id, givens, the units and
    weights it involves): the lines of the drawing shown for a step are those the quiz shows
    (``window``), cut to the columns."""
    problems: list[str] = []
    steps = list(steps)
    for (width, height), ascii_only in itertools.product(SIZES, (False, True)):
        mode = " in ASCII" if ascii_only else ""
        room, goal, columns = diagram_room(width, height)
        fit = fitting(net, decimals, goal, columns, ascii_only)
        shown = min(room, len(network_rows(net, {}, set(), decimals, ascii_only, *fit)))
        for step_id, givens, involves in steps:
            rows = network_rows(net, {}, set(involves), decimals, ascii_only, *fit)
            rows = window(rows, shown, head_lines(fit))
            text = "\n".join("".join(t for t, _ in r)[:columns] for r in rows)
            for g in givens:
                if not given_shown(g, text, ascii_only):
                    problems.append(
                        f"{step_id}: {g.name}={fmt_given(g.value)} is not shown in full "
                        f"at {width}x{height}{mode}"
                    )
    return problems
