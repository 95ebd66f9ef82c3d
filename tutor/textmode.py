"""Plain-ASCII rendering for TERM=linux/dumb and --ascii: ∂ → d, σ → sigma, boxes → ASCII."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from typing import Any

_ASCII = str.maketrans(
    {
        "∂": "d",
        "σ": "sigma",
        "η": "eta",
        "λ": "lambda",
        "μ": "mu",
        "Φ": "Phi",
        "φ": "phi",
        "⁴": "^4",
        "√": "sqrt",
        "π": "pi",
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


#: Characters a terminal acts on or a reader cannot see: C0/C1 controls and DEL (not newline
#: or tab), format characters (bidi overrides and isolates, zero-width ones, the BOM), line
#: and paragraph separators, lone surrogates: Unicode's categories Cc, Cf, Zl, Zp and Cs,
#: written out (from Unicode 14) so that checking a long text is one regular expression.
_C0 = "\x00-\x08\x0b-\x1f"
_HIGH = (
    "\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2"
    "\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff"
    "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
UNSAFE_RE = re.compile(f"[{_C0}{_HIGH}]")
_UNSAFE_IN_JSON = re.compile(f"[{_HIGH}]")  # json escapes C0 itself


def unsafe(ch: str) -> bool:
    """True for a character no text from a file may carry to a terminal or a reader."""
    return UNSAFE_RE.match(ch) is not None


def first_unsafe(text: str) -> str | None:
    """The first unsafe character of ``text``, if any (for a message that names it)."""
    found = UNSAFE_RE.search(text)
    return found.group() if found else None


def describe_char(ch: str) -> str:
    """``U+001B (ESCAPE)``: a character named so a reader can find it in their file."""
    code = ord(ch)
    name = (
        unicodedata.name(ch, "")
        or {0x1B: "ESCAPE", 0x7F: "DELETE"}.get(code)
        or ("a C1 control character" if 0x80 <= code < 0xA0 else "a control character")
    )
    return f"U+{code:04X} ({name})"


def visible(text: str) -> str:
    """``text`` with every unsafe character written as an escape (``\\x1b``, ``\\u202e``), so a
    message can quote a file's text without the terminal acting on it."""
    return UNSAFE_RE.sub(_escape, text)


def visible_data(data: Any) -> Any:
    """Parsed JSON with every key and string made :func:`visible`: what a progress file holds
    is shown, never acted on, by every report that prints it."""
    if isinstance(data, str):
        return visible(data)
    if isinstance(data, dict):
        return {visible(str(k)): visible_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [visible_data(v) for v in data]
    return data


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def json_text(data: Any, **kw: Any) -> str:
    """JSON that is safe to print: json leaves DEL, C1 controls and bidi overrides raw (it
    escapes only C0); they are written as ``\\u`` escapes, so the result is still valid JSON
    and still readable Unicode otherwise."""
    text = json.dumps(data, ensure_ascii=False, **kw)
    return _UNSAFE_IN_JSON.sub(_json_escape, text)


def _json_escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON writes a character beyond the BMP as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def markdown_text(text: str) -> str:
    """Text from a file as literal Markdown: every character Markdown or HTML would act on is
    backslash-escaped (``<script>`` shows as text, ``*x*`` stays starred), unsafe ones visible."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", visible(text)).replace("&", "&amp;")


def fit_title(title: str, room: int, ellipsis: str = "…") -> str:
    """A lesson title in ``room`` columns, cut where a reader would: the part before a colon
    (titles read "Short name: details"), then at a word boundary, never inside a word."""
    title = " ".join(title.split())
    if len(title) <= room:
        return title
    short = title.split(":", 1)[0].strip()
    if short and len(short) <= room:
        return short
    words = short or title
    cut = words[: max(1, room - len(ellipsis))]
    if " " in cut and not words[len(cut) : len(cut) + 1].isspace():
        cut = cut[: cut.rstrip().rfind(" ")]
    return cut.rstrip(" ,;:–-") + ellipsis


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


_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text starting with = + - @, a tab or a carriage
    return gets a leading apostrophe (the OWASP advice), so ``=HYPERLINK(…)`` from a tag, a
    title or a user name shows as text. Numbers, and text that is a plain number such as a
    typed answer ``-0.41``, stay as they are."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        if not _PLAIN_NUMBER.fullmatch(value):
            return "'" + value
    return value
