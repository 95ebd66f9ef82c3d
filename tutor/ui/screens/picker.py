"""The lesson picker: the course as a path. Built-in lessons and those on TUTOR_LESSONS_PATH
in course order, each with its progress and score, the course done as a bar, and the lesson
to take next marked and under the cursor."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from tutor.lesson.model import Lesson
from tutor.progress.records import MODES
from tutor.progress.report import CoursePath
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
        lessons: list[Lesson],
        path: CoursePath,
        problems: list[str],
        mode: str = "learn",
        ascii_only: bool = False,
    ):
        """``lessons`` in course order with their ``path``; a lesson opens in ``mode`` (m
        changes it)."""
        super().__init__()
        self.lessons = lessons
        self.path = path
        self.next_id = path.next()
        self.problems = problems
        self.mode = mode
        self.ascii_only = ascii_only

    def t(self, s: str) -> str:
        s = safe_text(s, 2000)
        return to_ascii(s) if self.ascii_only else s

    def compose(self) -> ComposeResult:
        yield Static(id="picker-title")
        yield Static(self.course_line(), id="course-path")
        yield DataTable(id="lessons", cursor_type="row")
        yield Static(id="lesson-intro")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#lessons", DataTable)
        table.add_columns("  lesson", "title", "size", "level", "progress", "score")
        room = self.title_room()
        ellipsis = "..." if self.ascii_only else "…"
        mark = ">" if self.ascii_only else "▶"
        for lesson, standing in zip(self.lessons, self.path.standings, strict=True):
            title = fit_title(self.t(lesson.title), room, ellipsis)  # in full below the table
            table.add_row(
                Text(f"{mark if lesson.id == self.next_id else ' '} {lesson.id}"),
                Text(title),
                Text(lesson.size),
                Text("*" * lesson.difficulty),
                Text(standing.word),
                Text(standing.score, justify="right"),
                key=lesson.id,
            )
        if self.next_id is not None:  # the cursor starts on the lesson to take next
            table.move_cursor(row=[lesson.id for lesson in self.lessons].index(self.next_id))
        table.focus()
        self.show_title()
        if not self.lessons:
            self.query_one("#lesson-intro", Static).update(Text("No lessons found."))

    def course_line(self) -> Text:
        """'Course  [████░░░░░░]  35%  3 of 9 lessons done   next: softmax-ce'."""
        width = 20
        filled = round(self.path.share * width)
        full, empty = ("#", "-") if self.ascii_only else ("█", "░")
        line = Text("Course ")
        line.append(full * filled, style="green")
        line.append(empty * (width - filled), style="dim")
        line.append(f" {self.path.share:4.0%}  {self.path.finished} of {len(self.lessons)} done")
        if self.next_id is not None:
            line.append("   next: ")
            line.append(self.next_id, style="bold")
        elif self.lessons:
            line.append("   every lesson done", style="green")
        return line

    def title_room(self) -> int:
        """The columns the title may take: what the other columns leave of the screen."""
        standings = self.path.standings
        others = [
            2 + max([len("lesson"), *(len(lesson.id) for lesson in self.lessons)]),
            max([len("size"), *(len(lesson.size) for lesson in self.lessons)]),
            len("level"),
            max([len("progress"), *(len(s.word) for s in standings)]),
            max([len("score"), *(len(s.score) for s in standings)]),
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
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def refuse(self, message: str) -> None:
        """Say on the screen, above the lesson's intro, why a lesson did not open."""
        self.query_one("#lesson-intro", Static).update(Text(self.t(message), style="bold yellow"))

    def show_title(self) -> None:
        title = Text("backprop-tutor: choose a lesson (Enter opens it)", style="bold")
        title.append(f"   mode: {self.mode} (m changes)")
        self.query_one("#picker-title", Static).update(title)

    def action_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self.show_title()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.ascii_only))
