"""The steps done so far: id, the learner's answer, the value and the verdict."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tutor.numfmt import fmt_value
from tutor.records import StepRecord

MARKS = {
    "correct": ("✓", "ok", "green"),
    "failed": ("✗", "x", "red"),
    "carried": ("≈", "~", "yellow"),
    "revealed": ("shown", "shown", "magenta"),
    "shown": ("given", "given", "dim"),
    "skipped": ("skip", "skip", "dim"),
    "todo": ("", "", ""),
}


class History(DataTable):
    """One row per step the learner has reached; selecting a row shows its breakdown."""

    DEFAULT_CSS = """
    History { height: 1fr; min-width: 30; }
    """

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self.add_column("", key="mark")
        self.add_column("step", key="step")
        self.add_column("yours", key="yours")
        self.add_column("value", key="value")

    def set_rows(
        self,
        rows: list[tuple[str, StepRecord, float]],
        decimals: int,
        ascii_only: bool,
        follow_end: bool = True,
        labels: dict[str, str] | None = None,
    ) -> None:
        """Rows as (step id, record, true value), in plan order.

        The true value is shown only once the step is done: a skipped step keeps its secret.
        """
        selected = self.cursor_row
        self.clear()
        for step_id, rec, value in rows:
            sym, plain, style = MARKS.get(rec.status, ("", "", ""))
            answer = (rec.answer or "").strip() if rec.status not in ("revealed", "shown") else ""
            if len(answer) > 9:
                answer = answer[:8] + ("~" if ascii_only else "…")
            if ascii_only:
                answer = answer.encode("ascii", "replace").decode()
            shown = fmt_value(value, decimals, ascii_minus=ascii_only) if rec.done else "?"
            self.add_row(
                Text(plain if ascii_only else sym, style=style),
                Text((labels or {}).get(step_id, step_id), no_wrap=True),
                Text(answer),
                Text(shown),
                key=step_id,
            )
        if rows:
            self.move_cursor(
                row=len(rows) - 1 if follow_end else min(selected, len(rows) - 1), animate=False
            )
            if follow_end:
                self.call_after_refresh(self.scroll_end, animate=False)
