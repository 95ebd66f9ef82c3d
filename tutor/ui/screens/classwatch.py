"""The instructor's live dashboard: the students (:class:`SeatTable`), the lesson's steps
across the class (:class:`StepChart`) and a title line with the counts. A thread waits for
the database to change (:mod:`tutor.classroom.changes`) and reads only what is new; a timer
once a second moves the times on and nothing else."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.worker import get_current_worker

from tutor.classroom.backends import DatabaseFailed
from tutor.classroom.changes import Changes
from tutor.classroom.live import ONLINE_SECONDS, Room, Seat
from tutor.ui.screens.attempts import AttemptsScreen
from tutor.ui.widgets.seats import WIDE, SeatTable, seat_cells
from tutor.ui.widgets.stepchart import StepChart
from tutor.ui.widgets.titleline import TitleLine

SORTS = ("stuck first", "name", "progress", "score", "time on step")
FILTERS = ("everyone", "on now", "stuck")
#: the longest a change waits to be seen: the watcher's wait
WAIT_SECONDS = 1.0


class WatchScreen(Screen[None]):
    BINDINGS = [
        Binding("s", "sort", "Sort"),
        Binding("r", "reverse", "Reverse", show=False),
        Binding("f", "filter", "Filter"),
        Binding("slash", "find", "Find"),
        Binding("enter", "history", "Attempts", key_display="Enter"),
        Binding("l", "lesson(1)", "Lesson"),
        Binding("L", "lesson(-1)", "Lesson", show=False),
        Binding("tab", "app.focus_next", "Table/chart", show=False),
        Binding("escape", "clear", "Clear", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

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
        self.clock = clock or (lambda: datetime.now(UTC))
        self.room = room
        self.changes = changes
        self.stuck_minutes = stuck_minutes
        self.stuck_tries = stuck_tries
        self.ascii_only = ascii_only
        self.sort = 0
        self.reverse = False
        self.filter = 0
        self.find = ""
        self.lesson: str | None = None  # the chart's lesson; None follows the busiest
        self.error: str | None = None
        self._shown = 0  # rows shown after the filters

    def compose(self) -> ComposeResult:
        yield TitleLine(id="watch-title")
        yield SeatTable(id="seats")
        yield Input(placeholder="part of a name; Enter keeps it, Escape clears", id="find")
        yield StepChart(self.ascii_only, id="chart")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#find", Input).display = False
        self.query_one(SeatTable).set_wide(self.app.size.width >= WIDE)
        self.show()  # what the room has read so far (a big class is read by the thread)
        self.set_interval(1.0, self.tick)
        self.follow()
        self.query_one(SeatTable).focus()

    # --- reading
    def load(self, force_online: bool = False) -> bool:
        try:
            changed = self.room.refresh(force_online)
            self.error = None
        except DatabaseFailed as err:
            self.error = str(err)
            changed = True
        return changed

    @work(thread=True, exclusive=True, group="follow")
    def follow(self) -> None:
        """Wait for the database to change, read what is new, and show it."""
        worker = get_current_worker()
        self.load(force_online=True)
        self.app.call_from_thread(self.show)
        looked = time.monotonic()
        while not worker.is_cancelled:
            changed = self.changes.wait(WAIT_SECONDS)
            if worker.is_cancelled:
                break
            # nothing committed: only who is on is looked at again, now and then (a session
            # killed with kill -9 writes nothing when it ends)
            if not changed and time.monotonic() - looked < ONLINE_SECONDS:
                continue
            looked = time.monotonic()
            if self.load(force_online=not changed) or changed:
                self.app.call_from_thread(self.show)

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "follow")

    def on_resize(self) -> None:
        wide = self.app.size.width >= WIDE
        if wide != self.query_one(SeatTable).wide:
            self.query_one(SeatTable).set_wide(wide)
            self.show()

    # --- showing
    def tick(self) -> None:
        """Once a second: the times on steps move on (cells that changed only). Only those
        of students who are on are shown, so with nobody on there is nothing to do."""
        seats = self.room.rows()
        if any(seat.online for seat in seats):
            self.show(chart=False)
        else:  # the clock on the title line alone
            self._title(seats, {}, self._shown, self.clock())

    def show(self, chart: bool = True) -> None:
        now = self.clock()
        seats = self.room.rows()
        stuck = {s.student: why for s in seats if (why := self._stuck(s, now))}
        shown = [s for s in seats if self._kept(s, stuck)]
        shown.sort(key=lambda s: self._order(s, stuck, now), reverse=self.reverse)
        table = self.query_one(SeatTable)
        lesson = self.lesson or self.room.busiest_lesson()
        plain = None if table.wide else lesson
        table.show(
            [
                (s.student, seat_cells(s, now, stuck.get(s.student), self.ascii_only, plain))
                for s in shown
            ]
        )
        self._shown = len(shown)
        self._title(seats, stuck, len(shown), now)
        if chart:
            if lesson is not None:
                self.query_one(StepChart).show(lesson, self.room.lesson_view(lesson), len(seats))
        if chart and isinstance(self.app.screen, AttemptsScreen):  # read again on a change
            student = self.app.screen.student
            seat = self.room.seats.get(student)
            self.app.screen.show(self.room.history(student), seat.lesson if seat else None)

    def _stuck(self, seat: Seat, now: datetime) -> str | None:
        return seat.stuck(now, self.stuck_minutes, self.stuck_tries)

    def _kept(self, seat: Seat, stuck: dict[str, str]) -> bool:
        if self.find and self.find.lower() not in seat.student.lower():
            return False
        if FILTERS[self.filter] == "on now":
            return seat.online
        if FILTERS[self.filter] == "stuck":
            return seat.student in stuck
        return True

    def _order(self, seat: Seat, stuck: dict[str, str], now: datetime) -> tuple[object, ...]:
        how = SORTS[self.sort]
        lessons = self.room.course_lessons
        if how == "progress":
            at = lessons.index(seat.lesson) if seat.lesson in lessons else -1
            return (at, seat.place if seat.step else seat.steps + 1, seat.student)
        if how == "score":
            return (-seat.score, seat.student)
        if how == "time on step":
            return (-(seat.on_step(now) or 0) if seat.online else 1, seat.student)
        if how == "stuck first":
            return (seat.student not in stuck, seat.student)
        return (seat.student,)

    def _title(self, seats: list[Seat], stuck: dict[str, str], shown: int, now: datetime) -> None:
        on = sum(s.online for s in seats)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(self.room.db.course.title, style="bold")
        if self.room.updated is None:
            text.append("  reading the class database…", style="dim")
            self.query_one("#watch-title", TitleLine).show(text)
            return
        text.append(f"  {on}/{len(seats)} on")
        if stuck:
            text.append(f"  {len(stuck)} stuck", style="bold red")
        text.append(f"  sort: {SORTS[self.sort]}{' (reversed)' if self.reverse else ''}")
        if self.filter or self.find:
            what = FILTERS[self.filter] + (f", '{self.find}'" if self.find else "")
            text.append(f"  showing: {what} ({shown})")
        if self.error:
            text.append(f"  {self.error}", style="bold red")
        else:
            text.append(f"  {now.astimezone().strftime('%H:%M:%S')}", style="dim")
        self.query_one("#watch-title", TitleLine).show(text)

    # --- keys
    def action_sort(self) -> None:
        self.sort = (self.sort + 1) % len(SORTS)
        self.show(chart=False)

    def action_reverse(self) -> None:
        self.reverse = not self.reverse
        self.show(chart=False)

    def action_filter(self) -> None:
        self.filter = (self.filter + 1) % len(FILTERS)
        self.show(chart=False)

    def action_find(self) -> None:
        box = self.query_one("#find", Input)
        box.display = True
        box.value = self.find
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.find = event.value.strip()
        self.show(chart=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._close_find()

    def action_clear(self) -> None:
        box = self.query_one("#find", Input)
        if box.display:
            self.find = ""
            self._close_find()
        elif self.filter or self.find:
            self.filter, self.find = 0, ""
            self.show(chart=False)

    def _close_find(self) -> None:
        box = self.query_one("#find", Input)
        box.display = False
        self.query_one(SeatTable).focus()
        self.show(chart=False)

    def action_lesson(self, by: int) -> None:
        lessons = self.room.course_lessons
        if not lessons:
            return
        current = self.lesson or self.room.busiest_lesson()
        at = lessons.index(current) if current in lessons else 0
        self.lesson = lessons[(at + by) % len(lessons)]
        self.show()

    def action_history(self) -> None:
        student = self.query_one(SeatTable).selected
        if student is None:
            return
        screen = AttemptsScreen(student)
        self.app.push_screen(screen)
        seat = self.room.seats.get(student)
        self.call_after_refresh(
            screen.show, self.room.history(student), seat.lesson if seat else None
        )

    def on_data_table_row_selected(self, event: SeatTable.RowSelected) -> None:
        self.action_history()
