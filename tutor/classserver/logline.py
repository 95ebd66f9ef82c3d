"""One structured line per event (login, logout, refusal, error) on stderr, in logfmt
(``key=value``, quoted when needed): journald keeps it, grep and awk read it."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TextIO


def _value(value: object) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\\') and text.isprintable():
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in escaped) + '"'


def line(event: str, **fields: object) -> str:
    """``time=… event=… key=value …`` for the fields that are not None."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    parts = [f"time={stamp}", f"event={_value(event)}"]
    parts += [f"{key}={_value(value)}" for key, value in fields.items() if value is not None]
    return " ".join(parts)


def log(event: str, stream: TextIO | None = None, **fields: object) -> None:
    """Write one event line and flush it (a crash must not take the line with it)."""
    out = stream if stream is not None else sys.stderr
    out.write(line(event, **fields) + "\n")
    out.flush()
