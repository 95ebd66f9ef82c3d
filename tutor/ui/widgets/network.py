"""The network drawn in the terminal: layers as columns, each unit with its value once known,
each weight listed on its edge beside the unit it leaves, and the current step's units and
weights highlighted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from tutor.drawing import Fit, Row, fitting, head_lines, network_rows, window
from tutor.lesson.model import Network
from tutor.ui.widgets.lines import cells_strip


class NetworkDiagram(Widget):
    """Redrawn whenever a value becomes known or the current step changes, one line at a
    time: an answer changes two or three lines of the drawing, and only those are repainted
    (the Line API, with a cache of drawn lines)."""

    DEFAULT_CSS = """
    NetworkDiagram { height: auto; max-height: 14; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.rows: list[Row] = []
        self.ascii_only = False
        self._strips: dict[int, tuple[tuple[Any, ...], Strip]] = {}  # the drawn line at each y
        self._base, self._width = Style(), 0
        self.fit: Fit = (frozenset(), 0)  # columns listing two weights a line; squeeze
        self.room = 14  # the lines the drawing has on screen

    def fix_height(
        self,
        net: Network,
        room: int = 13,
        goal: int = 13,
        width: int = 78,
        decimals: int = 5,
        ascii_only: bool = False,
    ) -> None:
        """The drawing's height never changes within a lesson, except when the terminal is
        resized (a change would re-lay-out the whole screen on every answer): the network's
        rows, at most ``room`` lines, so that the prompt and the feedback below it stay on
        screen (beyond that, the lines of the current step are shown). Columns list two
        weights a line where that makes it fit in ``goal`` lines within ``width`` columns,
        and the drawing is narrow where it is too wide (``tutor.drawing.fitting``)."""
        border = 1 if self.styles.border_bottom[0] else 0
        self.fit = fitting(net, decimals, goal, width, ascii_only)
        lines = len(network_rows(net, {}, set(), decimals, ascii_only, *self.fit))
        self.room = max(1, min(lines, room))
        height = self.room + border
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height

    def show(
        self,
        net: Network,
        known: Mapping[str, float],
        highlight: set[str],
        decimals: int,
        ascii_only: bool = False,
    ) -> None:
        rows = self.window(network_rows(net, known, highlight, decimals, ascii_only, *self.fit))
        self.ascii_only = ascii_only
        old, self.rows = self.rows, rows
        if len(rows) != len(old):
            self.refresh(layout=True)
            return
        width = self.size.width
        for y, (before, after) in enumerate(zip(old, rows, strict=True)):
            if before != after:
                self.refresh(Region(0, y, width, 1))

    def window(self, rows: list[Row]) -> list[Row]:
        """The lines that fit (``tutor.drawing.window``)."""
        return window(rows, self.room, head_lines(self.fit))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.rows)

    def render_lines(self, crop: Region) -> list[Strip]:
        # costly to work out: once per frame, not per line
        self._base, self._width = self.rich_style, self.content_size.width
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width, base = self._width, self._base
        if y >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[y]
        key = (row, width, base, self.ascii_only)
        cached = self._strips.get(y)
        if cached is not None and cached[0] == key:
            return cached[1]
        strip = cells_strip(row, width, base, ellipsis="~" if self.ascii_only else "…")
        self._strips[y] = (key, strip)
        return strip
