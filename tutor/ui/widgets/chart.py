"""A small loss curve drawn with text, so it works in every terminal (ASCII included)."""

from __future__ import annotations

from rich.text import Text

from tutor.numfmt import fmt_value


def loss_chart(
    history: list[float], width: int = 44, height: int = 6, ascii_only: bool = False
) -> Text:
    """E_total over the iterations: one column per iteration (sampled to fit ``width``)."""
    if not history:
        return Text("")
    n = len(history)
    cols = min(width, n)
    picks = [history[round(i * (n - 1) / max(1, cols - 1))] for i in range(cols)]
    lo, hi = min(picks), max(picks)
    span = hi - lo or 1.0
    levels = [round((v - lo) / span * (height - 1)) for v in picks]
    dot = "*" if ascii_only else "●"
    out = Text()
    label_w = 9
    for row in range(height - 1, -1, -1):
        if row == height - 1:
            label = fmt_value(hi, 5, ascii_minus=ascii_only)
        elif row == 0:
            label = fmt_value(lo, 5, ascii_minus=ascii_only)
        else:
            label = ""
        out.append(label.rjust(label_w) + (" |" if ascii_only else " │"), style="dim")
        out.append("".join(dot if lv == row else " " for lv in levels) + "\n", style="cyan")
    out.append(
        " " * label_w + (" +" if ascii_only else " └") + ("-" if ascii_only else "─") * cols,
        style="dim",
    )
    out.append(
        f"\n{' ' * label_w}  iteration 0 … {n - 1}".replace("…", "..." if ascii_only else "…"),
        style="dim",
    )
    return out
