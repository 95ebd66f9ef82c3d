"""The app driven headless with Pilot at 80×24: the whole flow, keys, text and sizes."""

from __future__ import annotations

import pytest
from apphelpers import (
    answer,
    answer_steps,
    fill,
    make_app,
    run,
    screen_text,
    wait_for,
)
from conftest import LESSONS
from textual.widgets import Input

from tutor.catalog import catalogue
from tutor.progress.records import StepRecord
from tutor.ui.screens.picker import PickerScreen
from tutor.ui.screens.quiz import AnswerGraded, QuizScreen
from tutor.ui.screens.summary import SummaryScreen

SEED = (LESSONS / "sigmoid-2-2-2.toml").read_text()


def feedback(app) -> str:
    return str(app.screen.query_one("#feedback").render())


async def test_right_answers_advance_and_show_correct(tmp_path):
    app = make_app(tmp_path)
    graded = []
    async with run(
        app,
        size=(80, 24),
        message_hook=lambda m: graded.append(m) if isinstance(m, AnswerGraded) else None,
    ) as pilot:
        assert isinstance(app.screen, QuizScreen)
        assert app.session.current.id == "sum_h1"
        await answer(pilot, "0.1*0.1 + 0.5*0.3 + 0.25")
        assert "Correct: sum_h1 = 0.41000" in feedback(app)
        assert app.session.current.id == "out_h1"
        assert app.screen.query_one("#answer", Input).value == ""
        text = screen_text(app)
        assert "step 2/53" in text and "score 1" in text
        assert "out_h1 =" in text  # the label of the next step is asked by itself
        assert "sum_h1" in text and "0.41000" in text  # in the history
    # the message bubbles from the screen to the app: count each message once
    unique = {id(m): m for m in graded}.values()
    assert [m.verdict.verdict for m in unique] == ["correct"]


