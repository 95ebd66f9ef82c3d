"""One student's attempts at their current lesson, for the instructor: what they typed,
the verdicts, the named mistakes and the hints, oldest first; updated live."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tutor.classroom.activity import Event
from tutor.grading.misconceptions import TITLES
from tutor.progress.records import RIGHT

VERDICT_STYLE = {"correct": "green", "carried": "green", "incorrect": "red"}


def event_cells(event: Event) -> tuple[Text, ...]:
    e = event.entry
    verdict = str(e.get("verdict") or "")
    kind = event.kind
    if kind == "hint":
        what = f"hint {e.get('hint_level', '')}"
    elif kind == "answer":
        what = verdict
    else:
        what = kind
    style = VERDICT_STYLE.get(verdict, "") if kind == "answer" else "yellow"
    diagnosis = e.get("diagnosis")
    return (
        Text(event.at.astimezone().strftime("%H:%M:%S"), style="dim"),
        Text(str(e.get("step", ""))),
        Text(str(e.get("input") or "") if kind == "answer" else ""),
        Text(what, style=style),
        Text(TITLES.get(str(diagnosis), str(diagnosis)) if diagnosis else ""),
        Text("" if verdict in RIGHT else str(e.get("hint_level") or ""), justify="right"),
    )


class AttemptsScreen(Screen[None]):
    """A student's attempt history; Escape goes back to the class."""

    BINDINGS = [Binding("escape,q,backspace", "app.pop_screen", "Back to the class")]

    def __init__(self, student: str) -> None:
        super().__init__()
        self.student = student
        self._count = -1

    def compose(self) -> ComposeResult:
        yield Static(id="attempts-title")
        table: DataTable[Text] = DataTable(id="attempts", cursor_type="row", zebra_stripes=True)
        for label in ("time", "step", "typed", "verdict", "mistake", "hint"):
            table.add_column(label, key=label)
        yield table
        yield Footer()

    def show(self, events: list[Event], lesson: str | None) -> None:
        """The events of the student's current entry (called whenever the class changed)."""
        title = self.query_one("#attempts-title", Static)
        title.update(
            Text.assemble(
                (self.student, "bold"),
                f": {lesson or 'no lesson yet'}, {len(events)} events",
            )
        )
        if len(events) == self._count:
            return
        table = self.query_one("#attempts", DataTable)
        at_end = table.cursor_row >= table.row_count - 1
        table.clear()
        for event in events:
            table.add_row(*event_cells(event), key=str(event.id))
        self._count = len(events)
        if at_end and table.row_count:
            table.move_cursor(row=table.row_count - 1)
