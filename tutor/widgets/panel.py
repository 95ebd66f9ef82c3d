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
    InfoPanel { height: 1fr; padding: 0 1; }
    InfoPanel > Static { width: 1fr; }
    """

    class Ready(Message):
        """Posted once mounted (the quiz screen mounts the panel lazily)."""

    def compose(self):
        yield Static(id="panel-body")

    def on_mount(self) -> None:
        self.post_message(self.Ready())

    def show(
        self, title: str, body: RenderableType | str, ascii_only: bool = False, at_end: bool = False
    ) -> None:
        if isinstance(body, str):
            text = safe_text(body, 20_000)
            body = Text(to_ascii(text) if ascii_only else text)
        heading = Text(to_ascii(title) if ascii_only else title, style="bold underline")
        self.query_one("#panel-body", Static).update(Group(heading, body))
        if at_end:
            self.call_after_refresh(self.scroll_end, animate=False)
        else:
            self.scroll_home(animate=False)
