"""The side panel: the lesson intro, hints, and the chain-rule breakdown of any step."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from tutor.textmode import safe_text, to_ascii


class InfoPanel(VerticalScroll):
    """Scrollable; its content is always Text or a Rich renderable built from Text."""

    DEFAULT_CSS = """
    InfoPanel { height: 1fr; padding: 0 1; scrollbar-gutter: stable; scrollbar-size-vertical: 1; }
    InfoPanel > Static { width: 1fr; min-height: 100%; }
    """

    class Ready(Message):
        """Posted once mounted (the quiz screen mounts the panel lazily)."""

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self._tallest = (0, 0)  # (width, height) of the tallest body at that width

    def compose(self):
        self.body = Static(id="panel-body")
        yield self.body

    def on_mount(self) -> None:
        self.post_message(self.Ready())

    def on_resize(self) -> None:
        """A new size lays the screen out anyway: the body starts again at the panel's height."""
        self._tallest = (0, 0)
        self.body.styles.min_height = "100%"

    def show(
        self, title: str, body: RenderableType | str, ascii_only: bool = False, at_end: bool = False
    ) -> None:
        if isinstance(body, str):
            text = safe_text(body, 20_000)
            body = Text(to_ascii(text) if ascii_only else text)
        heading = Text(to_ascii(title) if ascii_only else title, style="bold underline")
        if isinstance(body, Text):  # one Text draws faster than a Group of Rich renderables
            content: RenderableType = Text.assemble(heading, "\n", body)
        else:
            content = Group(heading, body)
        self._update_body(content)
        if at_end:
            self.call_after_refresh(self.scroll_end, animate=False)
        else:
            self.scroll_home(animate=False)

    def _update_body(self, content: RenderableType) -> None:
        """Replace the text, re-laying-out the screen only if the body must grow. A layout
        is most of the cost of an answer (and when the panel's scrollbar comes or goes, it
        takes three frames), so the body is at least as tall as the panel, and at least as
        tall as the tallest text shown at this width: after the first few steps every text
        fits. A shorter text leaves blank lines below it, within the scrolled area."""
        body = self.body
        width = body.content_region.width
        if not width:  # not laid out yet
            body.update(content)
            return
        body.update(content, layout=False)
        height = body.get_content_height(body.size, self.size, width) + body.styles.gutter.height
        # min-height 100%: any text shorter than the panel takes the panel's height
        height = max(height, self.scrollable_content_region.height)
        tallest_width, tallest = self._tallest
        if tallest_width == width:
            height = max(height, tallest)
        self._tallest = (width, height)
        if height != body.outer_size.height:
            body.styles.min_height = height
            body.refresh(layout=True)
