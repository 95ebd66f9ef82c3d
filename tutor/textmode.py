"""Plain-ASCII rendering for TERM=linux/dumb and --ascii: ∂ → d, σ → sigma, boxes → ASCII."""

from __future__ import annotations

import os

_ASCII = str.maketrans(
    {
        "∂": "d",
        "σ": "sigma",
        "η": "eta",
        "δ": "delta",
        "·": "*",
        "−": "-",
        "²": "^2",
        "³": "^3",
        "½": "1/2",
        "→": "->",
        "←": "<-",
        "Σ": "sum",
        "≈": "~",
        "✓": "+",
        "✗": "x",
        "…": "...",
        "—": "-",
        "–": "-",
        "×": "*",
        "≤": "<=",
        "≥": ">=",
        "▶": ">",
        "•": "*",
        "│": "|",
        "─": "-",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "⁻": "^-",
        "¹": "^1",
    }
)


def to_ascii(text: str) -> str:
    """Replace the Unicode the tutor itself uses; anything else left becomes '?'."""
    out = text.translate(_ASCII)
    return out if out.isascii() else "".join(ch if ch.isascii() else "?" for ch in out)


def wants_ascii(term: str | None = None) -> bool:
    """ASCII mode is automatic on the Linux console and dumb terminals."""
    term = os.environ.get("TERM", "") if term is None else term
    return term in ("linux", "dumb") or term.startswith("vt1") or term.startswith("vt2")


def safe_text(text: str, limit: int = 2000) -> str:
    """Lesson text made safe to show: no escape sequences or control characters, bounded length.

    Markup is never interpreted (we render ``rich.text.Text``); this removes what a terminal
    itself would interpret: ESC/CSI/OSC sequences, C0/C1 controls and bidi overrides.
    """
    cleaned = []
    for ch in text[:limit]:
        code = ord(ch)
        if ch in "\n\t":
            cleaned.append(ch)
        elif code < 32 or code == 127 or 0x80 <= code < 0xA0:
            cleaned.append("�" if code == 27 else " ")
        elif 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069 or code in (0x200E, 0x200F):
            continue
        else:
            cleaned.append(ch)
    if len(text) > limit:
        cleaned.append("…")
    return "".join(cleaned)


def reflow(text: str) -> str:
    """Join the hard-wrapped lines of a paragraph (lesson files wrap at ~90 columns) so the
    terminal can wrap them to its own width; blank lines and list items keep their breaks."""
    paragraphs = []
    for block in text.strip().split("\n\n"):
        lines = [line.strip() for line in block.splitlines()]
        out: list[str] = []
        for line in lines:
            if out and not line.startswith(("-", "*", "•")) and not out[-1].endswith(":"):
                out[-1] = f"{out[-1]} {line}"
            else:
                out.append(line)
        paragraphs.append("\n".join(out))
    return "\n\n".join(paragraphs)
