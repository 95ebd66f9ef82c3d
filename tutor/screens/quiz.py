"""The quiz screen: the network, the history, the info panel and the answer prompt.

It only renders what the ``QuizSession`` reports and forwards the learner's actions to it.
The first prompt is painted from the lesson alone; the session (NumPy, the engine, the plan)
is built in a worker thread and attached a moment later, so start-up stays close to a bare
Textual app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.lazy import Lazy
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Footer, Input

from tutor.lesson import Lesson
from tutor.names import PHASE_TITLES, label_for
from tutor.records import CARRIED, CORRECT, DONE, INCORRECT, INVALID
from tutor.screens.base import TutorScreen
from tutor.textmode import reflow, safe_text, to_ascii
from tutor.widgets.answer import AnswerInput
from tutor.widgets.history import History
from tutor.widgets.network import NetworkDiagram
from tutor.widgets.panel import InfoPanel
from tutor.widgets.status import StatusBar
from tutor.widgets.textlines import TextLines

W = TypeVar("W", bound=Widget)

if TYPE_CHECKING:
    from textual.timer import Timer

    from tutor.grading.grade import Verdict
    from tutor.plan import Step
    from tutor.session import QuizSession

# the rows under and over the diagram (app.tcss): the status line, the history and the panel
# at their smallest (#middle's min-height), the prompt, the feedback and the footer
OTHER_ROWS = 1 + 5 + 3 + 3 + 1
# seconds after an answer to draw what the next right answer shows: its frame is painted by
# then, and the learner has not typed the next answer yet
DRAW_AHEAD_AFTER = 0.1

FEEDBACK_STYLE = {
    CORRECT: "bold green",
    CARRIED: "bold yellow",
    INCORRECT: "bold red",
    INVALID: "bold magenta",
}


class AnswerGraded(Message):
    """Posted after every graded answer, so tests and recorders can follow the quiz."""

    def __init__(self, step_id: str, verdict: Verdict):
        super().__init__()
        self.step_id = step_id
        self.verdict = verdict


class LessonFinished(Message):
    """Posted when the last step is done."""


class QuizScreen(TutorScreen):
    BINDINGS = [
        Binding("f1,ctrl+g", "help", "Help", key_display="F1", priority=True),
        Binding("f2,ctrl+t", "hint", "Hint", key_display="F2", priority=True),
        Binding("f3,ctrl+b", "breakdown", "Breakdown", key_display="F3", priority=True),
        Binding("f4,ctrl+r", "reveal", "Reveal", key_display="F4", priority=True),
        Binding("f5,ctrl+n", "skip", "Skip", key_display="F5", priority=True),
        Binding("f6,ctrl+o", "back", "Back", key_display="F6", priority=True),
        Binding("f7,ctrl+y", "forward", "Fwd", key_display="F7", show=False, priority=True),
        Binding("f9,ctrl+l", "lessons", "Lessons", key_display="F9", show=False, priority=True),
        Binding("up", "back", "Back", show=False),
        Binding("down", "forward", "Forward", show=False),
    ]

    def __init__(
        self,
        lesson: Lesson,
        first_step: str | None,
        build: Callable[[], QuizSession],
        *,
        ascii_only: bool = False,
        blink: bool = True,
        mode: str = "learn",
        preview: bool = True,
    ):
        """``preview``: the lesson's own numbers may be drawn before the session is ready
        (not for a variant, whose numbers are still being drawn).

        ``build`` makes the session (slow: it runs in a worker); ``first_step`` is the id
        of the step to ask first, so that its prompt can be shown before that."""
        super().__init__()
        self.lesson = lesson
        self.first_step = first_step
        self.build = build
        self.session: QuizSession | None = None
        self.plan = None
        self.pending: str | None = None  # an answer typed before the session was ready
        self._widgets: dict[str, Widget] = {}
        self.preview = preview
        self.panel_pending: tuple | None = None
        self.ascii_only = ascii_only
        self.blink = blink
        self.mode = mode
        self.browsing: str | None = None  # step id selected in the history, if any
        self.reveal_armed: str | None = None
        self._ahead: Timer | None = None

    # --- layout
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield NetworkDiagram(id="diagram")
        # the table and the panel are mounted just after the first paint (Lazy)
        yield Lazy(Horizontal(History(id="history"), InfoPanel(id="panel"), id="middle"))
        with Horizontal(id="prompt"):
            yield TextLines(id="step-label")
            yield AnswerInput(id="answer", placeholder=self.placeholder())
        yield TextLines(id="feedback")
        yield Lazy(Footer())

    def placeholder(self) -> str:
        return f"a number to {self.lesson.quiz.decimals} decimals, or the arithmetic (Enter checks)"

    def on_mount(self) -> None:
        answer = self._one("#answer", Input)
        answer.cursor_blink = self.blink
        answer.focus()
        self._one("#status", StatusBar).show(
            self.lesson.title, (0, 0), 0, self.mode, self.ascii_only
        )
        if self.preview:
            self._one("#diagram", NetworkDiagram).show(
                self.lesson.network, {}, set(), self.lesson.quiz.decimals, self.ascii_only
            )
        self.fit_diagram(self.app.size.height)
        if self.first_step is not None:
            name = self.first_step if self.ascii_only else label_for(self.first_step)
            self._one("#step-label", TextLines).update(Text(name + " =", style="bold"))
        intro = self.lesson.intro.strip() or "Work through the steps in order."
        self.show_panel("About this lesson", reflow(intro) + "\n\nF1 shows every key.")
        # after the first paint, so that loading NumPy does not delay the prompt
        self.call_after_refresh(
            self.run_worker, self._prepare, thread=True, exclusive=True, group="prepare"
        )

    def _prepare(self) -> None:
        """In a worker thread: import NumPy, run the engine, build the plan and session."""
        try:
            session = self.build()
        except Exception as err:  # noqa: BLE001 - shown to the learner, never a traceback
            from tutor.engine_process import Stopped

            if not isinstance(err, Stopped):  # Stopped: the tutor is closing
                self.app.call_from_thread(
                    self.feedback, f"This lesson could not be prepared: {err}"
                )
            return
        self.app.call_from_thread(self.attach, session)

    def attach(self, session: QuizSession) -> None:
        self.session = session
        self.plan = session.plan
        # wide enough for every label of this lesson, set once: no re-layout per step
        widest = max(len(s.id if self.ascii_only else s.label) for s in session.plan) + 4
        self._one("#step-label", TextLines).styles.width = min(widest, 40)
        self.app.session = session  # type: ignore[attr-defined]
        self.refresh_all()
        if session.complete:
            self.app.call_later(self.app.show_summary, session)  # type: ignore[attr-defined]
            return
        if self.pending is not None:
            text, self.pending = self.pending, None
            box = self._one("#answer", Input)
            current = session.current
            if current is not None and current.id == self.first_step:
                self.submit(box, text)
            else:  # the prompt the learner answered is not the one being asked: keep the text
                box.value = text
                self.feedback("Check the step above, then press Enter.")

    # --- widgets, found once: a DOM query per widget per answer costs more than the answer
    def _one(self, selector: str, kind: type[W]) -> W:
        widget = self._widgets.get(selector)
        if widget is None:
            widget = self._widgets[selector] = self.query_one(selector, kind)
        return widget  # type: ignore[return-value]

    def _lazy(self, kind: type[W]) -> W | None:
        """A widget mounted lazily (after the first paint), or None while it is not there."""
        widget = self._widgets.get(kind.__name__)
        if widget is None:
            found = self.query(kind)
            if not found:
                return None
            widget = self._widgets[kind.__name__] = found.first()
        return widget  # type: ignore[return-value]

    # --- rendering
    def text(self, s: str) -> str:
        return to_ascii(s) if self.ascii_only else s

    def label_of(self, step_id: str) -> str:
        return step_id if self.ascii_only else label_for(step_id)

    def refresh_all(self) -> None:
        s = self.session
        if s is None:
            return
        step = s.current
        self._one("#status", StatusBar).show(
            self.plan.lesson.title,
            s.position(),
            s.score,
            self.mode,
            self.ascii_only,
            self.status_extra(),
        )
        highlight = set(step.involves) if step else set()
        self._one("#diagram", NetworkDiagram).show(
            self.plan.lesson.network,
            s.learner_values(),
            highlight,
            self.plan.lesson.quiz.decimals,
            self.ascii_only,
        )
        # only steps the learner has reached are made yet (a lazy plan), so plan.steps suffices
        records = s.records
        rows = [
            (st.id, records[st.id], st.value)
            for st in self.plan.steps[: s.frontier]
            if records[st.id].status != "todo"
        ]
        labels = None if self.ascii_only else label_for
        history = self._lazy(History)
        if history is None:
            return  # mounted lazily; InfoPanel.Ready refreshes again
        history.set_rows(
            rows,
            self.plan.lesson.quiz.decimals,
            self.ascii_only,
            follow_end=self.browsing is None,
            labels=labels,
        )
        label = self._one("#step-label", TextLines)
        if step is None:
            label.update(Text("Lesson complete"))
        else:  # its size is fixed (set once in attach): no re-layout of the screen
            label.update(self.prompt_label(step.id))
        # a timer, not call_after_refresh: that can run before the frame it should follow
        if self._ahead is not None:
            self._ahead.stop()
        self._ahead = self.set_timer(DRAW_AHEAD_AFTER, self.draw_ahead, name="draw-ahead")

    def status_extra(self) -> str:
        s = self.session
        extra = f"seed {self.plan.lesson.seed}" if self.plan.lesson.seed is not None else ""
        if self.mode == "drill":
            minutes, seconds = divmod(int(s.elapsed()), 60)
            extra = f"streak {s.streak}  {minutes}:{seconds:02d}  {extra}".strip()
        return extra

    def prompt_label(self, step_id: str) -> Text:
        return Text(self.label_of(step_id) + " =", style="bold")

    def step_panel(self, step: Step) -> tuple[str, Text]:
        """The panel's title and text while ``step`` is asked."""
        return PHASE_TITLES.get(step.phase, step.phase), Text(self.text(step.meaning), style="dim")

    def draw_ahead(self) -> None:
        """Once the screen is painted, draw what a right answer would show next (the verdict,
        the status line, the prompt and the panel): it then costs no drawing after Enter. A
        wrong guess costs only the drawing it would have cost anyway."""
        s = self.session
        ahead = s.if_right() if s is not None and self.browsing is None else None
        if ahead is None:
            return
        step, position, score = ahead
        lesson = self.plan.lesson
        right = s.grader.correct_message(s.current)
        self._one("#feedback", TextLines).prepare(self.feedback_text(right, CORRECT))
        if self.mode != "drill":  # a drill's status line shows its clock: never the same
            self._one("#status", StatusBar).prepare_line(
                lesson.title, position, score, self.mode, self.ascii_only, self.status_extra()
            )
        self._one("#step-label", TextLines).prepare(self.prompt_label(step.id))
        panel = self._lazy(InfoPanel)
        if panel is not None:
            panel.prepare(*self.step_panel(step), self.ascii_only)

    def feedback(self, message: str, verdict: str | None = None) -> None:
        # a fixed height: no re-layout
        self._one("#feedback", TextLines).update(self.feedback_text(message, verdict))

    def feedback_text(self, message: str, verdict: str | None = None) -> Text:
        style = FEEDBACK_STYLE.get(verdict or "", "")
        return Text(self.text(safe_text(message, 600)), style=style)

    def show_panel(self, title: str, body, at_end: bool = False) -> None:
        panel = self._lazy(InfoPanel)
        if panel is None:  # not mounted yet (it is mounted lazily): shown when it arrives
            self.panel_pending = (title, body, at_end)
            return
        panel.show(title, body, self.ascii_only, at_end)

    def on_info_panel_ready(self, event: InfoPanel.Ready) -> None:
        if self.panel_pending is not None:
            title, body, at_end = self.panel_pending
            self.panel_pending = None
            self.show_panel(title, body, at_end)
        self.refresh_all()

    # --- events
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.session is None:
            self.pending = event.value
            self.feedback("One moment: the lesson is being prepared…")
            return
        self.submit(event.input, event.value)

    def submit(self, box: Input, value: str) -> None:
        assert self.session is not None
        step = self.session.current
        if step is None:
            return
        outcome = self.session.submit(value)
        verdict = outcome.verdict
        if verdict is not None:
            self.post_message(AnswerGraded(step.id, verdict))
        self.reveal_armed = None
        if outcome.advanced:
            self._consume(box, value)
            self.browsing = None
            self.feedback(outcome.message, verdict.verdict if verdict else None)
            self.after_step()
            return
        if box.value == value:
            box.action_select_all()  # typing replaces the wrong answer; arrows edit it
        hints_on = self.session.helps_allowed
        extra = "  (F2: hint)" if verdict and verdict.verdict == INCORRECT and hints_on else ""
        self.feedback(outcome.message + extra, verdict.verdict if verdict else None)
        if outcome.hint:
            self.show_hints(step.id)
        self.refresh_all()

    @staticmethod
    def _consume(box: Input, submitted: str) -> None:
        """Remove the submitted answer, keeping anything typed after Enter (fast typists)."""
        box.value = box.value[len(submitted) :] if box.value.startswith(submitted) else box.value

    def restore_focus(self) -> None:
        self._one("#answer", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.browsing is not None and event.value:
            self.browsing = None  # typing is about the current step again
            self.refresh_all()

    def on_resize(self, event: events.Resize) -> None:
        self.fit_diagram(event.size.height)
        self.refresh_all()

    def fit_diagram(self, screen_height: int) -> None:
        """Give the diagram what the other rows leave: the status line, the history and panel
        at their smallest, the prompt, the feedback and the footer (``OTHER_ROWS``)."""
        room = screen_height - OTHER_ROWS
        self._one("#diagram", NetworkDiagram).fix_height(self.lesson.network, room)

    def after_step(self) -> None:
        self.refresh_all()
        if self.session.complete:
            self.post_message(LessonFinished())
            self.app.call_later(self.app.show_summary, self.session)  # type: ignore[attr-defined]
            return
        step = self.session.current
        if step is not None:
            self.show_panel(*self.step_panel(step))

    def show_hints(self, step_id: str) -> None:
        from tutor.formula import ASCII, UNICODE
        from tutor.grading.hints import hints_upto

        step = self.plan[step_id]
        level = self.session.records[step_id].hint_level
        style = ASCII if self.ascii_only else UNICODE
        texts = hints_upto(self.plan, step, level, self.session.learner_values(), style)
        body = Text()
        if level >= 3:
            body.append("Still stuck? F4 reveals the answer.\n", style="dim")
        for k, t in reversed(list(enumerate(texts, start=1))):  # the newest hint first
            body.append(f"Hint {k}: ", style="bold")
            body.append(self.text(safe_text(t)) + "\n")
        self.show_panel(f"Hints for {self.label_of(step_id)}", body)

    # --- actions
    def action_help(self) -> None:
        from tutor.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.ascii_only))

    def action_hint(self) -> None:
        if self.session is None:
            return
        step = self.session.current
        if step is None:
            return
        outcome = self.session.next_hint()
        self.feedback(outcome.message)
        self.show_hints(step.id)

    def action_breakdown(self) -> None:
        from tutor.formula import ASCII, UNICODE
        from tutor.grading.breakdown import as_rich, breakdown

        if self.session is None:
            return
        if not self.session.helps_allowed:
            self.feedback("No breakdowns during an exam; they come back at the end.")
            return
        step_id = self.browsing or (self.session.current.id if self.session.current else None)
        if step_id is None:
            return
        self.feedback("")
        done = self.session.records[step_id].status in DONE
        style = ASCII if self.ascii_only else UNICODE
        b = breakdown(self.plan, step_id, self.session.learner_values(), style)
        name = self.label_of(step_id)
        if done:
            self.show_panel(f"Breakdown of {name}", as_rich(b))
            return
        # the current step: the chain and its known factors, but not the answer
        step = self.plan[step_id]
        body = Text(f"{name} = {step.formula.render(style)}\n", style="bold")
        for f in b.factors:
            body.append(f"  {f.label} = {f.value}\n")
        body.append("\nThe value of this step is left for you.", style="dim")
        self.show_panel(f"Breakdown of {name}", body)

    def action_reveal(self) -> None:
        if self.session is None:
            return
        step = self.session.current
        if step is None:
            return
        if self.reveal_armed != step.id:
            self.reveal_armed = step.id
            self.feedback(
                f"Press F4 (Ctrl+R) again to reveal {self.label_of(step.id)}; it will "
                "count as revealed, not correct."
            )
            return
        self.reveal_armed = None
        outcome = self.session.reveal()
        self._one("#answer", Input).value = ""
        self.feedback(outcome.message, "revealed")
        self.after_step()

    def action_skip(self) -> None:
        if self.session is None:
            return
        outcome = self.session.skip()
        self.reveal_armed = None
        self._one("#answer", Input).value = ""
        self.feedback(outcome.message)
        self.after_step()

    def action_lessons(self) -> None:
        self.app.show_picker()  # type: ignore[attr-defined]

    def action_back(self) -> None:
        self.move_history(-1)

    def action_forward(self) -> None:
        self.move_history(+1)

    def move_history(self, delta: int) -> None:
        table = self._lazy(History)
        if table is None:
            return
        if table.row_count == 0:
            self.feedback("No steps done yet.")
            return
        if self.browsing is None and delta > 0:
            return
        selected = table.move(delta)
        if selected is None:
            self.browsing = None
            self.feedback("Back at the current step.")
            self.after_step()
            return
        self.browsing = selected
        self.action_breakdown()
