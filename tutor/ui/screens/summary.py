"""The end of a lesson: score, wrong tries, hints, revealed steps, time, mistakes by kind (the
undiagnosed ones as "other", so they add up to the wrong tries), and the payoff —
the second forward pass has a lower error, and the loss keeps falling."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Static

from tutor.grading.misconceptions import TITLES
from tutor.lesson.model import Lesson
from tutor.numfmt import fmt_value
from tutor.session import QuizSession
from tutor.textmode import fit_title, safe_text, to_ascii
from tutor.ui.messages import FreshVariant, OpenLesson, Redo, ShowLessons
from tutor.ui.screens.base import TutorScreen
from tutor.ui.widgets.chart import loss_chart


def summary_text(title: str, data: dict[str, Any], decimals: int) -> Text:
    out = Text()
    out.append("Lesson complete", style="bold green")
    out.append(f"  {safe_text(title, 200)}\n\n")
    out.append(f"Score: {data['score']:g}/{data['total']}", style="bold")
    out.append(f"   right at the first try: {data.get('first_try', 0)}")
    if data["carried"]:
        out.append(f"   ({len(data['carried'])} with a carried error)")
    minutes, seconds = divmod(int(data["seconds"]), 60)
    out.append(f"   Time: {minutes}:{seconds:02d}\n")
    credit = data.get("credit")
    if credit is not None:  # say how the score was reached: it is not the steps right
        terms = ["1"]
        if credit.per_wrong:
            terms.append(f"{credit.per_wrong:g} per wrong try")
        if credit.per_hint:
            terms.append(f"{credit.per_hint:g} per hint asked for")
        floor = f", min {credit.floor:g}" if credit.floor else ""
        out.append(f"Step credit: {' - '.join(terms)}{floor}\n", style="dim")
    revealed = data["revealed"]
    out.append(f"Wrong tries: {data.get('misses', 0)}   Hints: {data.get('hints', 0)}   ")
    out.append(
        "Revealed: " + (f"{len(revealed)} ({', '.join(revealed)})" if revealed else "none") + "\n"
    )
    other = data.get("other", 0)
    if data["mistakes"] or other:
        out.append("Mistakes by kind:\n")
        for tag, count in data["mistakes"].items():
            out.append(f"  {TITLES.get(tag, tag)}: {count}\n")
        if other:
            out.append(f"  Other (not recognised): {other}\n")
    else:
        out.append("No recognised mistakes.\n")
    hist = data["loss_history"]
    if len(hist) > 1:
        first, second = hist[0], hist[1]
        drop = (first - second) / first * 100 if first else 0.0
        name = data.get("loss_name", "E_total")
        out.append(f"\n{name}, first forward pass:  ")
        out.append(fmt_value(first, decimals), style="bold")
        out.append(f"\n{name}, second forward pass: ")
        out.append(fmt_value(second, decimals), style="bold")
        if second < first:
            out.append(f"   (the update lowered the error by {drop:.2f}%)", style="green")
        else:
            out.append(
                "   (this update did not lower the error: the step was too large)", style="yellow"
            )
        out.append(f"\nAfter {len(hist) - 1} updates: {fmt_value(hist[-1], decimals)}\n")
    updates = data.get("updates") or []
    if updates:
        out.append("\nOne step of gradient descent moved the parameters:\n")
        cells = [
            f"{name} {fmt_value(old, decimals)} → {fmt_value(new, decimals)}"
            for name, old, new in updates[:24]
        ]
        for k in range(0, len(cells), 2):
            out.append("  " + "    ".join(cells[k : k + 2]) + "\n")
        if len(updates) > 24:
            out.append(f"  … and {len(updates) - 24} more\n")
    return out


class SummaryScreen(TutorScreen):
    BINDINGS = [
        Binding("n", "next", "Next lesson"),
        Binding("r", "redo", "Redo"),
        Binding("v", "variant", "Fresh variant"),
        Binding("p", "picker", "Lessons"),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def __init__(
        self, session: QuizSession, ascii_only: bool = False, following: Lesson | None = None
    ):
        """``following`` is the course's next lesson for this learner, offered with n."""
        super().__init__()
        self.following = following
        self.mode = session.mode
        lesson = session.plan.lesson
        self.plan = session.plan
        self.title_text = lesson.title
        self.data = session.summary()
        self.decimals = lesson.quiz.decimals
        self.ascii_only = ascii_only
        self.variants = lesson.variants is not None
        self.redo_armed = False  # r asks first, then starts over
        self.training = lesson.training is not None  # its loss curve is worked out in a worker

    def compose(self) -> ComposeResult:
        text = summary_text(self.title_text, self.data, self.decimals)
        if self.training:
            caption = (
                f"Loss over the whole training set, {self.data['training_epochs']} passes "
                "of per-example updates:"
            )
            chart = Text("training… (a moment)", style="dim")
        else:
            name = self.data.get("loss_name", "E_total")
            what = "batch" if name == "E_batch" else "example"
            caption = f"Loss curve ({name}) over further updates on this {what}:"
            chart = loss_chart(self.data["loss_history"], ascii_only=self.ascii_only)
        if self.ascii_only:
            text = Text(to_ascii(text.plain))
        with VerticalScroll(id="summary-box"):
            yield Static(text, id="summary-text")
            if self.training or self.data["loss_history"]:  # a computational graph has none
                yield Static(Text(caption, style="bold"))
                yield Static(chart, id="loss-chart")
        yield Static(self.next_line(), id="next-lesson")
        with Horizontal(id="summary-buttons"):
            if self.following is not None:
                yield Button("Next (n)", id="next", variant="primary")
            yield Button("Redo (r)", id="redo", variant="default" if self.following else "primary")
            yield Button("Fresh variant (v)", id="variant", disabled=not self.variants)
            yield Button("Lessons (p)", id="picker")
            yield Button("Quit (q)", id="quit")
        yield Footer()

    def next_line(self) -> Text:
        """What to do next, on one line: the course's next lesson, or that all are done."""
        if self.following is None:
            return Text("Every lesson of the course is done.", style="green")
        lesson = self.following
        title = safe_text(lesson.title, 200)
        title = to_ascii(title) if self.ascii_only else title
        head, tail = f"Next in the course: {lesson.id}, ", "  (n opens it)"
        room = (self.app.size.width or 80) - 2 - len(head) - len(tail)
        line = Text(head, style="bold")
        line.append(fit_title(title, room, "..." if self.ascii_only else "…"))
        line.append(tail, style="dim")
        return line

    def on_mount(self) -> None:
        self.query_one("#summary-box").focus()  # arrows and PageDown scroll the summary
        if self.training:
            self.train()

    @work(thread=True, exclusive=True)
    def train(self) -> None:
        """Slow work (thousands of updates) off the interface thread."""
        history = self.plan.training_history()
        if history:
            chart = loss_chart(history, ascii_only=self.ascii_only)
            self.app.call_from_thread(self.show_chart, chart)

    def show_chart(self, chart: Text) -> None:
        self.query_one("#loss-chart", Static).update(chart)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        action = {
            "next": self.action_next,
            "redo": self.action_redo,
            "variant": self.action_variant,
            "picker": self.action_picker,
            "quit": self.app.exit,
        }.get(event.button.id or "")
        if action:
            action()

    def action_redo(self) -> None:
        if not self.redo_armed:
            self.redo_armed = True
            self.notify(
                "Press r again to start over: this lesson's progress will be cleared "
                "(the attempt log keeps a record).",
                timeout=8,
            )
            return
        self.post_message(Redo())

    def action_variant(self) -> None:
        if not self.variants:
            self.notify("Fresh variants come with drills for lessons that define [variants].")
            return
        self.post_message(FreshVariant())

    def action_next(self) -> None:
        if self.following is None:
            self.notify("Every lesson of the course is done; p shows them all.")
            return
        # a drill goes on drilling; after learning, a review or an exam, the next one is learnt
        self.post_message(OpenLesson(self.following, "drill" if self.mode == "drill" else "learn"))

    def action_picker(self) -> None:
        self.post_message(ShowLessons())
