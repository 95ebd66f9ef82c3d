"""The network drawn in the terminal: layers as columns, each unit with its value once known,
each weight listed on its edge beside the unit it leaves, and the current step's units and
weights highlighted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from tutor.lesson.model import Network, Weight
from tutor.numfmt import fmt_given, fmt_value
from tutor.textmode import to_ascii
from tutor.ui.widgets.lines import cells_strip

MAX_SHOWN_UNITS = 4


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


def network_rows(
    net: Network,
    known: Mapping[str, float],
    highlight: set[str],
    decimals: int,
    ascii_only: bool = False,
) -> list[Row]:
    """The drawing as rows of (text, style) cells: columns of layers, each unit with its value
    once known, the weights leaving it, and the current step's units and weights in reverse."""
    arrow = "->" if ascii_only else "→"
    outgoing_of = _outgoing(net)
    columns: list[list[tuple[str, str]]] = []  # per column: (text, style) lines
    for li, layer in enumerate(net.layers):
        lines: list[tuple[str, str]] = []
        head = layer.name
        if li == 0:
            head += f"  η={fmt_given(net.learning_rate)}"
        if li:
            head += f" ({layer.activation_record.symbol})"
            if layer.shared_bias and layer.bias_names and layer.bias_values:
                head += f" {layer.bias_names[0]}={fmt_given(layer.bias_values[0])}"
        lines.append((head, "bold"))
        units = layer.units
        for j, u in enumerate(units[:MAX_SHOWN_UNITS]):
            if li == 0:
                value = fmt_given(net.inputs[j])
            elif f"out_{u}" in known:
                value = fmt_value(known[f"out_{u}"], decimals)
            elif f"sum_{u}" in known:
                value = "Σ" + fmt_value(known[f"sum_{u}"], decimals)
            else:
                value = "?"
            style = "reverse bold" if u in highlight else ""
            target = ""
            if li == len(net.layers) - 1:
                target = f"  (target {fmt_given(net.targets[j])})"
            lines.append((f"{u} {value}{target}", style))
            outgoing = outgoing_of.get(u, [])
            for w in outgoing[:3]:
                style = "reverse" if w.name in highlight else "dim"
                lines.append((f"  {w.name} {fmt_given(w.value)} {arrow} {w.target}", style))
            if len(outgoing) > 3:
                lines.append((f"  … {len(outgoing) - 3} more", "dim"))
        if len(units) > MAX_SHOWN_UNITS:
            lines.append((f"… {len(units) - MAX_SHOWN_UNITS} more units", "dim"))
        if ascii_only:
            lines = [(to_ascii(t), st) for t, st in lines]
        columns.append(lines)
    widths = [max(len(t) for t, _ in col) + 2 for col in columns]
    height = max(len(col) for col in columns)
    rows: list[Row] = []
    for row in range(height):
        cells: list[tuple[str, str]] = []
        for col, width in zip(columns, widths, strict=True):
            text, style = col[row] if row < len(col) else ("", "")
            cells.append((text, style))
            cells.append((" " * (width - len(text)), ""))
        cells.pop()  # no padding after the last column: a line is cut only for what it shows
        rows.append(tuple(cells))
    return rows


class NetworkDiagram(Widget):
    """Redrawn whenever a value becomes known or the current step changes, one line at a
    time: an answer changes two or three lines of the drawing, and only those are repainted
    (the Line API, with a cache of drawn lines)."""

    DEFAULT_CSS = """
    NetworkDiagram { height: auto; max-height: 14; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.rows: list[Row] = []
        self.ascii_only = False
        self._strips: dict[int, tuple[tuple[Any, ...], Strip]] = {}  # the drawn line at each y
        self._base, self._width = Style(), 0

    def fix_height(self, net: Network, room: int = 14) -> None:
        """The drawing's height never changes within a lesson, except when the terminal is
        resized (a change would re-lay-out the whole screen on every answer): the network's
        rows, at most 14 and at most ``room`` lines, so that the prompt and the feedback
        below it stay on screen (rows beyond that are cut off, as beyond 14)."""
        lines = len(network_rows(net, {}, set(), 5))
        border = 1 if self.styles.border_bottom[0] else 0
        height = max(1, min(lines, 14, room - border)) + border
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height

    def show(
        self,
        net: Network,
        known: Mapping[str, float],
        highlight: set[str],
        decimals: int,
        ascii_only: bool = False,
    ) -> None:
        rows = network_rows(net, known, highlight, decimals, ascii_only)
        self.ascii_only = ascii_only
        old, self.rows = self.rows, rows
        if len(rows) != len(old):
            self.refresh(layout=True)
            return
        width = self.size.width
        for y, (before, after) in enumerate(zip(old, rows, strict=True)):
            if before != after:
                self.refresh(Region(0, y, width, 1))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.rows)

    def render_lines(self, crop: Region) -> list[Strip]:
        # costly to work out: once per frame, not per line
        self._base, self._width = self.rich_style, self.content_size.width
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width, base = self._width, self._base
        if y >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[y]
        key = (row, width, base, self.ascii_only)
        cached = self._strips.get(y)
        if cached is not None and cached[0] == key:
            return cached[1]
        strip = cells_strip(row, width, base, ellipsis="~" if self.ascii_only else "…")
        self._strips[y] = (key, strip)
        return strip
