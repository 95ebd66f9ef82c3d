"""Text in a fixed-size area that repaints only the lines an update changed.

A Textual ``Static`` repaints every line of itself on ``update``. Textual's compositor then
draws every widget on each line that is being repainted, so a three-line feedback area that
changes one line makes the whole width of three screen lines be drawn again. This widget
draws its text as ``Static`` does (the same Textual ``Visual``, so the screen is identical),
keeps the drawn lines, and asks for a repaint of the lines that differ and no others.
"""

from __future__ import annotations

from typing import Any

from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual, VisualType, visualize
from textual.widget import Widget


class TextLines(Widget):
    """Like a ``Static`` of fixed size; its text is never read as markup."""

    DEFAULT_CSS = """
    TextLines { height: auto; }
    """

    def __init__(self, content: VisualType = "", *, id: str | None = None):
        super().__init__(id=id, markup=False)  # Textual's own paths read str as markup
        self._content = content
        self._lines: list[Strip] = []
        self._drawn_for: Any = None  # what the drawn lines depend on besides the text

    @property
    def content(self) -> VisualType:
        """The text (or Rich renderable) last given to :meth:`update`."""
        return self._content

    def render(self) -> VisualType:
        return self._content  # for a ``height: auto`` layout and for reading the text

    def update(self, content: VisualType = "") -> None:
        """Show ``content``; repaint the lines that changed (every line if the size or the
        style changed since the last drawing, or nothing was drawn yet)."""
        self._content = content
        if not self.is_attached:  # drawn when first painted
            return
        key = self._draw_key()
        if self._drawn_for != key:
            self._drawn_for = None  # drawn again when painted
            self.refresh()
            return
        before = self._lines
        self._draw(key)
        width = self.size.width
        for y in range(max(len(before), len(self._lines))):
            if y >= len(before) or y >= len(self._lines) or before[y] != self._lines[y]:
                self.refresh(Region(0, y, width, 1))

    def _draw_key(self) -> Any:
        return (self.size, self.visual_style, self.text_selection)

    def _draw(self, key: Any) -> None:
        width, height = self.size
        visual = visualize(self, self._content, markup=False)
        self._lines = Visual.to_strips(self, visual, width, height, self.visual_style)
        self._drawn_for = key

    def render_line(self, y: int) -> Strip:
        key = self._draw_key()
        if self._drawn_for != key:
            self._draw(key)
        if y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width, self.visual_style.rich_style)
