"""The class view of a lesson, taken in at a glance: one bar per step, as high as the share
of the class that has it right and coloured by the first-try rate (green, yellow, red; grey
before anyone answered). The step under the cursor is described below the bars."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget

from tutor.classroom.live import StepBar
from tutor.grading.misconceptions import TITLES

BLOCKS = " ▁▂▃▄▅▆▇█"
ASCII_BLOCKS = " .:-=+*#@"


def rate_style(rate: float | None) -> str:
    if rate is None:
        return "grey50"
    if rate >= 0.75:
        return "green"
    if rate >= 0.5:
        return "yellow"
    return "red"


class StepChart(Widget, can_focus=True):
    """Bars for a lesson's steps; Left and Right pick a step."""

    BINDINGS = [
        Binding("left", "move(-1)", "Step", show=False),
        Binding("right", "move(1)", "Step", show=False),
        Binding("home", "move(-100000)", show=False),
        Binding("end", "move(100000)", show=False),
    ]
    cursor: reactive[int] = reactive(0)

    def __init__(self, ascii_only: bool = False, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.ascii_only = ascii_only
        self.lesson = ""
        self.bars: list[StepBar] = []
        self.students = 0

    def show(self, lesson: str, bars: list[StepBar], students: int) -> None:
        if lesson != self.lesson:
            self.cursor = 0
        self.lesson, self.bars, self.students = lesson, bars, students
        self.cursor = min(self.cursor, max(0, len(bars) - 1))
        self.refresh()

    def action_move(self, by: int) -> None:
        if self.bars:
            self.cursor = max(0, min(len(self.bars) - 1, self.cursor + by))

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        width = max(10, self.size.width)
        height = max(1, self.size.height - 3)  # a title, the bars, the axis, the description
        out.append(self.lesson, style="bold")
        if not self.bars:
            out.append(": no steps to show", style="dim")
            return out
        out.append(
            "  bars: right, colour: first try",
            style="dim",
        )
        out.append("\n")
        n = len(self.bars)
        per = max(1, min(4, width // n))
        first = 0
        if n * per > width:  # more steps than columns: a window round the cursor
            shown = width // per
            first = max(0, min(n - shown, self.cursor - shown // 2))
        visible = self.bars[first : first + width // per]
        blocks = ASCII_BLOCKS if self.ascii_only else BLOCKS
        whole = self.students or 1
        for row in range(height - 1, -1, -1):
            for bar in visible:
                eighths = round(bar.passed / whole * height * 8)
                level = max(0, min(8, eighths - row * 8))
                char = blocks[level] if level else (" " if row else "_" if self.ascii_only else "▁")
                if not level and row == 0:
                    style = "grey23"
                else:
                    style = rate_style(bar.first_try_rate)
                cell = (char * max(1, per - 1) + " ") if per > 1 else char
                out.append(cell, style=style)
            out.append("\n")
        axis = ""
        for k in range(len(visible)):
            mark = "^" if first + k == self.cursor else " "
            axis += (mark * max(1, per - 1) + " ") if per > 1 else mark
        out.append(axis.rstrip() + "\n", style="bold")
        out.append_text(self.describe(self.bars[self.cursor]))
        return out

    def describe(self, bar: StepBar) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{bar.label}", style="bold")
        text.append(f" ({self.cursor + 1}/{len(self.bars)}) ")
        text.append(f"passed {bar.passed}/{self.students}")
        rate = bar.first_try_rate
        text.append(", first try ")
        text.append("-" if rate is None else f"{rate * 100:.0f}%", style=rate_style(rate))
        if bar.revealed:
            text.append(f", revealed {bar.revealed}")
        if bar.mistake:
            times = "x" if self.ascii_only else "×"
            text.append(f", {TITLES.get(bar.mistake, bar.mistake)} {times}{bar.mistake_count}")
        return text
