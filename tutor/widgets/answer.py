"""The answer box: a Textual Input that never asks for a re-layout of the screen, and that
repaints only its line of text when that text changes."""

from __future__ import annotations

from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.widgets import Input
from textual.widgets.input import Selection


class AnswerInput(Input):
    """Textual's Input keeps its text's width as its virtual (scrollable) size, a reactive that
    re-lays-out the whole screen when it changes: when an answer is cleared and again at the
    first key of the next. This box's size is fixed by CSS, so that layout is pure cost on the
    path from Enter to feedback. Scrolling within a long answer still uses the virtual size.

    Its text, cursor, selection and blink also repaint the whole box, border lines included,
    although only the line of text changes: here they repaint that line alone (a key, a
    cleared answer and each blink cost a third as many lines to draw and to send)."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)
    value: Reactive[str] = Reactive("", init=False, repaint=False)
    selection: Reactive[Selection] = Reactive(Selection.cursor(0), repaint=False)
    _cursor_visible: Reactive[bool] = Reactive(True, repaint=False)
    _suggestion: Reactive[str] = Reactive("", repaint=False)

    def watch_value(self) -> None:
        self._repaint_text()

    def watch_selection(self) -> None:
        self._repaint_text()

    def watch__cursor_visible(self) -> None:
        self._repaint_text()

    def watch__suggestion(self) -> None:
        self._repaint_text()

    def _repaint_text(self) -> None:
        self.refresh(Region(0, 0, self.size.width, 1))
