"""TextLines draws like a Static but repaints only the lines an update changed."""

from __future__ import annotations

from apphelpers import drawings
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from tutor.widgets.textlines import TextLines


class Pair(App):
    CSS = "TextLines, Static { height: 3; width: 30; padding: 0 1; }"

    def compose(self) -> ComposeResult:
        yield TextLines(id="lines")
        yield Static(id="static")


def shown(widget) -> list[str]:
    return [strip.text for strip in widget.render_lines(widget.content_region.reset_offset)]


async def test_it_draws_what_a_static_draws_and_repaints_only_changed_lines():
    app = Pair()
    async with app.run_test(size=(40, 8)) as pilot:
        lines, static = app.query_one("#lines", TextLines), app.query_one("#static", Static)
        first = Text("Not quite: you used w5 where w6 belongs in this sum.", style="red")
        lines.update(first)
        static.update(first)
        await pilot.pause()
        assert shown(lines) == shown(static)
        assert shown(lines)[1].strip()  # wrapped onto a second line

        lines._dirty_regions.clear()
        lines.update(Text("Correct: sum_h1 = 0.3775", style="green"))
        assert {r.y for r in lines._dirty_regions} == {0, 1}  # the third line stays blank
        await pilot.pause()

        lines._dirty_regions.clear()
        lines.update(Text("Correct: sum_h2 = 0.3925", style="green"))
        assert {(r.y, r.height) for r in lines._dirty_regions} == {(0, 1)}
        await pilot.pause()
        assert shown(lines)[0].strip() == "Correct: sum_h2 = 0.3925"

        lines._dirty_regions.clear()
        lines.update(Text("Correct: sum_h2 = 0.3925", style="green"))
        assert not lines._dirty_regions  # nothing changed, nothing repainted


class AutoHeight(Pair):
    CSS = Pair.CSS + "#lines { height: auto; }"  # Textual measures the text for the height


async def test_its_text_is_never_read_as_markup():
    app = AutoHeight()
    async with app.run_test(size=(40, 8)) as pilot:
        lines = app.query_one("#lines", TextLines)
        lines.update("[bold]w1[/] [red]y")
        await pilot.pause()
        assert shown(lines)[0].strip() == "[bold]w1[/] [red]y"
        lines.update("[/x] closes nothing")
        await pilot.resize_terminal(41, 8)  # a layout: Textual measures the text's height
        await pilot.pause()
        assert shown(lines)[0].strip() == "[/x] closes nothing"


def test_it_takes_text_before_it_is_mounted():
    lines = TextLines()
    lines.update("Correct")
    assert str(lines.render()) == "Correct"


async def test_a_resize_draws_it_again_at_the_new_width():
    app = Pair()
    async with app.run_test(size=(40, 8)) as pilot:
        lines = app.query_one("#lines", TextLines)
        lines.update("one two three four five six seven eight")
        await pilot.pause()
        lines.styles.width = 16
        await pilot.pause()
        assert [s.rstrip() for s in shown(lines)] == [
            " one two three",
            " four five six",
            " seven eight",
        ]


async def test_a_text_drawn_ahead_is_shown_without_drawing(monkeypatch):
    app = Pair()
    async with app.run_test(size=(40, 8)) as pilot:
        lines, static = app.query_one("#lines", TextLines), app.query_one("#static", Static)
        lines.update(Text("Correct: sum_h1 = 0.3775", style="green"))
        await pilot.pause()
        coming = Text("Correct: out_h1 = 0.59327, and the rest of a long line", style="green")
        lines.prepare(coming)
        drawn = drawings(monkeypatch)
        lines._dirty_regions.clear()
        lines.update(coming)
        assert {r.y for r in lines._dirty_regions} == {0, 1}
        await pilot.pause()
        assert "lines" not in drawn
        static.update(coming)
        await pilot.pause()
        assert shown(lines) == shown(static)

        # drawn for another width: drawn again at the new one, not shown as it was
        lines.prepare(Text("one two three four five six seven eight"))
        lines.styles.width = 16
        await pilot.pause()
        drawn.clear()
        lines.update(Text("one two three four five six seven eight"))
        await pilot.pause()
        assert "lines" in drawn
        assert shown(lines)[1].strip() == "four five six"


async def test_only_a_few_drawings_are_kept(monkeypatch):
    from tutor.widgets.textlines import KEPT

    app = Pair()
    async with app.run_test(size=(40, 8)) as pilot:
        lines = app.query_one("#lines", TextLines)
        for k in range(50):
            lines.prepare(f"text {k}")
        assert len(lines._drawings) == KEPT
        await pilot.pause()
        drawn = drawings(monkeypatch)
        lines.update("text 49")  # among the newest: kept
        lines.update("text 0")  # long gone: drawn again
        assert drawn == ["lines"]


async def test_a_rich_renderable_is_drawn_each_time_it_is_shown(monkeypatch):
    """Only str and Text can be told equal without drawing them; anything else is drawn."""
    from rich.console import Group

    app = Pair()
    async with app.run_test(size=(40, 8)) as pilot:
        lines = app.query_one("#lines", TextLines)
        lines.update(Group(Text("a"), Text("b")))
        await pilot.pause()
        drawn = drawings(monkeypatch)
        lines.update(Group(Text("a"), Text("c")))
        await pilot.pause()
        assert drawn == ["lines"]
        assert [s.rstrip() for s in shown(lines)[:2]] == [" a", " c"]


async def test_a_style_change_draws_the_text_again():
    """A class or an inline style that reshapes text is never shown with an old drawing."""
    app = Pair()
    async with app.run_test(size=(40, 8)) as pilot:
        lines, static = app.query_one("#lines", TextLines), app.query_one("#static", Static)
        for widget in (lines, static):
            widget.update("Correct: sum_h1 = 0.41000")
        lines.prepare("Next")
        await pilot.pause()
        assert shown(lines) == shown(static)
        for widget in (lines, static):
            widget.styles.text_align = "right"  # inline: no notify_style_update
        await pilot.pause()
        assert shown(lines) == shown(static)
        assert shown(lines)[0].startswith("   ")
        app.theme = "textual-light"  # a theme change: every style is worked out again
        for widget in (lines, static):
            widget.add_class("x")
        await pilot.pause()
        assert shown(lines) == shown(static)
        assert ("Next", ...) not in lines._drawings
        assert all(text != "Next" for text, _ in lines._drawings)
