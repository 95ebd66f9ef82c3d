"""The steps done so far: verdict, step, the learner's answer and the value.

A light widget rather than a DataTable: it draws only the rows that fit, each row once (the
Line API with a cache of drawn rows), so an answer costs a fraction of a millisecond here even
late in a long lesson.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from tutor.grading.verdict import CARRIED, CORRECT
from tutor.numfmt import fmt_value
from tutor.progress.records import FAILED, REVEALED, SHOWN, SKIPPED, TODO, StepRecord
from tutor.ui.widgets.lines import REVERSE, cells_strip

MARKS = {
    CORRECT: ("✓", "ok", "green"),
    FAILED: ("✗", "x", "red"),
    CARRIED: ("≈", "~", "yellow"),
    REVEALED: ("shown", "shown", "magenta"),
    SHOWN: ("given", "given", "dim"),
    SKIPPED: ("skip", "skip", "dim"),
    TODO: ("", "", ""),
}

LABEL_WIDTH = 16  # the longest step label ("∂E_total/∂out_g2")

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
        self.decimals, self.ascii_only = 5, False
        self.labels: Callable[[str], str] | None = None
        self.cursor: int | None = None  # None: following the newest row
        # the drawn rows on screen, by step id, with everything that shaped them
        self._rows: dict[str, tuple[tuple[Any, ...], Strip]] = {}
        # worked out once a frame (in render_lines), used by every row
        self._base, self._width = Style(), 0
        self._window: tuple[int, list[str], int] = (0, [], 4)

    @staticmethod
    def width_for(decimals: int) -> int:
        """Columns that show every row in full: the verdict, a step label (16), an answer and
        a value to ``decimals`` places with a sign and a digit before the point, and the
        padding. Nothing a step is asked to is cut."""
        return 6 + LABEL_WIDTH + 1 + (decimals + 3) + 1 + (decimals + 3) + 2

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

    def render_lines(self, crop: Region) -> list[Strip]:
        content = self.content_size
        self._base, self._width = self.rich_style, max(10, content.width)
        self._window = window = self._rows_on_screen(max(0, content.height - 1))
        drawn = self._rows  # keep only the rows still on screen: memory stays flat
        self._rows = {key: drawn[key] for key in window[1] if key in drawn}
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """One row, from a cache of drawn rows: an answer draws only its own new row, even
        when every row moves up one line (the Line API; no Text is laid out per frame)."""
        width, base = self._width, self._base
        if y == 0:
            return cells_strip((("   step", "bold"),), width, base)
        first, shown, step_w = self._window
        index = first + y - 1
        if y - 1 >= len(shown):
            return Strip.blank(width, base)
        key = shown[y - 1]
        rec, value = self.data[key]
        selected = index == self.cursor
        cache_key = (
            (key, rec.status, rec.answer, rec.done, value),
            (width, step_w, selected, base, self.decimals, self.ascii_only),
        )
        cached = self._rows.get(key)
        if cached is not None and cached[0] == cache_key:
            strip = cached[1]
        else:
            mark, mark_style, step, answer, shown_value = self._cells_for(
                key, rec, value, self.decimals, self.ascii_only, self.labels
            )
            parts = (
                (f"{mark[:5]:<5} ", mark_style),
                (f"{step[:step_w]:<{step_w}} {answer:<{self.decimals + 3}} {shown_value}", ""),
            )
            strip = cells_strip(
                parts, width, base, REVERSE if selected else None, "~" if self.ascii_only else "…"
            )
            self._rows[key] = (cache_key, strip)
        return strip

    def _rows_on_screen(self, visible: int) -> tuple[int, list[str], int]:
        """The rows that fit: (index of the first, their keys, the step column's width)."""
        focus = len(self.keys) - 1 if self.cursor is None else self.cursor
        first = max(0, min(focus - visible + 1, len(self.keys) - visible))
        shown = self.keys[first : first + visible] if visible else []
        labels = [self.labels(k) if self.labels else k for k in shown]
        step_w = min(LABEL_WIDTH, max((len(label) for label in labels), default=4))
        return first, shown, step_w

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
        answer = (rec.answer or "").strip() if rec.status not in (REVEALED, SHOWN) else ""
        width = decimals + 3  # "−0.123456": an answer to the decimals asked, in full
        if len(answer) > width:
            answer = answer[: width - 1] + ("~" if ascii_only else "…")
        if ascii_only:
            answer = answer.encode("ascii", "replace").decode()
        shown = fmt_value(value, decimals, ascii_minus=ascii_only) if rec.done else "?"
        return (plain if ascii_only else sym, style, labels(key) if labels else key, answer, shown)
