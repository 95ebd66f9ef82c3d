"""The help screen: every key, what it does, the modes, and how answers are checked."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tutor.textmode import to_ascii
from tutor.ui.screens.base import SizeGuard

KEYS = [
    ("Enter", "", "check your answer"),
    ("F2", "Ctrl+T", "hint: three levels, then reveal"),
    ("F3", "Ctrl+B", "chain-rule breakdown (current or selected step)"),
    ("F4", "Ctrl+R", "reveal (press twice; counts as revealed)"),
    ("F5", "Ctrl+N", "skip this step for now"),
    ("F6 / Up", "Ctrl+O", "previous step in the history"),
    ("F7 / Down", "Ctrl+Y", "next step in the history"),
    ("F8", "Ctrl+P", "the network drawn as a graph, full screen"),
    ("F9", "Ctrl+L", "back to the lessons"),
    ("F1", "Ctrl+G", "this help"),
    ("F10", "Ctrl+Q", "quit (progress is already saved)"),
]

NOTES = (
    "Answers: a number such as 0.25 or 2.5e-1, or the arithmetic itself, such as "
    "2*0.3 + 0.1. Rounded or cut-off values both count. In the lesson list, m picks the mode: "
    "learn, drill (a few steps on fresh numbers), exam (no help, three tries) or review."
)


class HelpScreen(SizeGuard, ModalScreen[None]):
    BINDINGS = [
        Binding("escape,f1,ctrl+g,enter,q", "dismiss(None)", "Close", key_display="F1"),
    ]

    def __init__(self, ascii_only: bool = False):
        super().__init__()
        self.ascii_only = ascii_only

    def t(self, s: str) -> str:
        return to_ascii(s) if self.ascii_only else s

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, expand=False, padding=(0, 1))
        table.add_column("key", style="bold")
        table.add_column("or")
        table.add_column("does")
        for key, alt, what in KEYS:
            table.add_row(Text(key), Text(alt), Text(self.t(what)))
        with VerticalScroll(id="help-box"):
            yield Static(Text("Keys  (F1, Enter or Esc closes this help)", style="bold"))
            yield Static(table)
            yield Static(Text(self.t(NOTES)), id="help-answers")
