"""The network drawn in the terminal: layers as columns, each unit with its value once known,
each weight listed on its edge beside the unit it leaves, and the current step's units and
weights highlighted."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import Static

from tutor.lesson import Network
from tutor.numfmt import fmt_given, fmt_value
from tutor.textmode import to_ascii

MAX_SHOWN_UNITS = 4
ACT_SYMBOL = {"sigmoid": "σ", "tanh": "tanh", "relu": "relu", "linear": "lin", "softmax": "softmax"}


_OUTGOING: dict[int, tuple[Network, dict[str, list]]] = {}


def _outgoing(net: Network) -> dict[str, list]:
    """Weights leaving each unit, computed once per network (redrawn on every answer)."""
    cached = _OUTGOING.get(id(net))
    if cached is None or cached[0] is not net:
        table: dict[str, list] = {}
        for w in net.weights:
            table.setdefault(w.source, []).append(w)
        _OUTGOING.clear()
        _OUTGOING[id(net)] = cached = (net, table)
    return cached[1]


def draw_network(
    net: Network,
    known: Mapping[str, float],
    highlight: set[str],
    decimals: int,
    ascii_only: bool = False,
) -> Text:
    """A Text drawing of the network (no markup is ever parsed)."""
    arrow = "->" if ascii_only else "→"
    outgoing_of = _outgoing(net)
    columns: list[list[tuple[str, str]]] = []  # per column: (text, style) lines
    for li, layer in enumerate(net.layers):
        lines: list[tuple[str, str]] = []
        head = layer.name
        if li == 0:
            head += f"  η={fmt_given(net.learning_rate)}"
        if li:
            head += f" ({ACT_SYMBOL.get(layer.activation or '', layer.activation)})"
            if layer.bias_names and layer.shared_bias:
                head += f" {layer.bias_names[0]}={fmt_given(layer.bias_values[0])}"  # type: ignore[index]
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
    out = Text(no_wrap=True, overflow="ellipsis")
    for row in range(height):
        for col, width in zip(columns, widths, strict=True):
            text, style = col[row] if row < len(col) else ("", "")
            out.append(text, style=style)
            out.append(" " * (width - len(text)))
        if row < height - 1:
            out.append("\n")
    return out


class NetworkDiagram(Static):
    """Redrawn whenever a value becomes known or the current step changes."""

    DEFAULT_CSS = """
    NetworkDiagram { height: auto; max-height: 14; padding: 0 1; }
    """

    def fix_height(self, net: Network) -> None:
        """The drawing's height never changes within a lesson: fixing it spares a re-layout
        of the whole screen on every answer."""
        lines = draw_network(net, {}, set(), 5).plain.count("\n") + 1
        border = 1 if self.styles.border_bottom[0] else 0
        self.styles.height = min(lines, 14) + border

    def show(
        self,
        net: Network,
        known: Mapping[str, float],
        highlight: set[str],
        decimals: int,
        ascii_only: bool = False,
    ) -> None:
        self.update(draw_network(net, known, highlight, decimals, ascii_only))
