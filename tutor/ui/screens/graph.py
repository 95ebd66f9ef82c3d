"""The network drawn as a graph, full screen (F8 from the quiz): the compact diagram above the
quiz has no room for lines between units at 80x24, so the picture gets a screen of its own.
It is drawn once, when it opens (``tutor.graph``), and scrolls when it is larger than the
terminal."""

from __future__ import annotations

from collections.abc import Container, Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.widgets import Static

from tutor.drawing import Row
from tutor.gatediagram import gate_rows
from tutor.graph import graph_rows
from tutor.lesson.model import Network
from tutor.textmode import to_ascii
from tutor.ui.screens.base import TutorScreen

LEGEND = "Σ sum  ∂ ∂E/∂out, ∂E/∂w  δ ∂E/∂sum  new: after the update  reversed: this step"
# in ASCII the drawing already says "sum"
LEGEND_ASCII = "d dE/dout, dE/dw  delta dE/dsum  new: after the update  reversed: this step"

# a computational graph: each gate's first line has the values, the one below the gradients
GATE_LEGEND = "above: the values on the edges  below: ∂f/∂ of each  reversed: this step"
GATE_LEGEND_ASCII = "above: the values on the edges  below: df/d of each  reversed: this step"


def rows_text(rows: list[Row]) -> Text:
    """The rows as one rich Text, styled cell by cell (never markup: names come from files)."""
    text = Text(no_wrap=True, overflow="ignore", end="")
    for k, row in enumerate(rows):
        if k:
            text.append("\n")
        for cell, style in row:
            text.append(cell, style=style or None)
    return text


class GraphScreen(TutorScreen):
    """The graph of the network with the values found so far and this step highlighted."""

    BINDINGS = [
        Binding("escape,f8,ctrl+p,q", "close", "Close", key_display="Esc", priority=True),
    ]

    def __init__(
        self,
        net: Network,
        known: Mapping[str, float],
        highlight: set[str],
        decimals: int,
        *,
        step: str | None = None,
        expected: Container[str] | None = None,
        ascii_only: bool = False,
    ):
        super().__init__()
        self.net, self.known, self.highlight = net, known, highlight
        self.decimals, self.step, self.expected = decimals, step, expected
        self.ascii_only = ascii_only

    def t(self, s: str) -> str:
        return to_ascii(s) if self.ascii_only else s

    def compose(self) -> ComposeResult:
        at = f"at {self.step}" if self.step else "with every value found"
        what = "graph" if self.net.graph is not None else "network"
        title = f"The {what} {at}   (F8 or Esc closes, arrows scroll)"
        yield Static(Text(self.t(title), style="bold"), id="graph-title")
        if self.net.graph is not None:  # gates: the quiz's drawing, with room to spare
            rows = gate_rows(self.net, self.known, self.highlight, self.decimals, self.ascii_only)
        else:
            rows = graph_rows(
                self.net, self.known, self.highlight, self.decimals, self.ascii_only, self.expected
            )
        with ScrollableContainer(id="graph-scroll"):
            yield Static(rows_text(rows), id="graph-body")
        legend = LEGEND_ASCII if self.ascii_only else LEGEND
        if self.net.graph is not None:
            legend = GATE_LEGEND_ASCII if self.ascii_only else GATE_LEGEND
        yield Static(Text(legend, style="dim"), id="graph-legend")

    def on_mount(self) -> None:  # SizeGuard's own on_mount runs too (Textual calls each)
        self.restore_focus()

    def restore_focus(self) -> None:
        self.query_one("#graph-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)
