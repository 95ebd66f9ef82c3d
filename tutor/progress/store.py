"""The per-user progress store: an append-only attempt log plus a small state file.

- Both live in one private folder (0700; files 0600): TUTOR_DATA_DIR, else the XDG data dir.
- Every answer is appended to ``attempts.jsonl`` and flushed to disk (``fdatasync``) before
  its verdict is shown and before the state is rewritten, and the state is replaced
  atomically (temp file, fsync, os.replace), so ``kill -9`` at any moment loses nothing
  already answered. The state file is a cache of the log: rewritten at
  most once a second, in a background thread, and caught up from the log when read.
- A second session of the same user is refused while the first holds the lock.
- A damaged file is kept aside under a new name and the learner is told; the state is then
  rebuilt from the log.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.progress.interface import ProgressLocked
from tutor.progress.records import now

STATE_FILE = "state.json"
LOG_FILE = "attempts.jsonl"
LOCK_FILE = "session.lock"
STATE_VERSION = 1
MAX_STATE_BYTES = 64 * 1024 * 1024
SAVE_INTERVAL = 1.0  # seconds between state-file rewrites (the log is written every time)


def data_dir() -> Path:
    override = os.environ.get("TUTOR_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("backprop-tutor", appauthor=False))


@dataclass
class ProgressStore:
    """Reads and writes one user's progress; see the module docstring for the guarantees."""

    root: Path = field(default_factory=data_dir)
    warnings: list[str] = field(default_factory=list)
    _lock_fd: int | None = None
    _state: dict[str, Any] | None = None
    _dirty: bool = False
    _saved_at: float = -1e9
    _seq: int = 0  # state snapshots taken
    _written: int = 0  # the newest snapshot on disk
    _write_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _writer: threading.Thread | None = field(default=None, repr=False)

    # --- files
    @property
    def state_path(self) -> Path:
        return self.root / STATE_FILE

    @property
    def log_path(self) -> Path:
        return self.root / LOG_FILE

    def ensure_dir(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(self.root, 0o700)

    # --- locking
    def lock(self) -> None:
        """Hold the store for this session, or raise ProgressLocked with a clear message."""
        self.ensure_dir()
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (process {other})" if other.isdigit() else ""
            raise ProgressLocked(
                f"another tutor session of yours is already open{who}; close it first"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd
        self._state = None  # read again under the lock: another session may have written
        # a session that ended mid-write (kill -9, a dropped link) may leave its temp file;
        # under the lock no other session is writing, so any left is stale
        for name in (STATE_FILE, LOG_FILE):
            for stale in self.root.glob(f".{name}.*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()

    def unlock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
            self._lock_fd = None

    # --- reading
    @property
    def where(self) -> str:
        return str(self.root)

    def state(self) -> dict[str, Any]:
        if self._state is None:
            self._state = self._load_state()
        return self._state

    def lessons(self) -> dict[str, Any]:
        return self.state().setdefault("lessons", {})

    def lesson_state(self, key: str) -> dict[str, Any]:
        return self.lessons().setdefault(key, {"steps": {}})

    def boxes(self) -> dict[str, int]:
        return self.state().setdefault("leitner", {})

    def _load_state(self) -> dict[str, Any]:
        empty: dict[str, Any] = {"version": STATE_VERSION, "lessons": {}}
        path = self.state_path
        if not path.exists():
            return self._rebuild_from_log(empty) if self.log_path.exists() else empty
        try:
            if path.stat().st_size > MAX_STATE_BYTES:
                raise ValueError("too large")
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("lessons"), dict):
                raise ValueError("not a progress state")
            return self._replay_tail(data)
        except (OSError, ValueError, UnicodeDecodeError, RecursionError) as err:
            kept = self._keep_aside(path)
            self.warnings.append(
                f"Your progress file was damaged ({_short(err)}); it was kept as {kept.name} "
                "and your answers were recovered from the attempt log."
            )
            return self._rebuild_from_log(empty)

    def attempts(self) -> list[dict[str, Any]]:
        """Every valid line of the attempt log; a damaged log is kept aside and cleaned."""
        path = self.log_path
        if not path.exists():
            return []
        good: list[dict[str, Any]] = []
        bad = 0
        raw = path.read_bytes()
        for line in raw.splitlines():
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict):
                    raise ValueError
                good.append(entry)
            except (ValueError, UnicodeDecodeError, RecursionError):
                bad += 1
        if bad and self._lock_fd is None:
            # only the session that holds the lock may rewrite the log (no race with it)
            self.warnings.append(f"{bad} damaged line(s) in your attempt log were skipped.")
        elif bad:
            kept = self._keep_aside(path, copy=True)
            self._write_atomic(path, "".join(json.dumps(e) + "\n" for e in good).encode("utf-8"))
            self.warnings.append(
                f"{bad} damaged line(s) in your attempt log were set aside (a copy is in "
                f"{kept.name}); everything else was kept."
            )
        return good

    def _rebuild_from_log(self, state: dict[str, Any]) -> dict[str, Any]:
        for entry in self.attempts():
            apply_entry(state, entry)
        state["log_bytes"] = self._log_size()
        return state

    def _replay_tail(self, state: dict[str, Any]) -> dict[str, Any]:
        """Apply the log entries written after the state was last saved (after a kill)."""
        size = self._log_size()
        done = state.get("log_bytes")
        if not isinstance(done, int) or done > size:
            state["lessons"] = {}
            return self._rebuild_from_log(state)  # the log was rewritten: start again
        if done == size:
            return state
        with open(self.log_path, "rb") as f:
            f.seek(done)
            tail = f.read()
        for line in tail.splitlines():
            try:
                entry = json.loads(line)
            except (ValueError, UnicodeDecodeError, RecursionError):
                return self._rebuild_from_log({**state, "lessons": {}})
            if isinstance(entry, dict):
                apply_entry(state, entry)
        state["log_bytes"] = size
        return state

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    # --- writing
    def record(self, entry: dict[str, Any]) -> None:
        """Log one event (on disk before this returns: the record of truth), apply it, and
        save the state soon. This is on the path from Enter to the verdict, so it costs one
        open, two ``fstat`` calls, one write and one ``fdatasync``, and no path look-ups."""
        state = self.state()
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        fd = self._open_log()
        try:
            if state.get("log_bytes") != os.fstat(fd).st_size:
                # the log changed since this state was read: catch up first. That may set a
                # damaged log aside and write a clean one in its place, so open it again.
                os.close(fd)
                fd = -1
                self._state = state = self._replay_tail(state)
                fd = self._open_log()
            os.write(fd, line)
            _sync_data(fd)
            state["log_bytes"] = os.fstat(fd).st_size
        finally:
            if fd >= 0:
                os.close(fd)
        apply_entry(state, entry)
        self.save_soon()

    def _open_log(self) -> int:
        """The log, opened for appending; its folder is made only if it is missing."""
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        try:
            return os.open(self.log_path, flags, 0o600)
        except FileNotFoundError:
            self.ensure_dir()
            return os.open(self.log_path, flags, 0o600)

    def save_soon(self) -> None:
        """Rewrite the state file at most once a second, off the interface's thread (its
        fsync can take milliseconds). The log already holds every answer, so a state file
        that is a little behind is caught up from the log when read."""
        self._dirty = True
        if time.monotonic() - self._saved_at >= SAVE_INTERVAL:
            self.save(background=True)

    def settle(self, timeout: float) -> None:
        """Wait a little for a background write in progress, starting none: for an exit that
        must be quick (a dropped link), so that no temp file is left half-written."""
        if self._writer is not None:
            self._writer.join(timeout)

    def flush(self) -> None:
        """Bring the state file up to date now (waiting for a background write)."""
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        if self._dirty:
            self.save()

    def save(self, background: bool = False) -> None:
        """Write the state file atomically: now, or in a short-lived thread."""
        state = self.state()
        state.setdefault("log_bytes", self._log_size())
        # encoded here: the writer thread then allocates nothing (no malloc arena of its own)
        data = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._dirty = False
        self._saved_at = time.monotonic()
        self._seq += 1
        if background:
            self._writer = threading.Thread(
                target=self._write_state, args=(data, self._seq, True), daemon=True
            )
            self._writer.start()
        else:
            self._write_state(data, self._seq)

    def _write_state(self, data: bytes, seq: int, background: bool = False) -> None:
        with self._write_lock:  # one writer at a time; never an older snapshot over a newer
            if seq <= self._written:
                return
            try:
                self._write_atomic(self.state_path, data)
            except OSError:
                if not background:
                    raise
                self._dirty = True  # tried again (and reported) at the next save or on exit
                return
            self._written = seq

    def _write_atomic(self, path: Path, data: bytes) -> None:
        self.ensure_dir()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        with contextlib.suppress(OSError):
            dfd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def _keep_aside(self, path: Path, copy: bool = False) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept = path.with_name(f"{path.name}.damaged-{stamp}")
        n = 1
        while kept.exists():
            n += 1
            kept = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
        if copy:
            kept.write_bytes(path.read_bytes())
            os.chmod(kept, 0o600)
        else:
            os.replace(path, kept)
        return kept

    def reset(self, key: str | None = None) -> None:
        self.record({"time": now(), "event": "reset", "lesson_key": key or "*"})
        self.save()


def apply_entry(state: dict[str, Any], entry: dict[str, Any]) -> None:
    """Bring the state up to date with one log entry: the one place that knows how."""
    lessons = state.setdefault("lessons", {})
    key, step = entry.get("lesson_key"), entry.get("step")
    if entry.get("event") == "reset":
        if key == "*":
            lessons.clear()
        else:
            lessons.pop(key, None)
        return
    record = entry.get("record")
    if not (isinstance(key, str) and isinstance(step, str) and isinstance(record, dict)):
        return
    lesson = lessons.setdefault(key, {"steps": {}})
    if not isinstance(lesson.get("steps"), dict):
        lesson["steps"] = {}
    lesson["steps"][step] = record
    for k in ("lesson", "seed", "mode", "elapsed", "total", "current", "asked"):
        if k in entry:
            lesson[k] = entry[k]
    if "time" in entry:
        lesson["updated"] = entry["time"]
    if isinstance(entry.get("leitner"), dict):
        state["leitner"] = dict(entry["leitner"])


def _sync_data(fd: int) -> None:
    """Flush a file's data, and the size that reads it back, to the disk. ``fdatasync``
    skips the times an ``fsync`` also writes; systems without it get ``fsync``."""
    getattr(os, "fdatasync", os.fsync)(fd)


def _short(err: Exception) -> str:
    text = str(err) or type(err).__name__
    return text[:60]
