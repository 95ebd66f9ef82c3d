"""``tutor class watch DIR``: opens the class database and runs the dashboard app. The one
class command that loads Textual (dispatched from :mod:`tutor.cli`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tutor.cli.common import EXIT_OK, EXIT_USAGE, CliError


def cmd_watch(args: argparse.Namespace) -> int:
    from tutor.classroom.backends import DatabaseFailed
    from tutor.classroom.changes import changes_of
    from tutor.classroom.live import Room
    from tutor.classroom.tomlfile import CourseError
    from tutor.cli.classroom import _database

    if not sys.stdout.isatty() or not sys.stdin.isatty():
        raise CliError("tutor class watch needs a terminal (for a file, use 'tutor class report')")
    try:
        db = _database(Path(args.folder))
    except CourseError as err:
        for problem in err.problems:
            print(f"tutor: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseFailed as err:
        raise CliError(str(err)) from None
    changes = changes_of(db.backend)
    try:
        room = Room(db)  # read by the dashboard's thread: the screen shows at once
        from tutor.ui.watch import WatchApp

        WatchApp(room, changes, args.stuck_minutes, max(1, args.stuck_tries), args.ascii).run()
    except DatabaseFailed as err:
        raise CliError(str(err)) from None
    finally:
        changes.close()
        db.close()
    return EXIT_OK
