"""Feedback latency: from Enter to the feedback rendered, measured with Pilot.

For each answer it times the Enter handler (grading, saving, widget updates) and the time
until the last frame that Enter caused has been handed to the terminal driver. Reports p50/p95.
The bare Textual app's figure for the same measure is printed alongside, for context.
Run: .venv/bin/python benchmarks/latency.py [--lesson ID|PATH] [--answers N] [--rounds R]
Targets: p95 within one 60 Hz frame (16.7 ms) for sigmoid-2-2-2; p95 ≤ 50 ms for a lesson
of 10,000+ steps.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from textual.widgets import Input  # noqa: E402

from tutor.catalog import read  # noqa: E402
from tutor.progress.store import ProgressStore  # noqa: E402
from tutor.ui.app import TutorApp  # noqa: E402

KEY_INTERVAL = 0.05  # seconds between the last key of an answer and Enter
SETTLE = 0.2  # seconds after Enter within which every frame it causes has been painted


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def watch_frames(app) -> list[float]:
    """Record when each frame is handed to the terminal driver (``App._display``, called by
    the compositor once per frame). A ``call_after_refresh`` callback is no such mark: it
    can run before the widgets an answer changed have asked for their repaint. Under Pilot
    the frame is not turned into terminal bytes, so this is a little short of a real
    terminal's figure (the same for the bare app)."""
    frames: list[float] = []
    display = app._display

    def timed(screen, renderable) -> None:
        frames.append(time.perf_counter())
        display(screen, renderable)

    app._display = timed
    return frames


async def enter_to_frame(app, pilot, frames: list[float], enter: Callable[[], object]):
    """Milliseconds that ``enter`` (the Enter handler) takes, and from its start until the
    last frame it caused was painted (every frame within ``SETTLE`` of it: nothing else
    moves on screen, the cursor blink is off). The learner's last key is painted first, and
    Enter comes a keystroke later (50 ms is a fast typist): Textual paints at most 60 frames
    a second, so an Enter within 1/60 s of the last paint would wait for the next frame slot."""
    await pilot.pause()
    await asyncio.sleep(KEY_INTERVAL)
    frames.clear()
    t0 = time.perf_counter()
    enter()
    t1 = time.perf_counter()
    await asyncio.sleep(SETTLE)
    if not frames:
        raise RuntimeError("no frame was painted after Enter")
    return (t1 - t0) * 1000, (frames[-1] - t0) * 1000


async def measure(lesson_ref: str, answers: int) -> tuple[list[float], list[float], int]:
    lesson = read(lesson_ref)
    store = ProgressStore(Path(tempfile.mkdtemp(prefix="tutor-latency-")))
    app = TutorApp(lesson, blink=False, store=store, restart=True)
    handler, frame = [], []
    async with app.run_test(size=(80, 24)) as pilot:
        while app.session is None:
            await pilot.pause()
        screen = app.screen
        box = screen.query_one("#answer", Input)
        frames = watch_frames(app)
        steps = len(app.session.plan)
        for k in range(answers):
            step = app.session.current
            if step is None:
                break
            wrong = k % 3 == 2  # a wrong answer now and then: diagnosis is the slow path
            text = "0.123456" if wrong else f"{step.value:.6f}"
            box.value = text
            h, f = await enter_to_frame(
                app, pilot, frames, lambda text=text: screen.submit(box, text)
            )
            handler.append(h)
            frame.append(f)
            if wrong:  # then answer it right
                box.value = f"{step.value:.6f}"
                screen.submit(box, box.value)
            await pilot.pause()
    return handler, frame, steps


async def measure_floor(answers: int) -> list[float]:
    """The same Enter→frame measure for the bare app (one Static, one Input): a Static
    updated and the Input cleared. Context for the figures, measured in the same run."""
    sys.path.insert(0, str(HERE))
    from bare_app import Bare
    from textual.widgets import Static

    app = Bare()
    frame = []
    async with app.run_test(size=(80, 24)) as pilot:
        box, note = app.query_one(Input), app.query_one(Static)
        frames = watch_frames(app)
        for k in range(answers):
            box.value = f"0.{k}1"

            def enter(k: int = k) -> None:
                note.update(f"Correct: sum_h1 = 0.{k}1000")
                box.value = ""

            frame.append((await enter_to_frame(app, pilot, frames, enter))[1])
    return frame


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lesson", default="sigmoid-2-2-2")
    ap.add_argument("--answers", type=int, default=45)
    ap.add_argument("--rounds", type=int, default=3, help="runs pooled (the VM is noisy)")
    ap.add_argument("--target", type=float, default=None, help="p95 target in ms")
    args = ap.parse_args()
    handler, frame, floor = [], [], []
    for _ in range(args.rounds):  # interleaved with the floor, so both see the same machine
        h, f, steps = asyncio.run(measure(args.lesson, args.answers))
        handler += h
        frame += f
        floor += asyncio.run(measure_floor(min(args.answers, 45)))
    target = args.target if args.target is not None else (1000 / 60 if steps < 10_000 else 50.0)
    print(
        f"bare app (Static + Input) Enter→frame p50 {statistics.median(floor):.1f} ms "
        f"p95 {pct(floor, 0.95):.1f} ms"
    )
    print(
        f"{args.lesson} ({steps} steps), {len(frame)} answers in {args.rounds} runs: "
        f"handler p50 {statistics.median(handler):.1f} ms p95 {pct(handler, 0.95):.1f} ms; "
        f"Enter→frame p50 {statistics.median(frame):.1f} ms p95 {pct(frame, 0.95):.1f} ms "
        f"(target p95 ≤ {target:.1f} ms)"
    )
    return 0 if pct(frame, 0.95) <= target else 1


if __name__ == "__main__":
    sys.exit(main())
