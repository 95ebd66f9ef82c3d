"""The top line: lesson title, progress k/N and score."""

from __future__ import annotations

from rich.text import Text

from tutor.textmode import safe_text, to_ascii
from tutor.widgets.textlines import TextLines


class StatusBar(TextLines):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $primary; color: $text; padding: 0 1; }
    """

    def show(self, *args, **kwargs) -> None:
        """Show the line for ``line``'s arguments."""
        self.update(self.line(*args, **kwargs))  # one line, always: no re-layout of the screen

    def prepare_line(self, *args, **kwargs) -> None:
        """Draw ahead of time the line for ``line``'s arguments (see ``TextLines.prepare``)."""
        self.prepare(self.line(*args, **kwargs))

    def line(
        self,
        title: str,
        position: tuple[int, int],
        score: float,
        mode: str = "learn",
        ascii_only: bool = False,
        extra: str = "",
    ) -> Text:
        """Title on the left (cut to fit), then step k/N, the score and the mode."""
        k, n = position
        right = f"  step {k}/{n}  score {score:g}"
        if extra:
            right += f"  {extra}"
        if mode != "learn":
            right += f"  [{mode}]"
        width = self.size.width or self.app.size.width or 80
        room = max(10, width - len(right) - 2)
        title = safe_text(title, 200).replace("\n", " ")
        if ascii_only:
            title = to_ascii(title)
        if len(title) > room:
            ellipsis = "..." if ascii_only else "…"
            title = title[: room - len(ellipsis)] + ellipsis
        text = Text(title, style="bold")
        text.append(" " * max(1, room - len(title)))
        text.append(right)
        return text
