"""What ``tutor class watch`` shows, kept up to date from the class log: where each roster
student is now (:class:`Seat`), a lesson's steps across the class (:class:`StepBar`) and a
student's attempts (:func:`Room.history`). No Textual: the screens lay these out.

:meth:`Room.refresh` reads only the events committed since the last call
(:meth:`ClassLog.follow`) and works out again the seats of the students they belong to;
who is on is asked again at most every :data:`ONLINE_SECONDS` (a login or logout is also an
event the watcher sees).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from tutor.classroom.activity import ClassLog, Event, StudentLog
from tutor.classroom.database import ClassDatabase
from tutor.classroom.gradebook import lesson_id
from tutor.classroom.lessonsteps import course_steps
from tutor.progress.records import RIGHT
from tutor.progress.report import lesson_rows

ONLINE_SECONDS = 5.0


@dataclass(frozen=True)
class Seat:
    """One roster student as the dashboard shows them."""

    student: str
    online: bool = False
    online_since: datetime | None = None
    lesson: str | None = None  # the lesson of their latest event
    key: str | None = None  # its progress entry (variant and mode)
    mode: str = "learn"
    step: str | None = None  # the step they are on (None: finished, or nothing yet)
    place: int = 0  # the step's number among the lesson's asked steps (1-based)
    steps: int = 0
    score: float = 0.0
    hints: int = 0
    wrong: int = 0  # wrong tries in the lesson
    step_wrong: int = 0  # wrong tries on the step they are on
    since: datetime | None = None  # when they came to that step (or logged in, if later)
    last_mistake: str | None = None
    finished: bool = False
    events: int = 0

    def on_step(self, now: datetime) -> float | None:
        """Seconds on the current step, None when there is none."""
        if self.step is None or self.since is None:
            return None
        return max(0.0, (now - self.since).total_seconds())

    def stuck(self, now: datetime, minutes: float, tries: int) -> str | None:
        """Why the student needs a look ("7 min", "4 wrong"), or None. Only a student who
        is on: yesterday's unfinished step is no alarm."""
        if not self.online or self.step is None:
            return None
        if self.step_wrong >= tries:
            return f"{self.step_wrong} wrong"
        seconds = self.on_step(now)
        if seconds is not None and seconds >= minutes * 60:
            return f"{int(seconds // 60)} min" if seconds >= 60 else f"{int(seconds)} s"
        return None


@dataclass(frozen=True)
class StepBar:
    """One step of a lesson across the class."""

    step: str
    label: str
    passed: int  # students with the step right
    answered: int  # students who answered it at all
    first_try: int  # students right at their first answer
    revealed: int
    mistake: str | None  # the most common named mistake
    mistake_count: int = 0

    @property
    def first_try_rate(self) -> float | None:
        return self.first_try / self.answered if self.answered else None


