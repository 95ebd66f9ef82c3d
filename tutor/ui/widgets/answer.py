"""The answer box: a Textual Input that never asks for a layout of the screen."""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class AnswerInput(Input):
    """Textual's Input keeps its text's width as its virtual (scrollable) size, a reactive that
    lays the whole screen out again when it changes: when an answer is cleared and again at
    the first key of the next. This box's size is fixed by CSS, so that layout is pure cost on
    the path from Enter to feedback. Scrolling within a long answer still uses the virtual
    size."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
