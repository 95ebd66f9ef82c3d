"""The lesson picker: built-in lessons and those on TUTOR_LESSONS_PATH, with progress."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from tutor.lesson.model import Lesson
from tutor.progress.records import MODES
from tutor.textmode import fit_title, reflow, safe_text, to_ascii
from tutor.ui.messages import OpenLesson
from tutor.ui.screens.base import TutorScreen
from tutor.ui.screens.help import HelpScreen


class PickerScreen(TutorScreen):
    BINDINGS = [
        Binding("f1,ctrl+g", "help", "Help", key_display="F1"),
        Binding("m", "mode", "Mode"),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def __init__(
        self,
        lessons: list[tuple[Lesson, str]],
        problems: list[str],
        mode: str = "learn",
        ascii_only: bool = False,
    ):
        """``lessons`` as (lesson, progress text), in course order; a lesson opens in
        ``mode`` (m changes it)."""
        super().__init__()
        self.lessons = lessons
        self.problems = problems
        self.mode = mode
        self.ascii_only = ascii_only

    def t(self, s: str) -> str:
        s = safe_text(s, 2000)
        return to_ascii(s) if self.ascii_only else s

    def compose(self) -> ComposeResult:
        yield Static(id="picker-title")
        yield DataTable(id="lessons", cursor_type="row")
        yield Static(id="lesson-intro")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#lessons", DataTable)
        table.add_columns("lesson", "title", "size", "level", "progress")
        room = self.title_room()
        ellipsis = "..." if self.ascii_only else "…"
        for lesson, progress in self.lessons:
            title = fit_title(self.t(lesson.title), room, ellipsis)  # in full below the table
            table.add_row(
                Text(lesson.id),
                Text(title),
                Text(lesson.size),
                Text("*" * lesson.difficulty),
                Text(progress),
                key=lesson.id,
            )
        table.focus()
        self.show_title()
        if not self.lessons:
            self.query_one("#lesson-intro", Static).update(Text("No lessons found."))

    def title_room(self) -> int:
        """The columns the title may take: what the other columns leave of the screen."""
        others = [
            max([len("lesson"), *(len(lesson.id) for lesson, _ in self.lessons)]),
            max([len("size"), *(len(lesson.size) for lesson, _ in self.lessons)]),
            len("level"),
            max([len("progress"), *(len(progress) for _, progress in self.lessons)]),
        ]
        width = self.app.size.width or 80
        return max(16, width - sum(w + 2 for w in others) - 2 - 2)  # cell padding, scrollbar

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        lesson = self._lesson(event.row_key.value)
        if lesson is None:
            return
        body = Text(self.t(lesson.title), style="bold")
        body.append(f"  ({lesson.size}, about {lesson.minutes} min)\n")
        body.append(self.t(reflow(lesson.intro)))
        for p in self.problems:
            body.append("\n" + self.t(p), style="yellow")
        self.query_one("#lesson-intro", Static).update(body)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        lesson = self._lesson(event.row_key.value)
        if lesson is not None:
            self.post_message(OpenLesson(lesson, self.mode))

    def _lesson(self, lesson_id: str | None) -> Lesson | None:
        return next((lesson for lesson, _ in self.lessons if lesson.id == lesson_id), None)

    def show_title(self) -> None:
        title = Text("backprop-tutor: choose a lesson (Enter opens it)", style="bold")
        title.append(f"   mode: {self.mode} (m changes)")
        self.query_one("#picker-title", Static).update(title)

    def action_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self.show_title()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.ascii_only))
