"""A session process for the class tests: opens the course's database on its own (as each
class server session does), takes the student's session lock, and answers the lesson's
steps right one after another, printing each step's id once its verdict is back (the
answer was committed). ``python class_writer.py COURSE STUDENT N [PAUSE]``"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from classhelpers import session_in  # noqa: E402

from tutor.classroom.course import load_course  # noqa: E402
from tutor.classroom.database import open_database  # noqa: E402


def main() -> int:
    folder, student, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    db = open_database(load_course(folder))
    session_id = db.session_opened(student, "127.0.0.1", os.getpid())
    store = db.progress(student)
    store.lock()
    session = session_in(store)
    print("ready", flush=True)
    for _ in range(n):
        if session.current is None:
            break
        step = session.current
        outcome = session.submit(f"{step.value:.6f}")
        if not outcome.advanced:
            print(f"refused {outcome.message}", flush=True)
            return 1
        print(step.id, flush=True)
        if pause:
            time.sleep(pause)
    db.session_closed(session_id, "quit")
    store.unlock()
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
