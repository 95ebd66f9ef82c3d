"""The network drawn as a graph, for the full-screen view (F8): each layer a column of boxed
units, an edge from every unit to every unit it feeds, the weight's name and value at the
source end of its edge, and the values and gradients the learner has found so far. Pure (no
Textual), in the rows of (text, style) cells that ``tutor.drawing`` uses, so that a test can
read exactly what the screen shows.

Edges are routed through one vertical "bus" per target unit: from the source a horizontal
line (carrying the weight's label) to the target's bus, down or up the bus, then into the
target. A line that ends on a bus makes a three-way join (┤ ┘ ┐); a line that passes a bus
makes a four-way crossing (┼), so a crossing is never mistaken for a join. In ASCII the joins
are ``+`` and a crossing is ``|`` (the vertical line passes, the horizontal one is cut)."""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field

from tutor.drawing import Row
from tutor.lesson.model import Network, Weight
from tutor.numfmt import fmt_given, fmt_value
from tutor.textmode import to_ascii

#: units drawn per layer; a larger layer says how many more it has (a 784-128-10 network)
MAX_GRAPH_UNITS = 6
#: lines per weight beside its source: the edge with name and value, its gradient, its new
#: value
SLOT = 3

N, E, S, W = 1, 2, 4, 8
_UNICODE_LINES = {
    N: "│", S: "│", N | S: "│", E: "─", W: "─", E | W: "─",
    N | E: "└", N | W: "┘", S | E: "┌", S | W: "┐",
    N | S | E: "├", N | S | W: "┤", E | W | S: "┬", E | W | N: "┴", N | E | S | W: "┼",
}  # fmt: skip
_ASCII_LINES = {
    N: "|", S: "|", N | S: "|", E: "-", W: "-", E | W: "-", N | E | S | W: "|",
}  # fmt: skip

Segment = tuple[str, str]  # (text, style)


@dataclass
class _Box:
    """One unit's box: where it is and what it says."""

    unit: str
    lines: list[list[Segment]]
    outgoing: list[Weight]
    x: int = 0
    y: int = 0
    w: int = 0
    h: int = 0
    entry: int = -1  # the row its incoming bus enters it at
    lit: bool = False


@dataclass
class _Canvas:
    """A grid of characters with a style each, and the line directions of each cell."""

    chars: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)
    dirs: dict[tuple[int, int], int] = field(default_factory=dict)
    bold: set[tuple[int, int]] = field(default_factory=set)

    def put(self, y: int, x: int, text: str, style: str = "") -> None:
        for k, ch in enumerate(text):
            self.chars[(y, x + k)] = (ch, style)

    def hline(self, y: int, x0: int, x1: int, lit: bool) -> None:
        for x in range(x0, x1 + 1):
            d = (E if x < x1 else 0) | (W if x > x0 else 0)
            self._add(y, x, d or (E | W), lit)

    def vline(self, x: int, y0: int, y1: int, lit: bool) -> None:
        top, bottom = min(y0, y1), max(y0, y1)
        for y in range(top, bottom + 1):
            d = (S if y < bottom else 0) | (N if y > top else 0)
            self._add(y, x, d, lit)

    def _add(self, y: int, x: int, d: int, lit: bool) -> None:
        self.dirs[(y, x)] = self.dirs.get((y, x), 0) | d
        if lit:
            self.bold.add((y, x))


