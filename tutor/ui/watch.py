"""``tutor class watch``: a thin app that opens the dashboard (:mod:`.screens.classwatch`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.app import App
from textual.binding import Binding

from tutor.classroom.changes import Changes
from tutor.classroom.live import Room
from tutor.ui.screens.classwatch import WatchScreen


class WatchApp(App[int]):
    CSS_PATH = "watch.tcss"
    TITLE = "tutor class watch"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q,f10", "quit", "Quit", show=False, priority=True)]

    def __init__(
        self,
        room: Room,
        changes: Changes,
        stuck_minutes: float = 5.0,
        stuck_tries: int = 3,
        ascii_only: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.dashboard = WatchScreen(room, changes, stuck_minutes, stuck_tries, ascii_only, clock)

    def on_mount(self) -> None:
        self.push_screen(self.dashboard)
