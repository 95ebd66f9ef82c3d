"""The answer box: a Textual Input that never asks for a re-layout of the screen, and that
repaints only its line of text when that text changes."""

from __future__ import annotations

from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.strip import Strip
from textual.widgets import Input
from textual.widgets.input import Selection


class AnswerInput(Input):
    """Textual's Input keeps its text's width as its virtual (scrollable) size, a reactive that
    re-lays-out the whole screen when it changes: when an answer is cleared and again at the
    first key of the next. This box's size is fixed by CSS, so that layout is pure cost on the
    path from Enter to feedback. Scrolling within a long answer still uses the virtual size.

    Its text, cursor, selection and blink also repaint the whole box, border lines included,
    although only the line of text changes: here they repaint that line alone (a key, a
    cleared answer and each blink cost a third as many lines to draw and to send).

    The empty box, shown after every right answer, is drawn once and kept."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)
    value: Reactive[str] = Reactive("", init=False, repaint=False)
    selection: Reactive[Selection] = Reactive(Selection.cursor(0), repaint=False)
    _cursor_visible: Reactive[bool] = Reactive(True, repaint=False)
    _suggestion: Reactive[str] = Reactive("", repaint=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._empty_line: tuple[tuple, Strip] | None = None

    def render_line(self, y: int) -> Strip:
        """The empty box's text line is the same after every answer, and drawing it costs
        Textual's Input a Rich render: it is kept until its size, focus, blink, placeholder
        or any style changes (Textual's ``Log`` keeps its lines the same way)."""
        if y != 0 or self.value:
            return super().render_line(y)
        key = (
            self._cursor_visible,
            self.has_focus,
            self.size.width,
            self.placeholder,
            # Textual may restyle these parts without notify_style_update
            self.get_component_rich_style("input--cursor"),
            self.get_component_rich_style("input--placeholder"),
        )
        if self._empty_line is None or self._empty_line[0] != key:
            self._empty_line = (key, super().render_line(0))
        return self._empty_line[1]

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._empty_line = None

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