async def test_wrong_answer_stays_and_diagnoses(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await answer(pilot, "0.16")
        assert app.session.current.id == "sum_h1"
        assert "bias seems to be missing" in feedback(app)
        await answer(pilot, "hello")  # invalid: no attempt counted
        assert app.session.records["sum_h1"].attempts == 1
        assert "Unknown name" in feedback(app)


async def test_hint_levels_rise_with_keys_and_with_misses(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await pilot.press("f2")
        assert app.session.records["sum_h1"].hint_level == 1
        assert "Hint 1 of 3" in feedback(app)
        await pilot.press("ctrl+t")
        assert app.session.records["sum_h1"].hint_level == 2
        assert "i1 · w1 + i2 · w3" in screen_text(app)
        await pilot.press("f2")
        assert "Hint 3: sum_h1 = 0.1 · 0.1 + 0.5 ·" in screen_text(app)
        await pilot.press("f2")
        assert "No more hints" in feedback(app)
    app = make_app(tmp_path / "b")
    async with run(app, size=(80, 24)) as pilot:
        for wrong in ("1", "2", "3"):
            await answer(pilot, wrong)
        assert app.session.records["sum_h1"].hint_level == 2  # escalated by itself


async def test_reveal_needs_confirmation_and_is_not_correct(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await pilot.press("f4")
        assert app.session.current.id == "sum_h1"
        assert "again to reveal" in feedback(app)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.session.records["sum_h1"].status == "revealed"
        assert app.session.score == 0
        assert "Revealed: sum_h1 = 0.41000" in feedback(app)


async def test_breakdown_of_current_and_earlier_steps(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        app.session.index = app.session.plan.index("dE_total/dw5")
        for sid in ("dE_total/dout_o1", "dout_o1/dsum_o1", "dsum_o1/dw5"):
            app.session.records[sid] = StepRecord("correct", "x", app.session.plan[sid].value)
        await pilot.press("f3")
        text = screen_text(app)
        assert "Breakdown of ∂E_total/∂w5" in text
        assert "0.08020" not in text  # the current step's value is not given away
        await answer(pilot, "0.08020")
        await pilot.press("f6")  # back: look at the step just done
        await pilot.pause()
        text = screen_text(app)
        assert "Breakdown of ∂E_total/∂w5" in text and "0.08020" in text


async def test_skip_and_back(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await pilot.press("f5")
        assert app.session.current.id == "out_h1"
        assert app.session.records["sum_h1"].status == "skipped"
        await answer(pilot, "0.60109")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.screen.browsing is not None
        await pilot.press("f7")
        await pilot.pause()


async def test_whole_lesson_reaches_the_summary(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await answer_steps(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen))
        text = screen_text(app)
        assert "Lesson complete" in text and "Score: 53/53" in text
        assert "E_total, first forward pass:  0.24909" in text
        assert "second forward pass: 0.24072" in text
        assert "Revealed: none" in text
        assert "Next in the course: classic-2-2-2" in text  # the course's next lesson
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        text = screen_text(app)
        row = next(line for line in text.splitlines() if "sigmoid-2-2-2 " in line)
        assert "done" in row and row.split()[-1] == "53"  # its progress and its score
        nxt = next(line for line in text.splitlines() if "classic-2-2-2 " in line)
        assert nxt.split()[0] == "▶"  # the lesson to take next is marked...
        table = app.screen.query_one("#lessons")
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == (
            "classic-2-2-2"  # ...and under the cursor
        )
        count = len(catalogue()[0])
        assert f"1 of {count} done" in text and "next: classic-2-2-2" in text


async def test_summary_opens_the_next_lesson_with_n(tmp_path):
    app = make_app(tmp_path, mode="exam")  # whatever the mode, the next lesson is learnt
    async with run(app, size=(80, 24)) as pilot:
        await answer_steps(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, QuizScreen))
        assert app.lesson.id == "classic-2-2-2" and app.mode == "learn"


async def test_resume_opens_at_first_unanswered_step_and_restart(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await answer(pilot, "0.41")
        await answer(pilot, "0.60109")
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)):
        assert app.session.current.id == "sum_h2"
        assert app.session.score == 2
    app = make_app(tmp_path, restart=True)
    async with run(app, size=(80, 24)):
        assert app.session.current.id == "sum_h1" and app.session.score == 0


async def test_picker_lists_lessons_and_opens_one(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "extra.toml").write_text(SEED.replace('title = "', 'title = "Extra [b] ', 1))
    monkeypatch.setenv("TUTOR_LESSONS_PATH", str(folder))
    app = make_app(tmp_path, lesson=None)
    async with run(app, size=(80, 24)) as pilot:
        assert isinstance(app.screen, PickerScreen)
        text = screen_text(app)
        assert "sigmoid-2-2-2" in text and "extra" in text
        assert "Extra [b]" in text  # shown literally, never read as markup
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, QuizScreen))


async def test_help_screen_lists_every_key(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        text = screen_text(app)
        for key in ("F2", "Ctrl+T", "F3", "Ctrl+B", "F4", "Ctrl+R", "F5", "Ctrl+N", "F6", "Ctrl+O"):
            assert key in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen)


async def test_markup_in_lesson_text_is_shown_literally(tmp_path):
    text = SEED.replace('title = "', 'title = "[b]bold?[/b] [red]x ', 1).replace(
        '"dout_h1/dsum_h1" = [',
        '"sum_h1" = ["Add [b1] and [bold]this[/bold]."]\n"dout_h1/dsum_h1" = [',
    )
    app = make_app(tmp_path, text=text)
    async with run(app, size=(100, 30)) as pilot:
        shown = screen_text(app)
        assert "[b]bold?[/b] [red]x" in shown
        await pilot.press("f2")
        await pilot.pause()
        assert "Add [b1] and [bold]this[/bold]." in screen_text(app)


async def test_ascii_mode_has_no_unicode_symbols(tmp_path):
    app = make_app(tmp_path, ascii_only=True)
    async with run(app, size=(80, 24)) as pilot:
        await answer(pilot, "0.41")
        await pilot.press("f2", "f2")
        text = screen_text(app)
        for ch in "∂σ·−→╭│─✓":
            assert ch not in text, ch
        assert "out_h1 =" in text


@pytest.mark.parametrize("size", [(40, 12), (59, 24), (80, 17)])
async def test_too_small_terminal_says_so(tmp_path, size):
    app = make_app(tmp_path)
    async with run(app, size=size) as pilot:
        await pilot.pause()
        assert "enlarge the terminal" in screen_text(app)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        text = screen_text(app)
        assert "enlarge" not in text and "sum_h1 =" in text


async def test_comfortable_at_120x40(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(120, 40)) as pilot:
        await answer(pilot, "0.41")
        text = screen_text(app)
        assert "About this lesson" in text or "Forward pass" in text
        assert "out_h1 =" in text


async def test_typing_works_again_after_the_terminal_was_too_small(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        await answer(pilot, "0.41")
        assert app.session.records["sum_h1"].status == "correct"


def test_keys_typed_after_enter_are_kept():
    from types import SimpleNamespace

    box = SimpleNamespace(
        value="0.410.6"
    )  # "0.41" submitted, "0.6" typed before the answer was graded
    QuizScreen._consume(box, "0.41")
    assert box.value == "0.6"
    box.value = "x"
    QuizScreen._consume(box, "0.41")  # nothing of the submitted answer left: keep it all
    assert box.value == "x"


async def test_skipping_does_not_show_the_answer(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        text = screen_text(app)
        assert "0.41000" not in text  # the skipped step's value stays hidden
        placeholder = app.screen.query_one("#answer", Input).placeholder
        assert "0.41" not in placeholder and "exp(-0.41)" not in placeholder


async def test_lessons_key_goes_back_to_the_picker(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))


async def test_redo_on_the_summary_asks_first(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await answer_steps(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)  # not yet
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, QuizScreen))
        await wait_for(pilot, lambda: app.session is not None, tries=200)  # built anew
        assert app.session.score == 0


async def test_modes_from_the_app(tmp_path):
    app = make_app(tmp_path, mode="exam")
    async with run(app, size=(80, 24)) as pilot:
        await pilot.press("f2")
        assert "No hints during an exam" in feedback(app)
        assert "[exam]" in screen_text(app)
    app = make_app(tmp_path / "d", mode="drill", seed=3)
    async with run(app, size=(80, 24)):
        assert len(app.session.asked) == 8
        assert "streak 0" in screen_text(app) and "seed 3" in screen_text(app)
    app = make_app(tmp_path / "r", mode="review")
    async with run(app, size=(80, 24)) as pilot:
        assert "step 1 of 53" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert "step 2 of 53" in screen_text(app)


async def test_training_curve_for_the_xor_lesson(tmp_path):
    app = make_app(tmp_path, lesson="xor-training")
    async with run(app, size=(80, 30)) as pilot:
        await answer_steps(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "Loss over the whole training set, 2000 passes" in text
        assert "0.50634" in text


async def test_an_exam_in_progress_cannot_be_reviewed(tmp_path):
    app = make_app(tmp_path, mode="exam")
    async with run(app, size=(80, 24)) as pilot:
        await answer(pilot, "0.41")
    app = make_app(tmp_path, mode="review")
    async with run(app, size=(80, 24)):
        assert app.mode == "exam"  # refused review: the exam goes on


async def test_answers_never_relayout_the_screen(tmp_path, monkeypatch):
    """Every widget that changes on an answer has a fixed size, so an answer repaints and
    never re-lays-out the whole screen (that layout was most of an answer's cost)."""
    from textual.screen import Screen

    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await answer_steps(pilot, 3)  # past the first frames and the lazily mounted widgets
        await pilot.pause()
        layouts = []
        original = Screen._refresh_layout
        monkeypatch.setattr(
            Screen, "_refresh_layout", lambda s, *a, **k: (layouts.append(1), original(s, *a, **k))
        )
        await answer(pilot, "0.1")  # wrong: diagnosis and hint
        await answer(pilot, f"{app.session.current.value:.5f}")  # right: every widget changes
        await answer(pilot, f"{app.session.current.value:.5f}")
        assert app.session.score == 5
        assert layouts == []


async def test_a_small_panel_rarely_relayouts_the_screen(tmp_path, monkeypatch):
    """When the step texts do not fit the panel (a small terminal, a tall diagram), the
    panel keeps its height when a little slack will do, and its scrollbar's column is kept:
    a lesson costs a few layouts, not one (or three) per answer."""
    from textual.screen import Screen

    app = make_app(tmp_path, "deep-2-3-2-1")
    async with run(app, size=(72, 22)) as pilot:
        layouts = []
        original = Screen._refresh_layout
        monkeypatch.setattr(
            Screen, "_refresh_layout", lambda s, *a, **k: (layouts.append(1), original(s, *a, **k))
        )
        steps = list(app.session.plan)
        for step in steps[:-1]:  # the last answer opens the summary: a new screen's layout
            await fill(pilot, f"{step.value:.8f}")
        assert app.session.score == len(steps) - 1
        assert len(layouts) <= 6, len(layouts)  # 2 on this code, 86 when every change laid out


async def test_a_long_text_leaves_no_long_blank_under_the_next(tmp_path):
    """The panel's body keeps a little slack to spare layouts, never a long breakdown's
    height under a short text."""
    from tutor.ui.widgets.panel import SLACK, InfoPanel

    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.screen.query(InfoPanel))
        panel = app.screen.query_one(InfoPanel)
        panel.show("Long", "\n".join(f"line {k}" for k in range(40)))
        await pilot.pause()
        assert panel.body.outer_size.height > 40
        panel.show("Short", "one line")
        await pilot.pause()
        assert panel.body.outer_size.height <= max(panel.size.height, 2 + SLACK)


async def test_diagram_shows_the_drawing_line_by_line(tmp_path):
    """The diagram repaints only the lines an answer changes; what it shows is still exactly
    the drawing of the current state, values and highlight included."""
    from textual.geometry import Region

    from tutor.ui.widgets.network import NetworkDiagram, network_rows

    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await answer_steps(pilot, 4)
        diagram = app.screen.query_one(NetworkDiagram)
        session = app.session
        rows = network_rows(
            app.lesson.network,
            session.learner_values(),
            set(session.current.involves),
            app.lesson.quiz.decimals,
        )
        width = diagram.content_size.width
        shown = [s.text for s in diagram.render_lines(Region(0, 0, width + 2, len(rows)))]
        expected = [" " + "".join(t for t, _ in row) for row in rows]
        assert [s.rstrip() for s in shown] == [e.rstrip() for e in expected]
        assert any("h2 0.61538" in line for line in shown)  # a value the learner gave
        highlighted = {t.split()[0] for row in rows for t, st in row if "reverse" in st}
        assert highlighted and highlighted <= set(session.current.involves)


async def test_a_long_title_is_cut_without_losing_the_score(tmp_path):
    """At the smallest size, in ASCII mode, the status line shortens the title where a reader
    would (its part before the colon), never inside a word, and never cuts the step count or
    the score."""
    app = make_app(tmp_path, lesson="deep-2-3-2-1", ascii_only=True)
    async with run(app, size=(72, 22)) as pilot:
        await pilot.pause()
        first = screen_text(app).splitlines()[0].rstrip()
        assert first.endswith("step 1/60  score 0")
        assert first.split("  ")[0].strip() == "Going deeper"


def test_titles_are_shortened_at_a_colon_or_a_word():
    from tutor.textmode import fit_title

    long = "Logistic regression as a one-layer net: sigmoid output with binary cross-entropy"
    assert fit_title(long, 80) == long
    assert fit_title(long, 40) == "Logistic regression as a one-layer net"
    assert fit_title(long, 30) == "Logistic regression as a…"
    assert fit_title("XOR: one step by hand", 10, "...") == "XOR"


async def test_the_picker_shows_titles_without_cutting_words(tmp_path):
    app = make_app(tmp_path, lesson=None)
    async with run(app, size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Your first backprop step " in text and "Going deeper " in text
        assert "…" not in text.split("Your first backprop step")[1].splitlines()[0]


async def test_drawn_line_caches_hold_only_what_is_on_screen(tmp_path):
    """The history and the diagram keep drawn lines to repaint fast, but only those on
    screen: memory stays flat however long the lesson."""
    from tutor.ui.widgets.history import History
    from tutor.ui.widgets.network import NetworkDiagram

    app = make_app(tmp_path, lesson="deep-2-3-2-1")
    async with run(app, size=(80, 24)) as pilot:
        for _ in range(45):
            await fill(pilot, f"{app.session.current.value:.8f}")
            await pilot.pause()  # each answer painted, as a learner sees it
        history = app.screen.query_one(History)
        diagram = app.screen.query_one(NetworkDiagram)
        assert history.content_size.height > 1
        assert 0 < len(history._rows) <= history.content_size.height - 1  # under the header
        assert 0 < len(diagram._strips) <= len(diagram.rows)


@pytest.mark.parametrize(
    ("lesson", "size"),
    [("deep-2-3-2-1", (72, 22)), ("deep-2-3-2-1", (80, 24)), ("mlp-72-64-10", (80, 24))],
)
async def test_the_feedback_stays_on_screen_whatever_the_diagram(tmp_path, lesson, size):
    """A tall network diagram gives way: the screen never scrolls, so the prompt and the
    feedback under it are always in view, at the smallest size too and after a resize."""
    from conftest import ROOT

    big = ROOT / "benchmarks" / "lessons" / f"{lesson}.toml"
    app = make_app(tmp_path, text=big.read_text()) if big.exists() else make_app(tmp_path, lesson)
    async with run(app, size=size) as pilot:
        await answer(pilot, "0.5")
        shown = str(app.screen.query_one("#feedback").render())
        assert shown.strip()
        for width, height in (size, (size[0], size[1] + 6), size):
            await pilot.resize_terminal(width, height)
            await pilot.pause()
            assert app.screen.max_scroll_y == 0
            assert app.screen.query_one("#feedback").region.bottom <= height - 1  # footer
            assert shown.splitlines()[0] in screen_text(app)


async def test_an_answer_sent_before_the_lesson_is_ready_is_checked_as_sent(tmp_path, monkeypatch):
    """Enter pressed while the lesson is being prepared: that answer is checked as soon as
    the session is ready, and keys typed after Enter stay in the box for the next step."""
    import threading

    from tutor.opening import Opening

    original = Opening.session
    typed = threading.Event()

    def slow(opening, *args):
        typed.wait(10)  # a slow machine: the learner is quicker than the engine
        return original(opening, *args)

    monkeypatch.setattr(Opening, "session", slow)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"0.41", "enter", "5")
        assert app.session is None  # still being prepared
        assert "One moment" in feedback(app)
        typed.set()
        await wait_for(pilot, lambda: app.session is not None, tries=200)
        await pilot.pause()
        assert app.session.records["sum_h1"].status == "correct"
        assert app.session.current.id == "out_h1"
        assert app.screen.query_one("#answer", Input).value == "5"


async def test_an_exam_is_not_started_over(tmp_path):
    """--restart (or Redo) on an exam keeps it: an exam is taken once."""
    app = make_app(tmp_path, mode="exam")
    async with run(app, size=(80, 24)) as pilot:
        await answer(pilot, f"{app.session.current.value:.5f}")  # the exam's own numbers
        assert app.session.score == 1
    app = make_app(tmp_path, mode="exam", restart=True)
    async with run(app, size=(80, 24)) as pilot:
        assert app.session.score == 1 and app.session.current.id == "out_h1"
        assert "An exam is taken once" in feedback(app)  # said where the learner looks


async def test_a_tiny_value_is_asked_to_significant_figures(tmp_path):
    from apphelpers import fill

    text = (LESSONS / "sigmoid-2-2-2.toml").read_text().replace("decimals = 5", "decimals = 2")
    assert "decimals = 2" in text
    app = make_app(tmp_path, text=text)
    async with run(app, size=(80, 24)) as pilot:
        session = app.session
        box = app.screen.query_one("#answer", Input)
        assert "2 decimals" in box.placeholder
        while not session.grader.tolerance(session.current).tiny(session.current.value):
            await fill(pilot, repr(session.current.value))
            await pilot.pause()
        step = session.current
        assert "significant figures with the sign" in box.placeholder
        await fill(pilot, "0")
        await pilot.pause()
        assert "Not zero" in screen_text(app)
        assert session.current is step
        await fill(pilot, f"{step.value:.1e}")
        await pilot.pause()
        assert session.current is not step


async def test_keys_do_nothing_while_the_terminal_is_too_small(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await pilot.resize_terminal(50, 15)
        await pilot.pause()
        await pilot.press("0", ".", "4", "1", "enter", "f2", "f3", "f4", "f4", "f5", "f6")
        await pilot.pause()
        session = app.session
        assert session.current.id == "sum_h1"
        assert all(r.status == "todo" and r.hint_level == 0 for r in session.records.values())
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.press("f2")  # and work again once it is large enough
        await pilot.pause()
        assert session.records["sum_h1"].hint_level == 1


async def test_quitting_mid_lesson_says_where_the_learner_stopped_and_resuming_greets(tmp_path):
    """Quitting printed nothing, and a resumed lesson said nothing of where it was."""
    from apphelpers import answer_steps

    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        await answer_steps(pilot, 3)
        await pilot.press("ctrl+q")
    assert app.farewell == (
        "Stopped at step 4 of 53 (out_h2) of sigmoid-2-2-2; progress is saved.\n"
        "Resume with: tutor sigmoid-2-2-2"
    )
    again = make_app(tmp_path)
    async with run(again, size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Welcome back at step 4 of 53." in screen_text(again)


async def test_quitting_a_drill_gives_its_seed_and_the_picker_says_nothing(tmp_path):
    app = make_app(tmp_path, "classic-2-2-2", mode="drill", seed=11)
    async with run(app, size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
    assert app.farewell is not None
    assert app.farewell.endswith("Resume with: tutor classic-2-2-2 --mode drill --seed 11")
    picker = make_app(tmp_path, lesson=None)
    async with run(picker, size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
    assert picker.farewell is None


@pytest.mark.parametrize("size", [(80, 24), (72, 22)])
async def test_the_placeholder_and_how_to_answer_are_not_cut(tmp_path, size):
    """The placeholder ended "…or the arithmetic (Enter", and "Give each answer to 5
    decimals" was below the fold of the intro."""
    app = make_app(tmp_path, "deep-2-3-2-1")
    async with run(app, size=size) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "6 decimals, or the arithmetic; Enter checks" in text, text
        assert "Answer each step to 6" in text, text
