"""The quiz screen: the network, the history, the info panel and the answer prompt.

It only renders what the ``QuizSession`` reports and forwards the learner's actions to it.
The first prompt is painted from the lesson alone; the session (NumPy, the engine, the plan)
is built in a worker thread just after, so start-up stays close to a bare Textual app.
The history, the panel and the footer are mounted just after that paint (Textual's
``Lazy``); the screen holds them from the start, so that it can fill them before then.
Everything an answer changes has a fixed size and is updated with ``layout=False``: an
answer repaints a few lines and never lays the screen out again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.geometry import Size
from textual.lazy import Lazy
from textual.message import Message
from textual.widgets import Footer, Input, Static

from tutor.drawing import current_values, diagram_room
from tutor.formula import ASCII, UNICODE
from tutor.grading.breakdown import as_rich, breakdown
from tutor.grading.hints import hints_upto
from tutor.grading.verdict import CARRIED, CORRECT, INCORRECT, INVALID, Verdict
from tutor.names import label_for
from tutor.opening import Opening, welcome_back
from tutor.plan.steps import Step
from tutor.progress.records import DONE, REVEALED, TODO
from tutor.textmode import reflow, safe_text, to_ascii
from tutor.tolerance import TINY_FIGURES
from tutor.ui.messages import LessonFinished, ShowLessons
from tutor.ui.screens.base import TutorScreen
from tutor.ui.screens.graph import GraphScreen
from tutor.ui.screens.help import HelpScreen
from tutor.ui.widgets.answer import AnswerInput
from tutor.ui.widgets.history import History
from tutor.ui.widgets.network import NetworkDiagram
from tutor.ui.widgets.panel import InfoPanel
from tutor.ui.widgets.status import StatusBar

if TYPE_CHECKING:
    from tutor.session import QuizSession


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


class QuizScreen(TutorScreen):
    BINDINGS = [
        Binding("f1,ctrl+g", "help", "Help", key_display="F1", priority=True),
        Binding("f2,ctrl+t", "hint", "Hint", key_display="F2", priority=True),
        Binding("f3,ctrl+b", "breakdown", "Breakdown", key_display="F3", priority=True),
        Binding("f4,ctrl+r", "reveal", "Reveal", key_display="F4", priority=True),
        Binding("f5,ctrl+n", "skip", "Skip", key_display="F5", priority=True),
        Binding("f6,ctrl+o", "back", "Back", key_display="F6", priority=True),
        Binding("f7,ctrl+y", "forward", "Fwd", key_display="F7", show=False, priority=True),
        Binding("f8,ctrl+p", "graph", "Graph", key_display="F8", priority=True),
        Binding("f9,ctrl+l", "lessons", "Lessons", key_display="F9", show=False, priority=True),
        Binding("up", "back", "Back", show=False),
        Binding("down", "forward", "Forward", show=False),
        # in an exam the helps above are hidden and these say why they do nothing
        Binding("f2,ctrl+t", "refused('hint')", show=False, priority=True),
        Binding("f3,ctrl+b", "refused('breakdown')", show=False, priority=True),
        Binding("f4,ctrl+r", "refused('reveal')", show=False, priority=True),
        Binding("f6,ctrl+o", "refused('back')", show=False, priority=True),
    ]
    #: the keys an exam turns off until its end (the footer shows only the keys that work)
    EXAM_OFF = frozenset(("hint", "breakdown", "reveal", "back", "forward"))
    EXAM_REFUSALS = {
        "hint": "No hints during an exam; they come back at the end.",
        "breakdown": "No breakdowns during an exam; they come back at the end.",
        "reveal": "No reveals during an exam.",
        "back": "No looking back at steps during an exam; their breakdowns come back at the end.",
    }

    def __init__(
        self,
        opening: Opening,
        clock: Callable[[], float],
        *,
        ascii_only: bool = False,
        blink: bool = True,
    ):
        """The session is made from ``opening`` (with ``clock``) after the first paint."""
        super().__init__()
        self.opening = opening
        self.lesson = opening.lesson
        self.mode = opening.mode
        self.clock = clock
        self.session: QuizSession | None = None
        self.ascii_only = ascii_only
        self.blink = blink
        self.style = ASCII if ascii_only else UNICODE
        self.browsing: str | None = None  # step id selected in the history, if any
        self.reveal_armed: str | None = None
        self.early_answer: str | None = None  # sent before the session was ready
        self.history = History(id="history")
        # wide enough for an answer and a value to the decimals asked, never cut
        self.history.styles.width = History.width_for(self.lesson.quiz.decimals)
        self.panel = InfoPanel(id="panel")

    # --- layout
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield NetworkDiagram(id="diagram")
        yield Lazy(Horizontal(self.history, self.panel, id="middle"))
        with Horizontal(id="prompt"):
            yield Static(id="step-label", markup=False)
            yield AnswerInput(id="answer", placeholder=self.placeholder())
        yield Static(id="feedback", markup=False)
        yield Lazy(Footer())

    def placeholder(self, step: Step | None = None) -> str:
        """What the empty answer box asks for: a tiny value is asked to significant figures."""
        tol = self.lesson.quiz.tolerance_for(step.id) if step is not None else None
        if step is not None and tol is not None and tol.tiny(step.value):
            return f"{TINY_FIGURES} significant figures with the sign, like 1.2e-5"
        # short enough for the box at the minimum width (48 columns with a long step label)
        return f"{self.lesson.quiz.decimals} decimals, or the arithmetic; Enter checks"

    def on_mount(self) -> None:
        answer = self.query_one("#answer", Input)
        answer.cursor_blink = self.blink
        answer.focus()
        self.status().show(self.lesson.title, (0, 0), 0, self.mode, self.ascii_only)
        if self.opening.seed is None:  # a variant's numbers are not drawn yet
            self.diagram().show(
                self.lesson.network, {}, set(), self.lesson.quiz.decimals, self.ascii_only
            )
        self.fit_diagram(self.app.size)
        first = self.opening.first_step
        if first is not None:
            self.query_one("#step-label", Static).update(self.prompt_label(first))
        intro = self.lesson.intro.strip() or "Work through the steps in order."
        # how to answer comes first: the intro's own words on it may be below the fold
        first = f"Answer each step to {self.lesson.quiz.decimals} decimals. F1 shows every key."
        if self.mode == "exam":
            first = (
                f"Exam on {self.opening.numbers}: no hints, no method text, three attempts "
                f"a step. Answer each step to {self.lesson.quiz.decimals} decimals."
            )
        self.show_panel("About this lesson", first + "\n\n" + reflow(intro))
        if self.opening_words():
            self.feedback(self.opening_words())
        # after the first paint, so that loading NumPy does not delay the prompt
        self.call_after_refresh(self.prepare)

    @work(thread=True, exclusive=True, group="prepare")
    def prepare(self) -> None:
        """In a worker thread: import NumPy, run the engine, build the plan and session."""
        try:
            session = self.opening.session(self.clock)
        except Exception as err:  # noqa: BLE001 - shown to the learner, never a traceback
            self.app.call_from_thread(self.feedback, f"This lesson could not be prepared: {err}")
            return
        self.app.call_from_thread(self.attach, session)

    def attach(self, session: QuizSession) -> None:
        self.session = session
        # wide enough for every label of this lesson, set once: no re-layout per step
        widest = max(len(s.id if self.ascii_only else s.label) for s in session.plan) + 4
        self.query_one("#step-label", Static).styles.width = min(widest, 40)
        self.refresh_all()
        greeting = welcome_back(session, self.opening.saved)
        words = " ".join(filter(None, (self.opening_words(), greeting)))
        if words:
            self.feedback(words)
        if session.complete:
            self.post_message(LessonFinished(session))
        elif self.early_answer is not None:  # sent while the lesson was being prepared
            text, self.early_answer = self.early_answer, None
            box = self.query_one("#answer", Input)
            current = session.current
            if current is not None and current.id == self.opening.first_step:
                self.submit(box, text)
            else:  # not the prompt the learner answered: the text stays in the box
                self.feedback("Check the step above, then press Enter.")

    def opening_words(self) -> str:
        """Why the lesson did not open as asked (an exam under way), for the feedback line:
        where the learner looks, not a toast over the answer box."""
        words = []
        if self.opening.refused is not None:
            words.append(self.opening.refused + " Here is your exam, where you left it.")
        if self.opening.notice is not None:
            words.append(self.opening.notice)
        return " ".join(words)

    @property
    def exam_locked(self) -> bool:
        """An exam under way: no helps, no method text, until its end."""
        if self.session is not None:
            return not self.session.helps_allowed
        return self.mode == "exam"

    @property
    def hints_on(self) -> bool:
        """Hints work: outside an exam, after it, or in an exam whose class allows them."""
        if self.session is not None:
            return self.session.hints_allowed
        return not self.exam_locked or self.opening.exam_hints

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """In an exam the helps are off (hidden from the footer, their keys answered by
        ``refused``); otherwise as every screen (nothing while the terminal is too small)."""
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        if action == "hint" and self.hints_on:
            return True  # an exam that allows hints
        if action in self.EXAM_OFF:
            return not self.exam_locked
        if action == "refused":
            return self.exam_locked and not (parameters[:1] == ("hint",) and self.hints_on)
        return allowed

    def action_refused(self, what: str) -> None:
        self.feedback(self.EXAM_REFUSALS.get(what, "Not during an exam."))

    # --- widgets
    def status(self) -> StatusBar:
        return self.query_one("#status", StatusBar)

    def diagram(self) -> NetworkDiagram:
        return self.query_one("#diagram", NetworkDiagram)

    # --- rendering
    def text(self, s: str) -> str:
        return to_ascii(s) if self.ascii_only else s

    def label_of(self, step_id: str) -> str:
        return step_id if self.ascii_only else label_for(step_id)

    def prompt_label(self, step_id: str) -> Text:
        return Text(self.label_of(step_id) + " =", style="bold")

    def refresh_all(self) -> None:
        s = self.session
        if s is None:
            return
        step = s.current
        lesson = s.plan.lesson
        self.status().show(
            lesson.title, s.position(), s.score, self.mode, self.ascii_only, self.status_extra(s)
        )
        highlight = set(step.involves) if step else set()
        known = current_values(s.learner_values(), step.tag if step else "")
        self.diagram().show(lesson.network, known, highlight, lesson.quiz.decimals, self.ascii_only)
        # only steps the learner has reached are made yet (a lazy plan), so plan.steps suffices
        records = s.records
        rows = [
            (st.id, records[st.id], st.value)
            for st in s.plan.steps[: s.frontier]
            if records[st.id].status != TODO
        ]
        self.history.set_rows(
            rows,
            lesson.quiz.decimals,
            self.ascii_only,
            follow_end=self.browsing is None,
            labels=None if self.ascii_only else label_for,
        )
        label = Text("Lesson complete") if step is None else self.prompt_label(step.id)
        self.query_one("#step-label", Static).update(label, layout=False)
        placeholder = self.placeholder(step)
        answer = self.query_one("#answer", Input)
        if answer.placeholder != placeholder:
            answer.placeholder = placeholder

    def status_extra(self, s: QuizSession) -> str:
        seed = s.plan.lesson.seed
        extra = f"seed {seed}" if seed is not None else ""
        if self.mode == "drill":
            minutes, seconds = divmod(int(s.elapsed()), 60)
            extra = f"streak {s.streak}  {minutes}:{seconds:02d}  {extra}".strip()
        return extra

    def feedback(self, message: str, verdict: str | None = None) -> None:
        style = FEEDBACK_STYLE.get(verdict or "", "")
        text = Text(self.text(safe_text(message, 600)), style=style)
        self.query_one("#feedback", Static).update(text, layout=False)  # a fixed height

    def show_panel(self, title: str, body: RenderableType | str, at_end: bool = False) -> None:
        self.panel.show(title, body, self.ascii_only, at_end)

    def show_step_panel(self, step: Step) -> None:
        if self.exam_locked:  # the method text would say how to work the step out
            body = Text("Exam: no hints, no method text.", style="dim")
            self.show_panel(self.label_of(step.id), body)
            return
        title = step.phase_title
        self.show_panel(title, Text(self.text(step.meaning), style="dim"))

    # --- events
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.session is None:  # checked as soon as the session is ready
            self.early_answer = event.value
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
        read_as = self.read_as(verdict, outcome.message) if verdict else ""
        if outcome.advanced:
            self._consume(box, value)
            self.browsing = None
            self.feedback(outcome.message + read_as, verdict.verdict if verdict else None)
            self.after_step()
            return
        if box.value == value:
            box.action_select_all()  # typing replaces the wrong answer; arrows edit it
        hints_on = self.session.hints_allowed
        extra = "  (F2: hint)" if verdict and verdict.verdict == INCORRECT and hints_on else ""
        self.feedback(outcome.message + extra + read_as, verdict.verdict if verdict else None)
        if outcome.hint:
            self.show_hints(step.id)
        self.refresh_all()

    def read_as(self, verdict: Verdict, message: str) -> str:
        """An answer with names: what it was read as, on its own line under the verdict. Where
        the three rows would not hold it, only its numbers and result (the names are the
        learner's own typing), so the result is not the part cut off."""
        if not verdict.understood:
            return ""
        width = max(20, self.query_one("#feedback", Static).content_size.width)
        rows = -(-len(message) // width)
        line = verdict.understood
        if rows + -(-len(line) // width) > 3 and line.count(" = ") == 2:
            line = line.split(" = ", 1)[1]
        return "\n" + line

    @staticmethod
    def _consume(box: Input, submitted: str) -> None:
        """Remove the submitted answer, keeping anything typed after Enter (fast typists)."""
        box.value = box.value[len(submitted) :] if box.value.startswith(submitted) else box.value

    def restore_focus(self) -> None:
        self.query_one("#answer", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.browsing is not None and event.value:
            self.browsing = None  # typing is about the current step again
            self.refresh_all()

    def on_resize(self, event: events.Resize) -> None:
        self.fit_diagram(event.size)
        self.refresh_all()

    def fit_diagram(self, size: Size) -> None:
        """Give the diagram what the other rows leave, and ``DIAGRAM_ROWS`` if listing weights
        two a line makes it fit (``tutor.drawing.diagram_room``, which `tutor check` uses)."""
        room, goal, width = diagram_room(size.width, size.height)
        net, decimals = self.lesson.network, self.lesson.quiz.decimals
        self.diagram().fix_height(net, room, goal, width, decimals, self.ascii_only)

    def after_step(self) -> None:
        self.refresh_all()
        assert self.session is not None
        if self.session.complete:
            self.post_message(LessonFinished(self.session))
            return
        step = self.session.current
        if step is not None:
            self.show_step_panel(step)

    def show_hints(self, step_id: str) -> None:
        assert self.session is not None
        plan = self.session.plan
        level = self.session.records[step_id].hint_level
        learner = self.session.learner_values()
        texts = hints_upto(plan, plan[step_id], level, learner, self.style)
        body = Text()
        if level >= 3 and self.session.helps_allowed:
            body.append("Still stuck? F4 reveals the answer.\n", style="dim")
        for k, t in reversed(list(enumerate(texts, start=1))):  # the newest hint first
            body.append(f"Hint {k}: ", style="bold")
            body.append(self.text(safe_text(t)) + "\n")
        self.show_panel(f"Hints for {self.label_of(step_id)}", body)

    # --- actions
    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.ascii_only))

    def action_hint(self) -> None:
        step = self.session.current if self.session is not None else None
        if self.session is None or step is None:
            return
        outcome = self.session.next_hint()
        self.feedback(outcome.message)
        if self.session.hints_allowed:
            self.show_hints(step.id)

    def action_breakdown(self) -> None:
        s = self.session
        if s is None:
            return
        if not s.helps_allowed:
            self.feedback("No breakdowns during an exam; they come back at the end.")
            return
        step_id = self.browsing or (s.current.id if s.current else None)
        if step_id is None:
            return
        self.feedback("")
        b = breakdown(s.plan, step_id, s.learner_values(), self.style)
        name = self.label_of(step_id)
        if s.records[step_id].status in DONE:
            self.show_panel(f"Breakdown of {name}", as_rich(b))
            return
        # the current step: the chain and its known factors, but not the answer
        body = Text(f"{name} = {s.plan[step_id].formula.render(self.style)}\n", style="bold")
        for f in b.factors:
            body.append(f"  {f.label} = {f.value}\n")
        body.append("\nThe value of this step is left for you.", style="dim")
        self.show_panel(f"Breakdown of {name}", body)

    def action_reveal(self) -> None:
        step = self.session.current if self.session is not None else None
        if self.session is None or step is None:
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
        self.query_one("#answer", Input).value = ""
        self.feedback(outcome.message, REVEALED if outcome.advanced else None)  # or not saved
        self.after_step()

    def action_skip(self) -> None:
        if self.session is None:
            return
        outcome = self.session.skip()
        self.reveal_armed = None
        self.query_one("#answer", Input).value = ""
        self.feedback(outcome.message)
        self.after_step()

    def action_graph(self) -> None:
        """The network as a graph, full screen, with the learner's values and this step."""
        s = self.session
        if s is None:
            self.feedback("One moment: the lesson is being prepared…")
            return
        step = s.current
        lesson = s.plan.lesson  # a variant's numbers, not the file's
        screen = GraphScreen(
            lesson.network,
            current_values(s.learner_values(), step.tag if step else ""),
            set(step.involves) if step else set(),
            lesson.quiz.decimals,
            step=self.label_of(step.id) if step else None,
            expected=s.plan.index_of,
            ascii_only=self.ascii_only,
        )
        self.app.push_screen(screen)

    def action_lessons(self) -> None:
        self.post_message(ShowLessons())

    def action_back(self) -> None:
        self.move_history(-1)

    def action_forward(self) -> None:
        self.move_history(+1)

    def move_history(self, delta: int) -> None:
        table = self.history
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
