"""A one-line title that is drawn again on its own when its text changes: the dashboard's
clock moves every second, and a ``Static`` would lay the whole screen out again each time."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TitleLine(Widget):
    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.text = Text()

    def show(self, text: Text) -> None:
        if text.plain != self.text.plain or text.spans != self.text.spans:
            self.text = text
            self.refresh()  # one line repainted; nothing else moves

    def render(self) -> Text:
        return self.text
