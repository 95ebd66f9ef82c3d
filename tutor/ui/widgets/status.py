"""The top line: lesson title, progress k/N and score."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tutor.textmode import fit_title, safe_text, to_ascii


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $primary; color: $text; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id, markup=False)

    def show(
        self,
        title: str,
        position: tuple[int, int],
        score: float,
        mode: str = "learn",
        ascii_only: bool = False,
        extra: str = "",
    ) -> None:
        """Title on the left (cut to fit), then step k/N, the score and the mode. One line,
        always: no layout of the screen."""
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
        title = fit_title(title, room, "..." if ascii_only else "…")
        text = Text(title, style="bold")
        text.append(" " * max(1, room - len(title)))
        text.append(right)
        self.update(text, layout=False)