def graph_rows(
    net: Network,
    known: Mapping[str, float],
    highlight: Container[str],
    decimals: int,
    ascii_only: bool = False,
    expected: Container[str] | None = None,
) -> list[Row]:
    """The graph as rows of (text, style) cells. ``known`` holds the values found so far (by
    step id), ``highlight`` the current step's units, weights and biases, and ``expected`` the
    step ids the lesson will ask or show (the lines of values still to come, drawn as ``?``;
    without it only what is known is drawn). Given numbers are shown in full."""
    t = to_ascii if ascii_only else _same
    stand_in = len(fmt_value(1 / 3, decimals))  # a minus sign may widen a column by one

    def will(name: str) -> bool:
        return name in known or (expected is not None and name in expected)

    def value(name: str) -> str:
        if name in known:
            return t(fmt_value(known[name], decimals))
        return "?".ljust(stand_in)

    def style(name: str) -> str:
        return "" if name in known else "dim"

    layers = [layer.units[:MAX_GRAPH_UNITS] for layer in net.layers]
    shown = {u for units in layers for u in units}
    outgoing: dict[str, list[Weight]] = {}
    for wt in net.weights:
        if wt.source in shown and wt.target in shown:
            outgoing.setdefault(wt.source, []).append(wt)
    position = net.positions
    for ws in outgoing.values():
        ws.sort(key=lambda wt: position[wt.target][1])

    # --- the words: column heads and each unit's lines
    heads: list[list[list[Segment]]] = []
    columns: list[list[_Box]] = []
    for li, layer in enumerate(net.layers):
        names, values = layer.bias_names, layer.bias_values
        one_bias = bool(names) and len(set(names or ())) == 1
        head: list[Segment] = [(t(layer.name), "bold")]
        head_lines = [head]
        if li == 0:
            head.append((" " + t(f"η={fmt_given(net.learning_rate)}"), ""))
            if net.weight_decay:
                head.append((" " + t(f"λ={fmt_given(net.weight_decay)}"), ""))
            if net.momentum is not None:
                head.append((" " + t(f"μ={fmt_given(net.momentum)}"), ""))
        else:
            head.append((" " + t(f"({layer.activation_record.symbol})"), "bold"))
            if one_bias and names and values:
                b = names[0]
                head.append((" ", ""))
                head.append((t(f"{b}={fmt_given(values[0])}"), _lit(b in highlight)))
                head_lines.extend(_bias_lines(b, will, value, style, t))
        heads.append(head_lines)
        boxes: list[_Box] = []
        for j, u in enumerate(layers[li]):
            lines: list[list[Segment]] = [[(t(u), "bold")]]
            if li == 0:
                lines.append([(t(f"out {fmt_given(net.inputs[j])}"), "")])
            else:
                for prefix, name in (("Σ", f"sum_{u}"), ("out", f"out_{u}")):
                    if will(name):
                        lines.append([(t(f"{prefix} ") + value(name), style(name))])
                if not one_bias and names is not None and values is not None:
                    b = names[j]
                    lines.append([(t(f"{b}={fmt_given(values[j])}"), _lit(b in highlight))])
                    lines.extend(_bias_lines(b, will, value, style, t))
                for prefix, name in (("∂", f"dE_total/dout_{u}"), ("δ", f"delta_{u}")):
                    if will(name):
                        lines.append([(t(f"{prefix} ") + value(name), style(name))])
                if li == len(net.layers) - 1:
                    lines.append([(t(f"target {fmt_given(net.targets[j])}"), "")])
            boxes.append(_Box(u, lines, outgoing.get(u, []), lit=u in highlight))
        columns.append(boxes)

    # --- the labels beside each source: the weight, its gradient, its new value
    labels: dict[str, list[Segment]] = {}
    for ws in outgoing.values():
        for wt in ws:
            grad, new = f"dE_total/d{wt.name}", f"new_{wt.name}"
            labels[wt.name] = [
                (t(f"{wt.name} {fmt_given(wt.value)}"), "reverse" if wt.name in highlight else "")
            ]
            labels[wt.name + "/grad"] = [(t("∂ ") + value(grad), style(grad))] if will(grad) else []
            labels[wt.name + "/new"] = [(t("new ") + value(new), style(new))] if will(new) else []

    # --- the sizes and places
    head_h = max(len(h) for h in heads) + 1
    gap = 1
    x = 0
    col_x: list[int] = []
    col_w: list[int] = []
    for li, boxes in enumerate(columns):
        inner = max(_width(line) for box in boxes for line in box.lines)
        w = inner + 4  # the borders and a space each side of the text
        col_x.append(x)
        col_w.append(w)
        for box in boxes:
            box.w = w
            box.h = max(len(box.lines), SLOT * len(box.outgoing)) + 2
        if li == len(columns) - 1:
            break
        targets = len(columns[li + 1])
        ws = [wt for b in boxes for wt in b.outgoing]
        # "─ ", the weight's label, " ─" before the first bus; its gradient and new value
        # under it need only a space; then a bus per target, two apart, and the "▶"
        room = max(
            [_width(labels[wt.name]) + 2 for wt in ws]
            + [_width(labels[wt.name + k]) + 1 for wt in ws for k in _KINDS[1:]]
            + [0]
        )
        after = x + w + 2 + room + 2 * targets
        head_w = max(_width(line) for line in heads[li]) + 2
        x = max(after, x + head_w)
    heights = [sum(b.h for b in boxes) + gap * (len(boxes) - 1) for boxes in columns]
    more = [len(layer.units) - len(layers[li]) for li, layer in enumerate(net.layers)]
    body_h = max(heights) + (1 if any(more) else 0)
    for li, boxes in enumerate(columns):
        y = head_h + (max(heights) - heights[li]) // 2
        for box in boxes:
            box.x, box.y = col_x[li], y
            y += box.h + gap

    # --- the drawing
    canvas = _Canvas()
    for li, head_lines in enumerate(heads):
        for k, line in enumerate(head_lines):
            _put_segments(canvas, k, col_x[li], line)
        if more[li]:
            last = columns[li][-1]
            canvas.put(last.y + last.h, col_x[li], t(f"… {more[li]} more units"), "dim")
    box_of = {box.unit: box for boxes in columns for box in boxes}
    for li in range(len(columns) - 1):
        _route(canvas, columns[li], columns[li + 1], col_x[li + 1], box_of, highlight)
    for boxes in columns:
        for box in boxes:
            _draw_box(canvas, box, ascii_only)
            for k, wt in enumerate(box.outgoing):
                y, lx = box.y + 1 + SLOT * k, box.x + box.w + 2
                _put_segments(canvas, y, lx, [(" ", ""), *labels[wt.name], (" ", "")], back=1)
                _put_segments(canvas, y + 1, lx, labels[wt.name + "/grad"])
                _put_segments(canvas, y + 2, lx, labels[wt.name + "/new"])
    return _rows(canvas, head_h + body_h, ascii_only)


