"""Drawing one line of a Line API widget from (text, style) cells, for the diagram and the
history: both repaint line by line from caches of drawn lines, never parsing markup."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

REVERSE = Style(reverse=True)


@lru_cache(maxsize=64)
def named_style(name: str) -> Style:
    return Style.parse(name)


def cells_strip(
    cells: Iterable[tuple[str, str]],
    width: int,
    base: Style,
    extra: Style | None = None,
    ellipsis: str = "…",
) -> Strip:
    """One line exactly ``width`` cells wide: each cell's style on top of the widget's base
    style (and ``extra`` on top of all, for a selected row); cut with ``ellipsis`` when too
    wide."""
    segments = []
    for text, style in cells:
        st = base + named_style(style) if style else base
        segments.append(Segment(text, st + extra if extra else st))
    fill = base + extra if extra else base
    strip = Strip(segments)
    if strip.cell_length > width > 0:
        strip = Strip.join([strip.crop(0, width - 1), Strip([Segment(ellipsis, fill)])])
    return strip.adjust_cell_length(width, fill)
