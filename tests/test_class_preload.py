"""The class server's preloaded process, before it forks any session: what it builds and
what it leaves behind. Each check runs in a fresh interpreter (the preloading forks, and
the test process has threads). What this saves in memory is measured by
benchmarks/class_server.py, not here."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def run_python(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_the_modules_a_run_imports_are_learnt_in_a_child_and_imported_here():
    found = run_python(
        """
        import json, os, sys, threading
        import tutor.ui.app
        from tutor.ui import warm
        before = "tutor.engine" in sys.modules, "textual.drivers.linux_driver" in sys.modules
        warm.import_what_a_run_imports()
        try:
            os.waitpid(-1, os.WNOHANG)
            child = True
        except ChildProcessError:
            child = False
        print(json.dumps({
            "before": before,
            "after": ["tutor.engine" in sys.modules,
                      "textual.drivers.linux_driver" in sys.modules],
            "threads": threading.active_count(),
            "child": child,
            "ran here": bool(warm._STYLES),
        }))
        """
    )
    # learnt from a warm-up run in a child, imported here before this process's own run
    assert found["before"] == [False, False]
    assert found["after"] == [True, True]
    assert found["ran here"] is False
    assert found["threads"] == 1  # about to fork: nothing but the main thread
    assert found["child"] is False  # the child that ran has been reaped


def test_preparing_empties_every_lru_cache_the_warm_up_filled():
    found = run_python(
        """
        import functools, gc, json
        from tutor.classserver.forkserver import empty_lru_caches
        from tutor.ui.warm import warm_up
        warm_up()
        def filled():
            return sum(
                o.cache_info().currsize
                for o in gc.get_objects()
                if isinstance(o, functools._lru_cache_wrapper)
            )
        before = filled()
        empty_lru_caches()
        print(json.dumps({"before": before, "after": filled()}))
        """
    )
    assert found["before"] > 100  # Textual's and Rich's caches, filled by the run
    assert found["after"] == 0