_KINDS = ("", "/grad", "/new")  # a weight's three labels


def _same(text: str) -> str:
    return text


def _lit(on: bool) -> str:
    return "reverse" if on else ""


def _bias_lines(
    b: str,
    will: Callable[[str], bool],
    value: Callable[[str], str],
    style: Callable[[str], str],
    t: Callable[[str], str],
) -> list[list[Segment]]:
    """A bias's gradient and new value, once the lesson updates biases."""
    lines = []
    for prefix, name in (("∂", f"dE_total/d{b}"), ("new", f"new_{b}")):
        if will(name):
            lines.append([(t(f" {prefix} ") + value(name), style(name))])
    return lines


def _width(line: list[Segment]) -> int:
    return sum(len(text) for text, _ in line)


def _put_segments(canvas: _Canvas, y: int, x: int, line: list[Segment], back: int = 0) -> None:
    """Write a line of segments at (y, x); ``back`` cells start one earlier (the blank before a
    label on an edge)."""
    x -= back
    for text, st in line:
        canvas.put(y, x, text, st)
        x += len(text)


def _route(
    canvas: _Canvas,
    sources: list[_Box],
    targets: list[_Box],
    next_x: int,
    box_of: Mapping[str, _Box],
    highlight: Container[str],
) -> None:
    """The edges from one column to the next: each target's bus, the first target's leftmost
    (it enters highest, so its line into the box crosses no bus), and the row it enters at,
    one no weight's line uses (a join there would be a crossing)."""
    weight_rows = {box.y + 1 + SLOT * k: wt for box in sources for k, wt in enumerate(box.outgoing)}
    first_bus = next_x - 2 * len(targets)
    bus_x = {box.unit: first_bus + 2 * k for k, box in enumerate(targets)}
    for box in targets:
        inner = range(box.y + 1, box.y + box.h - 1)
        box.entry = next(y for y in inner if y not in weight_rows)
    for y, wt in weight_rows.items():
        src, dst = box_of[wt.source], box_of[wt.target]
        lit = wt.name in highlight
        bx = bus_x[wt.target]
        canvas.hline(y, src.x + src.w, bx, lit)
        canvas.vline(bx, y, dst.entry, lit)
        canvas.hline(dst.entry, bx, next_x - 1, lit)
    for box in targets:
        canvas.put(box.entry, next_x - 1, "▶", "bold" if box.lit else "")


