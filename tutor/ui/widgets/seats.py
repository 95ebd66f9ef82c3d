"""The dashboard's table of students: one row per roster student, the stuck ones standing
out (a word in the first column and a colour, so that it reads without colour too)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import DataTable

from tutor.classroom.live import Seat
from tutor.grading.misconceptions import TITLES

COLUMNS = (
    ("state", "", 2),
    ("student", "student", None),
    ("lesson", "lesson", None),
    ("step", "step", None),
    ("score", "score", None),
    ("hints", "hints", None),
    ("wrong", "wrong", None),
    ("time", "on step", None),
    ("mistake", "last mistake", None),
)


def clock(seconds: float | None) -> str:
    """Time on a step: 0:42, 12:05, 1:02:05."""
    if seconds is None:
        return ""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def mistake_title(tag: str | None) -> str:
    if not tag:
        return ""
    return TITLES.get(tag, tag.replace("_", " "))


#: below this width the lesson has no column: the step's cell names it when it is not the
#: lesson of the chart
WIDE = 110
#: the last mistake's width on a narrow terminal
NARROW_MISTAKE = 20


def seat_cells(
    seat: Seat, now: datetime, why: str | None, ascii_only: bool, lesson_shown: str | None = None
) -> dict[str, Text]:
    """The row's cells by column; ``why``: why the student is stuck, if they are;
    ``lesson_shown``: the lesson that goes without saying (narrow terminals)."""
    style = "bold red" if why else ("" if seat.online else "dim")
    if why:
        state = Text("!!", style="bold reverse red")
    else:
        state = Text("on" if seat.online else "", style="green")
    if seat.lesson is None:
        step = ""
    elif seat.step is None:
        step = "done" if seat.finished else ""
    else:
        step = f"{seat.place}/{seat.steps} {seat.step}" if seat.place else seat.step
    lesson = seat.lesson or ""
    if lesson and seat.mode != "learn":
        lesson += f" ({seat.mode})"
    if lesson_shown is not None and lesson and lesson != lesson_shown:
        step = f"{lesson}: {step}"
    on_step = why if why else clock(seat.on_step(now)) if seat.online else ""
    mistake = mistake_title(seat.last_mistake)
    if lesson_shown is not None and len(mistake) > NARROW_MISTAKE:
        mistake = mistake[: NARROW_MISTAKE - 1] + ("..." if ascii_only else "…")
    return {
        "state": state,
        "student": Text(seat.student, style=style),
        "lesson": Text(lesson, style=style),
        "step": Text(step, style=style),
        "score": Text(f"{seat.score:g}" if seat.lesson else "", style=style, justify="right"),
        "hints": Text(str(seat.hints) if seat.lesson else "", style=style, justify="right"),
        "wrong": Text(str(seat.wrong) if seat.lesson else "", style=style, justify="right"),
        "time": Text(on_step, style=style, justify="right"),
        "mistake": Text(mistake, style=style),
    }


class SeatTable(DataTable[Text]):
    """The students; rows keyed by login name, so the cursor stays on a student when the
    order changes."""

    def __init__(self, **kw: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)  # type: ignore[arg-type]
        self._shown: list[tuple[str, tuple[str, ...]]] = []
        self.wide: bool | None = None
        self.columns_shown: list[str] = []

    def set_wide(self, wide: bool) -> None:
        """The columns for the terminal's width (the lesson's only when wide)."""
        if wide == self.wide:
            return
        self.wide = wide
        self.clear(columns=True)
        self._shown = []
        self.columns_shown = [k for k, _, _ in COLUMNS if wide or k != "lesson"]
        for key, label, width in COLUMNS:
            if key in self.columns_shown:
                self.add_column(label, key=key, width=width)

    @property
    def selected(self) -> str | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return str(row_key.value)

    def show(self, rows: list[tuple[str, dict[str, Text]]]) -> None:
        """Show these rows (student, cells) in this order: cells that changed are updated
        in place; a new order or set of students is laid out again, the cursor kept on
        its student."""
        keys = self.columns_shown
        cells_of = [(name, [cells[k] for k in keys]) for name, cells in rows]
        plain = [(name, tuple(c.plain + str(c.style) for c in cells)) for name, cells in cells_of]
        if [n for n, _ in plain] == [n for n, _ in self._shown]:
            for (name, cells), (_, text), (_, before) in zip(
                cells_of, plain, self._shown, strict=True
            ):
                for k, key in enumerate(keys):
                    if text[k] != before[k]:
                        self.update_cell(name, key, cells[k], update_width=True)
            self._shown = plain
            return
        keep = self.selected
        top = self.scroll_y
        self.clear()
        for name, cells in cells_of:
            self.add_row(*cells, key=name)
        self._shown = plain
        names = [n for n, _ in rows]
        row = names.index(keep) if keep in names else 0
        # the view stays where it was; the cursor follows its student, and the view follows
        # the cursor only if it left it (once the new rows are laid out)
        self.move_cursor(row=row, scroll=False)
        self.scroll_to(y=top, animate=False, immediate=True)
        self.call_after_refresh(self._keep_cursor_in_view)

    def _keep_cursor_in_view(self) -> None:
        self.move_cursor(row=self.cursor_row, scroll=True)
