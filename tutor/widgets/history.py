"""The steps done so far: verdict, step, the learner's answer and the value.

A light widget rather than a DataTable: it renders only the rows that fit, as one Text, so an
answer costs a frame of a few milliseconds even late in a long lesson.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widget import Widget

from tutor.numfmt import fmt_value
from tutor.records import StepRecord

MARKS = {
    "correct": ("✓", "ok", "green"),
    "failed": ("✗", "x", "red"),
    "carried": ("≈", "~", "yellow"),
    "revealed": ("shown", "shown", "magenta"),
    "shown": ("given", "given", "dim"),
    "skipped": ("skip", "skip", "dim"),
    "todo": ("", "", ""),
}

Row = tuple[str, str, str, str, str]  # mark, mark style, step, answer, value


class History(Widget):
    """Rows in plan order, with a cursor for looking back at earlier steps."""

    DEFAULT_CSS = """
    History { height: 1fr; min-width: 30; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.keys: list[str] = []
        self.data: dict[str, tuple[StepRecord, float]] = {}
        self.decimals, self.ascii_only, self.labels = 5, False, None
        self.cursor: int | None = None  # None: following the newest row

    @property
    def row_count(self) -> int:
        return len(self.keys)

    @property
    def selected(self) -> str | None:
        return self.keys[self.cursor] if self.cursor is not None and self.keys else None

    def set_rows(
        self,
        rows: list[tuple[str, StepRecord, float]],
        decimals: int,
        ascii_only: bool,
        follow_end: bool = True,
        labels: Callable[[str], str] | None = None,
    ) -> None:
        """Rows as (step id, record, true value), in plan order; ``labels`` maps an id to its
        display label. Cells are formatted only for the rows on screen, when drawn."""
        self.keys = [key for key, _, _ in rows]
        self.data = {key: (rec, value) for key, rec, value in rows}
        self.decimals, self.ascii_only, self.labels = decimals, ascii_only, labels
        if follow_end:
            self.cursor = None
        self.refresh()

    def move(self, delta: int) -> str | None:
        """Move the cursor; returns the selected step, or None when back past the newest."""
        if not self.keys:
            return None
        start = len(self.keys) if self.cursor is None else self.cursor
        target = start + delta
        if target >= len(self.keys):
            self.cursor = None
        else:
            self.cursor = max(0, target)
        self.refresh()
        return self.selected

    def render(self) -> Text:
        height = max(1, self.size.height)
        width = max(10, self.size.width)
        out = Text(no_wrap=True, overflow="crop")
        out.append("   step", style="bold")
        visible = height - 1
        if not self.keys or visible <= 0:
            return out
        focus = len(self.keys) - 1 if self.cursor is None else self.cursor
        first = max(0, min(focus - visible + 1, len(self.keys) - visible))
        shown = self.keys[first : first + visible]
        rows = {
            key: self._cells_for(key, *self.data[key], self.decimals, self.ascii_only, self.labels)
            for key in shown
        }
        step_w = min(16, max(len(rows[k][2]) for k in shown))
        for i, key in enumerate(shown, start=first):
            mark, mark_style, step, answer, value = rows[key]
            line = Text(no_wrap=True, overflow="crop")
            line.append(f"{mark[:5]:<5} ", style=mark_style)
            line.append(f"{step[:step_w]:<{step_w}} {answer[:8]:<8} {value}")
            line.truncate(width)
            if i == self.cursor:
                line.stylize("reverse")
            out.append("\n")
            out.append_text(line)
        return out

    @staticmethod
    def _cells_for(
        key: str,
        rec: StepRecord,
        value: float,
        decimals: int,
        ascii_only: bool,
        labels: Callable[[str], str] | None,
    ) -> Row:
        sym, plain, style = MARKS.get(rec.status, ("", "", ""))
        answer = (rec.answer or "").strip() if rec.status not in ("revealed", "shown") else ""
        if len(answer) > 9:
            answer = answer[:8] + ("~" if ascii_only else "…")
        if ascii_only:
            answer = answer.encode("ascii", "replace").decode()
        shown = fmt_value(value, decimals, ascii_minus=ascii_only) if rec.done else "?"
        return (plain if ascii_only else sym, style, labels(key) if labels else key, answer, shown)