def _draw_box(canvas: _Canvas, box: _Box, ascii_only: bool) -> None:
    """The box with its lines; a ├ on its right side where each weight leaves it."""
    tl, tr, bl, br, hz, vt, out = (
        ("+", "+", "+", "+", "-", "|", "+") if ascii_only else ("╭", "╮", "╰", "╯", "─", "│", "├")
    )
    border = "bold" if box.lit else ""
    right = box.x + box.w - 1
    canvas.put(box.y, box.x, tl + hz * (box.w - 2) + tr, border)
    canvas.put(box.y + box.h - 1, box.x, bl + hz * (box.w - 2) + br, border)
    for y in range(box.y + 1, box.y + box.h - 1):
        canvas.put(y, box.x, vt + " " * (box.w - 2) + vt, border)
    for k in range(len(box.outgoing)):
        canvas.put(box.y + 1 + SLOT * k, right, out, border)
        canvas.dirs.pop((box.y + 1 + SLOT * k, right), None)
    for k, line in enumerate(box.lines):
        x = box.x + 2
        if k == 0 and box.lit:  # the unit's name, reversed across the box
            canvas.put(box.y + 1, box.x + 1, " " * (box.w - 2), "reverse bold")
            line = [(text, "reverse bold") for text, _ in line]
        _put_segments(canvas, box.y + 1 + k, x, line)


def _rows(canvas: _Canvas, height: int, ascii_only: bool) -> list[Row]:
    """The canvas as rows of runs of one style; text over a line wins, as a label on an edge."""
    table = _ASCII_LINES if ascii_only else _UNICODE_LINES
    grid: dict[tuple[int, int], tuple[str, str]] = {}
    for (y, x), d in canvas.dirs.items():
        ch = table.get(d, "+" if ascii_only else "┼")
        grid[(y, x)] = (ch, "bold" if (y, x) in canvas.bold else "dim")
    grid.update(canvas.chars)
    rows: list[Row] = []
    for y in range(height):
        xs = [x for (yy, x) in grid if yy == y]
        cells: list[tuple[str, str]] = []
        for x in range(max(xs) + 1 if xs else 0):
            ch, st = grid.get((y, x), (" ", ""))
            if ascii_only:
                ch = to_ascii(ch)
            if cells and cells[-1][1] == st:
                cells[-1] = (cells[-1][0] + ch, st)
            else:
                cells.append((ch, st))
        if cells and not cells[-1][0].strip():
            cells.pop()
        elif cells:
            cells[-1] = (cells[-1][0].rstrip(), cells[-1][1])
        rows.append(tuple(cells))
    return rows


def graph_text(rows: list[Row]) -> str:
    """The rows as plain text (for tests and ``tutor`` reports)."""
    return "\n".join("".join(text for text, _ in row) for row in rows)
