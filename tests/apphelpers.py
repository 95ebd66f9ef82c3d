"""Helpers for driving the app with Pilot and reading what it shows."""

from __future__ import annotations

import html
import re
from contextlib import asynccontextmanager

from conftest import LESSONS

from tutor.lesson.reader import load_lesson, parse_lesson
from tutor.progress.store import ProgressStore
from tutor.ui.app import TutorApp


def make_app(tmp_path, lesson="sigmoid-2-2-2", text: str | None = None, **kw) -> TutorApp:
    store = ProgressStore(tmp_path / "progress")
    if text is not None:
        les = parse_lesson(text, lesson_id="custom")
    elif lesson is None:
        les = None
    else:
        les = load_lesson(LESSONS / f"{lesson}.toml")
    ticks = iter(range(0, 10**6, 7))
    kw.setdefault("clock", lambda: float(next(ticks)))
    return TutorApp(les, blink=False, store=store, **kw)


def screen_text(app) -> str:
    """The visible screen as plain text, rebuilt from the SVG screenshot."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        x, y, body = float(m.group(1)), float(m.group(2)), m.group(3)
        rows.setdefault(y, []).append((x, html.unescape(body).replace("\xa0", " ")))
    lines = []
    for y in sorted(rows):
        lines.append("".join(t for _, t in sorted(rows[y])))
    return "\n".join(lines)


@asynccontextmanager
async def run(app, **kw):
    """``app.run_test(**kw)``, then wait until the lesson's session is attached (the app
    builds it in a worker after the first paint)."""
    async with app.run_test(**kw) as pilot:
        if app.lesson is not None and app.mode != "review":
            await wait_for(pilot, lambda: app.session is not None, tries=200)
        yield pilot


async def wait_for(pilot, condition, tries: int = 50) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause()
    assert condition(), "condition never became true"


async def answer(pilot, text: str) -> None:
    """Type an answer key by key (as a person would) and press Enter."""
    await pilot.press(*text, "enter")
    await pilot.pause()


async def fill(pilot, text: str) -> None:
    """Put an answer in the box and press Enter: fast, for long runs through a lesson."""
    from textual.widgets import Input

    pilot.app.screen.query_one("#answer", Input).value = text
    await pilot.press("enter")


async def answer_steps(pilot, n: int | None = None) -> None:
    """Answer the first n steps of the plan (all by default) with the engine's values."""
    steps = list(pilot.app.session.plan)
    for step in steps[: len(steps) if n is None else n]:
        await fill(pilot, f"{step.value:.5f}")
    await pilot.pause()
