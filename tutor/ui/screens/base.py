"""What every tutor screen shares: a clear message instead of a broken layout when the
terminal is too small."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widgets import Static

MIN_WIDTH, MIN_HEIGHT = 72, 22


class TooSmall(Static):
    """Shown alone when the terminal is below the minimum size."""


# a mixin, so that a modal screen keeps ModalScreen's styles; type checkers see its base
if TYPE_CHECKING:
    _Base = Screen[Any]
else:
    _Base = object


class SizeGuard(_Base):
    """Mixed into every screen, modal ones included: below the minimum size, only the message."""

    def restore_focus(self) -> None:
        """Focus the widget the learner types into (screens override)."""
        self.focus_next()

    def on_mount(self) -> None:
        self.mount(TooSmall(id="too-small"))
        self._check_size(self.app.size.width, self.app.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._check_size(event.size.width, event.size.height)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While only the "enlarge" message shows, keys do nothing: a hint, a reveal or a
        skip the learner cannot see must not be taken (and logged). Quitting still works."""
        if self.has_class("-too-small") and action not in ("quit", "app.quit"):
            return False
        return True

    def _check_size(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        was_small = self.has_class("-too-small")
        self.set_class(small, "-too-small")
        if was_small and not small:
            # hidden widgets lose focus; give it back so typing works at once
            self.call_after_refresh(self.restore_focus)
        if small:
            for widget in self.query(TooSmall):
                widget.update(
                    Text(
                        f"Please enlarge the terminal to at least {MIN_WIDTH}×{MIN_HEIGHT} "
                        f"(it is {width}×{height} now).\nCtrl+Q quits.",
                        justify="center",
                    )
                )


class TutorScreen(SizeGuard, Screen[Any]):
    """A full screen of the tutor."""
