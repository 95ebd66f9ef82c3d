"""Review mode: walk through the worked solution one step at a time, nothing asked."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Size
from textual.widgets import Footer

from tutor.drawing import diagram_room
from tutor.formula import ASCII, UNICODE
from tutor.grading.breakdown import as_rich, breakdown
from tutor.plan.steps import Plan
from tutor.textmode import to_ascii
from tutor.ui.messages import ShowLessons
from tutor.ui.screens.base import TutorScreen
from tutor.ui.screens.help import HelpScreen
from tutor.ui.widgets.network import NetworkDiagram
from tutor.ui.widgets.panel import InfoPanel
from tutor.ui.widgets.status import StatusBar


class ReviewScreen(TutorScreen):
    BINDINGS = [
        Binding("enter,down,space,f7,ctrl+y", "next", "Next", key_display="Enter"),
        Binding("up,f6,ctrl+o", "previous", "Back", key_display="F6"),
        Binding("f1,ctrl+g", "help", "Help", key_display="F1"),
        Binding("p", "picker", "Lessons"),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def __init__(self, plan: Plan, ascii_only: bool = False):
        super().__init__()
        self.plan = plan
        self.ascii_only = ascii_only
        self.index = 0

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield NetworkDiagram(id="diagram")
        yield InfoPanel(id="review-panel")
        yield Footer()

    def on_mount(self) -> None:
        self.fit_diagram(self.app.size)
        self.show_step()

    def on_resize(self, event: events.Resize) -> None:
        self.fit_diagram(event.size)
        self.show_step()

    def fit_diagram(self, size: Size) -> None:
        """The drawing fitted as the quiz fits it, so that it looks the same in both."""
        room, goal, width = diagram_room(size.width, size.height)
        lesson = self.plan.lesson
        self.query_one(NetworkDiagram).fix_height(
            lesson.network, room, goal, width, lesson.quiz.decimals, self.ascii_only
        )

    def show_step(self) -> None:
        step = self.plan[self.index]
        known = {s.id: s.value for s in list(self.plan)[: self.index + 1]}
        self.query_one(StatusBar).show(
            self.plan.lesson.title, (self.index + 1, len(self.plan)), 0, "review", self.ascii_only
        )
        self.query_one(NetworkDiagram).show(
            self.plan.lesson.network,
            known,
            set(step.involves),
            self.plan.lesson.quiz.decimals,
            self.ascii_only,
        )
        style = ASCII if self.ascii_only else UNICODE
        meaning = to_ascii(step.meaning) if self.ascii_only else step.meaning
        body = Group(
            Text(meaning + "\n", style="italic"),
            as_rich(breakdown(self.plan, step.id, style=style)),
        )
        phase = step.phase_title
        self.query_one(InfoPanel).show(
            f"{phase}: step {self.index + 1} of {len(self.plan)}", body, self.ascii_only
        )

    def action_next(self) -> None:
        if self.index < len(self.plan) - 1:
            self.index += 1
            self.show_step()
        else:
            self.notify("That was the last step. p goes back to the lessons.")

    def action_previous(self) -> None:
        if self.index > 0:
            self.index -= 1
            self.show_step()

    def action_picker(self) -> None:
        self.post_message(ShowLessons())

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.ascii_only))
