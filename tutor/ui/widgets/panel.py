"""The side panel: the lesson intro, hints, and the chain-rule breakdown of any step."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tutor.textmode import safe_text, to_ascii

SLACK = 12  # blank lines the body may keep under a text rather than re-lay-out the screen


class InfoPanel(VerticalScroll):
    """Scrollable; its content is always Text or a Rich renderable built from Text."""

    DEFAULT_CSS = """
    InfoPanel {
        height: 1fr; padding: 0 1;
        /* the scrollbar's column is kept: its coming and going re-wrapped the text */
        scrollbar-gutter: stable; scrollbar-size-vertical: 1;
    }
    InfoPanel > Static { width: 1fr; min-height: 100%; }
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.body = Static(id="panel-body", markup=False)
        self._kept = (0, 0)  # (width, height) the body was given for the last text

    def compose(self) -> ComposeResult:
        yield self.body

    def on_resize(self) -> None:
        """A new size lays the screen out anyway: the body starts again at the panel's height."""
        self._kept = (0, 0)
        self.body.styles.min_height = "100%"

    def show(
        self, title: str, body: RenderableType | str, ascii_only: bool = False, at_end: bool = False
    ) -> None:
        self._update_body(self.content(title, body, ascii_only))
        if at_end:
            self.call_after_refresh(self.scroll_end, animate=False)
        else:
            self.scroll_home(animate=False)

    @staticmethod
    def content(title: str, body: RenderableType | str, ascii_only: bool) -> RenderableType:
        """The title over the body."""
        if isinstance(body, str):
            text = safe_text(body, 20_000)
            body = Text(to_ascii(text) if ascii_only else text)
        heading = Text(to_ascii(title) if ascii_only else title, style="bold underline")
        if isinstance(body, Text):
            return Text.assemble(heading, "\n", body)
        return Group(heading, body)

    def _update_body(self, content: RenderableType) -> None:
        """Replace the text, re-laying-out the screen only if the body's height must change.
        A layout is most of the cost of an answer, so the body keeps its height when that
        is at most ``SLACK`` lines (or a panel) more than the text needs: texts of about the
        same length (the steps of a lesson in a small panel) go by without a layout, and no
        text is followed by more than that many blank lines (not a long breakdown's worth)."""
        body = self.body
        width = body.content_region.width
        body.update(content, layout=not width)  # before the first layout, it is laid out then
        if not width:
            return
        height = body.get_content_height(body.size, self.size, width) + body.styles.gutter.height
        panel = self.scrollable_content_region.height
        height = max(height, panel)  # min-height 100%
        kept_width, kept = self._kept
        if kept_width == width and height < kept <= height + max(panel, SLACK):
            height = kept
        self._kept = (width, height)
        if height != body.outer_size.height:
            body.styles.min_height = height
            body.refresh(layout=True)