class Room:
    """The class as it is now; thread-safe (the watcher thread refreshes it while the
    interface reads it)."""

    def __init__(self, db: ClassDatabase):
        self.db = db
        # no event is kept: where each student is, is followed as the events go by
        # (StudentLog.places), from the summaries the database keeps at the first read
        self.log = ClassLog(db.backend, keep=False)
        self._started = False
        self.steps = course_steps([*db.course.lessons, *(e.lesson for e in db.course.exams)])
        self.lock = threading.RLock()
        self.seats: dict[str, Seat] = {}
        self._online: dict[str, datetime] = {}
        self._online_at = -1e9
        self.updated: datetime | None = None

    @property
    def course_lessons(self) -> list[str]:
        return [lesson_id(ref) for ref in self.db.course.lessons]

    def refresh(self, force_online: bool = False) -> bool:
        """Read what is new; True if anything shown changed."""
        with self.lock:
            before_count = self.log.count
            if not self._started:
                self.log.from_summaries()
                self._started = True
            self.log.follow()
            changed = self.log.count != before_count
            roster = self.db.roster()
            online_changed = False
            if changed or force_online or time.monotonic() - self._online_at >= ONLINE_SECONDS:
                online = self.db.online()
                self._online_at = time.monotonic()
                online_changed = online != self._online
                self._online = online
            names = set(roster)
            stale = [
                n
                for n in names
                if n not in self.seats
                or self.seats[n].events != self.log.of(n).count
                or online_changed
            ]
            for name in stale:
                self.seats[name] = self._seat(name)
            for gone in set(self.seats) - names:
                del self.seats[gone]
            self.updated = datetime.now(UTC)
            return bool(changed or online_changed or stale)

    def _seat(self, name: str) -> Seat:
        mine = self.log.of(name)
        online = self._online.get(name)
        seat = Seat(name, online is not None, online, events=mine.count)
        key = mine.last_key
        place = mine.places.get(key or "")
        if key is None or place is None:
            return seat
        entry = mine.entry(key)
        if not isinstance(entry, dict):
            return seat  # reset since
        rows = lesson_rows(_One(mine, key), asked_steps=self.steps.asked)
        if not rows:
            return seat
        row = rows[0]
        opened = self.steps.asked(row["lesson"], row["seed"], entry.get("asked"))
        asked = opened[0] if opened else []
        # the step the session asks now (a skipped step can leave an earlier one open)
        step = entry["current"] if "current" in entry else row["current"]
        record = entry.get("steps", {}).get(step, {}) if step else {}
        arrived = place.since if step is not None and place.current == step else None
        if arrived is not None and online is not None:
            arrived = max(arrived, online)
        mistake = place.mistake
        return replace(
            seat,
            lesson=row["lesson"],
            key=key,
            mode=row["mode"],
            step=step,
            place=asked.index(step) + 1 if step in asked else 0,
            steps=row["total"],
            score=row["score"],
            hints=row["hints"],
            wrong=row["misses"],
            step_wrong=int(record.get("misses", 0)) if isinstance(record, dict) else 0,
            since=arrived,
            last_mistake=mistake,
            finished=row["finished"],
        )

    def rows(self) -> list[Seat]:
        with self.lock:
            return [self.seats[n] for n in sorted(self.seats)]

    def busiest_lesson(self) -> str | None:
        """The lesson most students are on now (the course's first if nobody is)."""
        with self.lock:
            counts = Counter(s.lesson for s in self.seats.values() if s.lesson)
        if counts:
            return counts.most_common(1)[0][0]
        return self.course_lessons[0] if self.course_lessons else None

    def lesson_view(self, lesson: str) -> list[StepBar]:
        """Each asked step of ``lesson`` across the class: every roster student's latest
        learn-mode entry of it (exams are the exam's business, not the room's)."""
        with self.lock:
            entries = []
            for name in self.seats:
                entry = _latest_entry(self.log.of(name), lesson)
                if entry is not None:
                    entries.append(entry)
            bars = []
            for info in self.steps.steps(lesson):
                passed = answered = first = revealed = 0
                mistakes: Counter[str] = Counter()
                for entry in entries:
                    rec = entry.get("steps", {}).get(info.id)
                    if not isinstance(rec, dict):
                        continue
                    status = rec.get("status")
                    right = status in RIGHT
                    passed += right
                    revealed += status == "revealed"
                    if rec.get("attempts"):
                        answered += 1
                        first += right and not rec.get("misses")
                    mistakes.update(str(d) for d in rec.get("diagnoses", []) or [])
                top = mistakes.most_common(1)
                bars.append(
                    StepBar(
                        info.id,
                        info.label,
                        passed,
                        answered,
                        first,
                        revealed,
                        top[0][0] if top else None,
                        top[0][1] if top else 0,
                    )
                )
            return bars

    def history(self, student: str, key: str | None = None) -> list[Event]:
        """The student's events of one progress entry (their current one by default), read
        from the database when asked."""
        with self.lock:
            if key is None:
                seat = self.seats.get(student)
                key = seat.key if seat is not None else None
            events = self.log.events_of(student)
        return [e for e in events if e.entry.get("lesson_key") == key]


class _One:
    """One entry of a student's replayed log, as :func:`lesson_rows` reads a store."""

    def __init__(self, log: StudentLog, key: str):
        self._lessons = {key: log.entry(key)}

    def lessons(self) -> dict[str, Any]:
        return self._lessons


def _latest_entry(log: StudentLog, lesson: str) -> dict[str, Any] | None:
    found = None
    # only the entries that can be the lesson's are parsed (a kept state names its lesson)
    marker = f'"lesson": {json.dumps(lesson, ensure_ascii=False)}'
    for entry in [log.entry(k) for k in log.mentioning(marker)]:
        if (
            isinstance(entry, dict)
            and entry.get("lesson") == lesson
            and entry.get("mode", "learn") in ("learn", "review")
            and (found is None or str(entry.get("updated", "")) >= str(found.get("updated", "")))
        ):
            found = entry
    return found
