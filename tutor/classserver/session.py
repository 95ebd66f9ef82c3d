"""A student's session, in the process forked for it from the preloaded process: the
terminal made this process's own, the class database opened (its own connection, after the
fork), and the tutor run on it under the course's rules.

:func:`preload` runs once, in the preloaded process, before any fork: every module a session
needs is imported and what every session would build the same way is built there, so that
the sessions share those pages instead of each making its own copy.
"""

from __future__ import annotations

import fcntl
import os
import sys
import termios
from pathlib import Path
from typing import Any, TextIO

from tutor.classroom.course import CourseError, load_course
from tutor.classroom.database import open_database
from tutor.classserver.logline import log
from tutor.classserver.rules import CourseRules, read_course_lessons
from tutor.progress.interface import ProgressLocked
from tutor.textmode import wants_ascii

#: environment variables a client may set (as sshd's AcceptEnv LANG LC_* NO_COLOR)
ACCEPTED_ENV = ("LANG", "NO_COLOR")


def preload(folder: Path | None = None) -> None:
    """Import and build, once, what every session uses (then shared by all of them): the
    interface, run once; the course's lessons, read."""
    import numpy  # noqa: F401  (the engine's; a lone tutor loads it after the first paint)

    import tutor.grading.grade  # noqa: F401
    import tutor.session  # noqa: F401
    import tutor.ui.app  # noqa: F401
    import tutor.ui.screens.picker  # noqa: F401
    import tutor.ui.screens.quiz  # noqa: F401
    import tutor.ui.screens.review  # noqa: F401
    import tutor.ui.screens.summary  # noqa: F401
    from tutor.ui.warm import import_what_a_run_imports, warm_up

    import_what_a_run_imports()
    warm_up()
    if folder is not None:
        try:
            read_course_lessons(load_course(folder))
        except CourseError:
            pass  # each session says what is wrong with it


def session_environment(request: dict[str, Any]) -> dict[str, str]:
    """The session's environment: the server's, with the terminal type and the variables a
    client may set (LANG, LC_*, NO_COLOR) from the student's client, and a steady cursor."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("COLUMNS", "LINES", "NO_COLOR", "LANG") and not k.startswith("LC_")
    }
    env["TERM"] = str(request.get("term") or "xterm")
    for key, value in dict(request.get("env") or {}).items():
        if key in ACCEPTED_ENV or key.startswith("LC_"):
            env[str(key)] = str(value)
    env["TUTOR_NO_BLINK"] = "1"  # a blinking cursor keeps a dead link looking busy
    return env


def take_terminal(tty: int) -> None:
    """Make ``tty`` this process's controlling terminal and its standard streams."""
    os.setsid()
    fcntl.ioctl(tty, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(tty, fd)
    if tty > 2:
        os.close(tty)
    # sys.stdin, stdout and stderr keep their objects: they are fds 0, 1 and 2, now the
    # terminal (the preloaded process runs in UTF-8 mode, so they write UTF-8)


def say(text: str) -> None:
    """A line on the student's terminal (outside the interface)."""
    sys.stdout.write(text.replace("\n", "\r\n") + "\r\n")
    sys.stdout.flush()


def run(request: dict[str, Any], tty: int, log_stream: TextIO) -> int:
    """The session: 0 when the student quit (or was ended by the server), 2 when it could
    not start (said on the terminal, and in the server's log)."""
    name = str(request["name"])
    os.environ.clear()
    os.environ.update(session_environment(request))
    take_terminal(tty)
    try:
        course = load_course(Path(request["folder"]))
    except CourseError as err:
        log("error", log_stream, student=name, what=str(err))
        say("The class is not available right now; please tell your instructor.")
        return 2
    os.chdir(course.folder)  # lesson paths in course.toml are relative to the folder
    database = open_database(course)
    store = database.progress(name)
    try:
        store.lock()
    except ProgressLocked as err:
        log("refused", log_stream, student=name, why="locked", what=str(err))
        say(f"tutor: {err}")
        database.close()
        return 2
    except OSError as err:  # the database cannot be used (ProgressUnusable)
        log("error", log_stream, student=name, what=str(err))
        say("tutor: your progress cannot be read right now; please tell your instructor.")
        database.close()
        return 2
    try:
        return _run_app(course, database, name, store)
    finally:
        store.flush()
        store.unlock()
        database.close()


def _run_app(course: Any, database: Any, name: str, store: Any) -> int:
    from tutor.ui.app import TutorApp
    from tutor.ui.warm import share_styles

    if os.environ.get("TERM", "") in ("dumb", "unknown"):
        import textual.constants

        # as `tutor` does for these terminals (read by the app, imported before the fork)
        setattr(textual.constants, "COLOR_SYSTEM", "standard")  # noqa: B010
    rules = CourseRules(course, database, name, store)
    first = rules.first_lesson()
    app = TutorApp(
        first,
        ascii_only=wants_ascii(),
        blink=False,
        store=store,
        mode="exam" if first is not None else "learn",
        rules=rules,
    )
    share_styles(app)
    app.run()
    if app.farewell:  # where the student stopped; a command to resume means nothing here
        said = app.farewell.splitlines()[0]
        say(said + (" Log in again to go on." if said.startswith("Stopped") else ""))
    return 0
