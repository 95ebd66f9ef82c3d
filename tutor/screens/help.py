"""The help screen: every key, what it does, and how answers are checked."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tutor.textmode import to_ascii

KEYS = [
    ("Enter", "", "check your answer"),
    ("F2", "Ctrl+T", "hint (three levels, then reveal)"),
    ("F3", "Ctrl+B", "chain-rule breakdown of the current or selected step"),
    ("F4", "Ctrl+R", "reveal the answer (the step counts as revealed, not correct)"),
    ("F5", "Ctrl+N", "skip this step for now"),
    ("F6 / Up", "Ctrl+O", "look at the previous step in the history"),
    ("F7 / Down", "Ctrl+Y", "look at the next step in the history"),
    ("F1", "Ctrl+G", "this help"),
    ("F10", "Ctrl+Q", "save and quit"),
]

ANSWERS = (
    "Answers: a number such as 0.41, .41, 4.1e-1 or 41/100, or the arithmetic itself, such "
    "as 0.1*0.1 + 0.5*0.3 + 0.25 or 1/(1+exp(-0.41)). Give the lesson's number of decimals; "
    "rounded or truncated values are both fine. Your progress is saved after every answer."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,f1,ctrl+g,enter,q", "dismiss(None)", "Close", key_display="F1"),
    ]

    def __init__(self, ascii_only: bool = False):
        super().__init__()
        self.ascii_only = ascii_only

    def compose(self) -> ComposeResult:
        table = Table(show_header=True, header_style="bold", box=None, expand=False)
        table.add_column("key")
        table.add_column("or")
        table.add_column("does")
        for key, alt, what in KEYS:
            table.add_row(Text(key), Text(alt), Text(to_ascii(what) if self.ascii_only else what))
        note = Text(to_ascii(ANSWERS) if self.ascii_only else ANSWERS)
        with VerticalScroll(id="help-box"):
            yield Static(Text("Keys", style="bold"))
            yield Static(table)
            yield Static(note, id="help-answers")
            yield Static(Text("F1, Enter or Esc closes this help.", style="dim"))
