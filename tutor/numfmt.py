"""How numbers are shown: fixed decimals for computed values, shortest form for given ones."""

from __future__ import annotations

import math


def fmt_value(value: float, decimals: int = 5, *, ascii_minus: bool = False) -> str:
    """A computed value to ``decimals`` places.

    Never shows "-0.00000", and switches to scientific notation for non-zero values smaller
    than the last decimal (gradients of 1e-12 must not look like exactly 0, and a value
    asked to significant figures must show them).
    """
    minus = "-" if ascii_minus else "−"
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else f"{minus}inf")
    if value != 0 and abs(value) < 10.0**-decimals:
        text = f"{value:.{max(decimals - 1, 1)}e}"
    else:
        text = f"{value:.{decimals}f}"
        if float(text) == 0:
            text = text.lstrip("-")
    return minus + text[1:] if text.startswith("-") else text


def fmt_given(value: float, *, ascii_minus: bool = False) -> str:
    """A given number (input, weight, learning rate) in its shortest exact-looking form."""
    text = f"{value:.12g}"
    if text == "-0":
        text = "0"
    return text.replace("-", "−", 1) if text.startswith("-") and not ascii_minus else text
