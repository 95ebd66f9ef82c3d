"""Text that repaints only the lines an update changed, and can be drawn ahead of time.

A Textual ``Static`` repaints every line of itself on ``update``. Textual's compositor then
draws every widget on each line that is being repainted, so a three-line feedback area that
changes one line makes the whole width of three screen lines be drawn again. This widget
draws its text as ``Static`` does (the same Textual ``Visual``, so the screen is identical),
keeps the drawn lines, and asks for a repaint of the lines that differ and no others.

Drawing a text (wrapping it and styling each line) is most of what showing it costs, so a
text that will probably come next can be drawn while the learner is typing
(:meth:`TextLines.prepare`); showing it then costs no drawing at all.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import Visual, VisualType, visualize
from textual.widget import Widget

KEPT = 4  # drawings kept: the text on screen and a few drawn ahead


def content_key(content: VisualType) -> Any:
    """What a drawing of ``content`` depends on, or None if that cannot be told (a Rich
    renderable other than ``Text``): such content is drawn every time."""
    if isinstance(content, str):
        return content
    if isinstance(content, Text):
        return (
            content.plain,
            content.style,
            tuple(content.spans),
            content.justify,
            content.overflow,
            content.no_wrap,
        )
    return None


class TextLines(Widget):
    """Like a ``Static`` (text at the top); its text is never read as markup."""

    DEFAULT_CSS = """
    TextLines { height: auto; }
    """

    def __init__(self, content: VisualType = "", *, id: str | None = None):
        super().__init__(id=id, markup=False)  # Textual's own paths read str as markup
        self._content = content
        self._lines: list[Strip] = []
        self._drawn_for: Any = None  # what the lines on screen depend on besides the text
        self._drawings: dict[Any, list[Strip]] = {}  # (text, width, style…) → drawn lines

    @property
    def content(self) -> VisualType:
        """The text (or Rich renderable) last given to :meth:`update`."""
        return self._content

    def render(self) -> VisualType:
        return self._content  # for reading the text, and for Textual before the first draw

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
        self._lines = self._draw(content, key)
        width = self.size.width
        for y in range(max(len(before), len(self._lines))):
            if y >= len(before) or y >= len(self._lines) or before[y] != self._lines[y]:
                self.refresh(Region(0, y, width, 1))

    def prepare(self, content: VisualType) -> None:
        """Draw ``content`` now, at the present size and style, so that an :meth:`update`
        to it soon costs no drawing. For when the screen is idle."""
        if self.is_attached and self.size.width:
            self._draw(content, self._draw_key())

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """The text's height at ``width``, from the drawing that showing it will use."""
        if not self.is_attached or content_key(self._content) is None:
            return super().get_content_height(container, viewport, width)
        return len(self._draw(self._content, self._draw_key(width)))

    def notify_style_update(self) -> None:
        """A style changed (a class, a theme): the kept drawings may no longer be right."""
        super().notify_style_update()
        self._drawings.clear()
        self._drawn_for = None

    def _draw_key(self, width: int | None = None) -> Any:
        """What a drawing depends on besides the text, at ``width`` (else the present one): an
        inline style change (``styles.x =``) does not call :meth:`notify_style_update`, so
        the rules that shape text are here."""
        styles = self.styles
        return (
            self.size.width if width is None else width,
            self.visual_style,
            self.text_selection,
            styles.text_align,
            styles.text_wrap,
            styles.text_overflow,
            styles.line_pad,
        )

    def _draw(self, content: VisualType, key: Any) -> list[Strip]:
        """The lines of ``content`` drawn for ``key`` (its width and style), from the kept
        drawings when they have it."""
        text_key = content_key(content)
        full_key = None if text_key is None else (text_key, key)
        lines = self._drawings.get(full_key) if full_key is not None else None
        if lines is None:
            width = key[0]
            visual = visualize(self, content, markup=False)
            lines = Visual.to_strips(self, visual, width, None, self.visual_style)
            if full_key is not None:
                if len(self._drawings) >= KEPT:
                    del self._drawings[next(iter(self._drawings))]  # the oldest
                self._drawings[full_key] = lines
        return lines

    def render_lines(self, crop: Region) -> list[Strip]:
        key = self._draw_key()  # once a frame, not once a line
        if self._drawn_for != key:
            self._lines = self._draw(self._content, key)
            self._drawn_for = key
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        if y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width, self.visual_style.rich_style)
