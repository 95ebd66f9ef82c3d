"""Progress: the store's guarantees, the progress/reset/export commands, variants and modes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from conftest import LESSONS

from tutor import drill
from tutor.catalog import CannotOpen, open_lesson
from tutor.grading.degeneracy import degeneracy
from tutor.lesson.reader import load_lesson
from tutor.opening import LessonRecorder
from tutor.plan.build import build_plan
from tutor.progress.interface import ProgressLocked
from tutor.progress.records import EXAM_POINTS, FAILED, StepRecord
from tutor.progress.store import STATE_FILE, ProgressStore, data_dir
from tutor.session import QuizSession

SEED = load_lesson(LESSONS / "sigmoid-2-2-2.toml")


def tutor(*args, env=None, input_text=None):
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args],
        capture_output=True,
        text=True,
        env=env,
        input=input_text,
        timeout=120,
    )


def session_in(store: ProgressStore, mode="learn", seed=None, **kw) -> QuizSession:
    rec = LessonRecorder(store, "sigmoid-2-2-2", seed, mode)
    return QuizSession(open_lesson(SEED, seed), recorder=rec, mode=mode, **kw)


def test_data_dir_honours_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "override"))
    assert data_dir() == tmp_path / "override"
    monkeypatch.delenv("TUTOR_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "backprop-tutor"


def test_every_answer_is_saved_privately_and_atomically(tmp_path):
    store = ProgressStore(tmp_path / "p")
    s = session_in(store)
    s.submit("0.41")
    s.submit("0.5")
    store.flush()  # the state file is written in the background: wait for it
    log = [json.loads(line) for line in store.log_path.read_text().splitlines()]
    assert [e["step"] for e in log] == ["sum_h1", "out_h1"]
    first = log[0]
    for key in (
        "time",
        "lesson",
        "seed",
        "step",
        "input",
        "value",
        "verdict",
        "diagnosis",
        "hint_level",
        "seconds",
    ):
        assert key in first
    assert first["input"] == "0.41" and first["verdict"] == "correct"
    assert stat.S_IMODE(os.stat(store.root).st_mode) == 0o700
    for f in (store.log_path, store.state_path):
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    again = ProgressStore(tmp_path / "p").lesson_state("sigmoid-2-2-2")
    assert again["steps"]["sum_h1"]["status"] == "correct"
    assert not list((tmp_path / "p").glob(".*.tmp"))  # no temp files left behind


def test_second_session_is_refused(tmp_path):
    first = ProgressStore(tmp_path)
    first.lock()
    with pytest.raises(ProgressLocked, match="already open"):
        ProgressStore(tmp_path).lock()
    first.unlock()
    ProgressStore(tmp_path).lock()


def test_damaged_state_is_kept_aside_and_rebuilt_from_the_log(tmp_path):
    store = ProgressStore(tmp_path)
    s = session_in(store)
    s.submit("0.41")
    store.flush()  # the state file is written in the background: wait for it, then damage it
    store.state_path.write_text("{ this is not json")
    fresh = ProgressStore(tmp_path)
    state = fresh.lesson_state("sigmoid-2-2-2")
    assert state["steps"]["sum_h1"]["status"] == "correct"  # recovered from the log
    assert any("damaged" in w for w in fresh.warnings)
    assert list(tmp_path.glob("state.json.damaged-*"))


def test_truncated_log_line_is_set_aside(tmp_path):
    store = ProgressStore(tmp_path)
    session_in(store).submit("0.41")
    store.flush()  # the state file is written in the background: wait for it
    with open(store.log_path, "a") as f:
        f.write('{"time": "2026-11-28", "step": "out_h')  # a write cut short by kill -9
    store.state_path.unlink()
    reader = ProgressStore(tmp_path)  # a read-only command: skips, never rewrites the log
    assert reader.lesson_state("sigmoid-2-2-2")["steps"]["sum_h1"]["status"] == "correct"
    assert any("damaged line" in w for w in reader.warnings)
    assert not list(tmp_path.glob("attempts.jsonl.damaged-*"))
    session = ProgressStore(tmp_path)  # the session holding the lock repairs it
    session.lock()
    assert session.lesson_state("sigmoid-2-2-2")["steps"]["sum_h1"]["status"] == "correct"
    assert any("set aside" in w for w in session.warnings)
    assert list(tmp_path.glob("attempts.jsonl.damaged-*"))
    session.unlock()


def test_variants_are_seeded_and_distinct():
    a, b, c = open_lesson(SEED, 11), open_lesson(SEED, 11), open_lesson(SEED, 12)
    assert a.lesson.network == b.lesson.network
    assert a.lesson.network != c.lesson.network
    assert a.lesson.network.inputs != SEED.network.inputs
    assert degeneracy(a) == 0 and degeneracy(c) == 0


def test_variant_draws_avoid_degenerate_numbers():
    for seed in range(5):
        plan = open_lesson(SEED, seed)
        for z in plan.trace.z:
            assert np.all(np.abs(z) <= 4.0)
        assert degeneracy(plan) == 0


def test_lesson_without_variants_says_so(tmp_path):
    text = (LESSONS / "sigmoid-2-2-2.toml").read_text()
    no_var = tmp_path / "novar.toml"
    no_var.write_text(text[: text.index("[variants]")])
    with pytest.raises(CannotOpen, match="no \\[variants\\]"):
        open_lesson(load_lesson(no_var), 1)
    out = tutor("solve", str(no_var), "--seed", "3")
    assert out.returncode == 2 and "no [variants]" in out.stderr


def test_seed_gives_an_answer_key_for_solve_and_grade(tmp_path):
    key = json.loads(tutor("solve", "sigmoid-2-2-2", "--seed", "5", "--format", "json").stdout)
    answers = {s["id"]: f"{s['value']:.5f}" for s in key["steps"]}
    f = tmp_path / "a.json"
    f.write_text(json.dumps(answers))
    assert tutor("grade", "sigmoid-2-2-2", str(f), "--seed", "5").returncode == 0
    assert tutor("grade", "sigmoid-2-2-2", str(f), "--seed", "6").returncode == 1
    assert tutor("grade", "sigmoid-2-2-2", str(f)).returncode == 1


def test_exam_mode_limits_attempts_with_declining_points(tmp_path):
    s = session_in(ProgressStore(tmp_path), mode="exam")
    assert "No hints" in s.next_hint().message
    assert "No reveals" in s.reveal().message
    s.submit("0.41")  # first try: 1 point
    s.submit("0.1")
    s.submit("0.60109")  # second try: half a point
    for _ in range(3):
        s.submit("9")  # sum_h2 lost after three misses
    assert s.records["sum_h1"].points == EXAM_POINTS[0]
    assert s.records["out_h1"].points == EXAM_POINTS[1]
    assert s.records["sum_h2"].status == FAILED and s.current.id == "out_h2"
    assert s.score == 1.5


def test_drill_asks_a_few_steps_weighted_to_weak_kinds(tmp_path):
    plan = build_plan(SEED)
    boxes = {k: drill.BOXES for k in {s.kind for s in plan}}
    boxes["update"] = 1  # the learner keeps getting updates wrong
    rng = np.random.default_rng(0)
    counts = {"update": 0, "other": 0}
    for _ in range(200):
        chosen = drill.choose_steps(plan, boxes, rng)
        assert len(chosen) == drill.DRILL_SIZE
        for sid in chosen:
            counts["update" if plan[sid].kind == "update" else "other"] += 1
    assert counts["update"] > counts["other"]  # 8 update steps of 53 dominate the drills
    assert drill.update(boxes, "update", True) == 2 and drill.update(boxes, "update", False) == 1


def test_drill_session_tracks_streak_and_boxes(tmp_path):
    plan = open_lesson(SEED, 4)
    chosen = drill.choose_steps(plan, {}, np.random.default_rng(4))
    boxes: dict[str, int] = {}
    s = QuizSession(plan, mode="drill", ask_only=chosen, boxes=boxes)
    assert len(s.asked) == len(chosen)
    first = s.current
    s.submit(f"{first.value:.5f}")
    assert s.streak == 1 and boxes[first.kind] == 2
    s.submit("12345")
    assert s.streak == 0 and boxes[s.current.kind] == 1


def test_progress_reset_export_commands(tmp_path):
    env = {**os.environ, "TUTOR_DATA_DIR": str(tmp_path / "d")}
    store = ProgressStore(tmp_path / "d")
    s = session_in(store)
    s.submit("0.41")
    s.submit("0.60109")
    s.reveal()
    rows = json.loads(tutor("progress", "--format", "json", env=env).stdout)
    assert rows[0] | {} == rows[0]
    row = rows[0]
    for key in (
        "lesson",
        "correct",
        "carried",
        "revealed",
        "attempted",
        "total",
        "current",
        "score",
        "seconds",
    ):
        assert key in row
    assert (row["lesson"], row["correct"], row["revealed"], row["attempted"]) == (
        "sigmoid-2-2-2",
        2,
        1,
        2,
    )
    assert row["total"] == 53 and row["current"] == "out_h2" and row["score"] == 2
    assert "sigmoid-2-2-2" in tutor("progress", env=env).stdout
    csv_text = tutor("export", env=env).stdout
    assert csv_text.startswith("user,lesson,mode,seed,score,total") and "sigmoid-2-2-2" in csv_text
    out = tmp_path / "x.json"
    assert tutor("export", "--format", "json", "--out", str(out), env=env).returncode == 0
    data = json.loads(out.read_text())
    assert data["lessons"][0]["score"] == 2 and len(data["attempts"]) == 3
    attempts_csv = tutor("export", "--attempts", env=env).stdout
    assert "sum_h1" in attempts_csv and "input" in attempts_csv.splitlines()[0]
    # reset asks first; no answer means no
    refused = tutor("reset", "sigmoid-2-2-2", env=env, input_text="")
    assert refused.returncode == 1 and "Nothing was reset" in refused.stdout
    assert tutor("reset", "sigmoid-2-2-2", env=env, input_text="y\n").returncode == 0
    assert json.loads(tutor("progress", "--format", "json", env=env).stdout) == []
    # the log remembers, and a rebuilt state honours the reset
    (tmp_path / "d" / "state.json").unlink()
    assert json.loads(tutor("progress", "--format", "json", env=env).stdout) == []
    assert tutor("reset", "--all", "--yes", env=env).returncode == 0


def test_reset_is_refused_while_a_session_is_open(tmp_path):
    env = {**os.environ, "TUTOR_DATA_DIR": str(tmp_path)}
    store = ProgressStore(tmp_path)
    session_in(store).submit("0.41")
    store.lock()
    out = tutor("reset", "--all", "--yes", env=env)
    assert out.returncode == 2 and "already open" in out.stderr
    store.unlock()


def test_records_survive_a_round_trip():
    rec = StepRecord("carried", "0.5", 0.5, 2, 1, 3, 1.5, ["bias_forgotten"], 0.5)
    assert StepRecord.from_dict(rec.to_dict()) == rec
    assert StepRecord.from_dict({"status": "bogus"}).status == "todo"


def test_current_names_the_next_prompt_and_boxes_are_logged(tmp_path):
    store = ProgressStore(tmp_path)
    s = session_in(store, mode="drill", seed=4, ask_only=None)
    s.submit(f"{s.current.value:.5f}")
    entry = json.loads(store.log_path.read_text().splitlines()[-1])
    assert entry["current"] == s.current.id != entry["step"]
    assert entry["leitner"] == s.boxes and s.boxes


def test_negative_seed_is_refused_cleanly():
    out = tutor("solve", "sigmoid-2-2-2", "--seed", "-1")
    assert (
        out.returncode == 2 and "must be 0 or more" in out.stderr and "Traceback" not in out.stderr
    )


def test_blink_is_off_over_ssh(monkeypatch):
    from tutor.cli.interactive import wants_blink

    monkeypatch.delenv("TUTOR_NO_BLINK", raising=False)
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("SSH_TTY", raising=False)
    assert wants_blink(False) is True
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 5000 10.0.0.2 22")
    assert wants_blink(False) is False


def test_export_file_is_private(tmp_path):
    env = {**os.environ, "TUTOR_DATA_DIR": str(tmp_path / "d")}
    session_in(ProgressStore(tmp_path / "d")).submit("0.41")
    out = tmp_path / "results.csv"
    assert tutor("export", "--out", str(out), env=env).returncode == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_variants_of_matrix_lessons_use_the_drawn_weights():
    from tutor.engine import compile_network
    from tutor.lesson.reader import parse_lesson

    text = """
title = "matrix"
inputs = [0.1, 0.5]
targets = [0.05, 0.95]
[network]
learning_rate = 0.6
[[layers]]
units = 2
[[layers]]
units = 2
activation = "sigmoid"
weights = [[0.1, 0.3], [0.2, 0.4]]
[[layers]]
units = 2
activation = "sigmoid"
weights = [[0.5, 0.6], [0.7, 0.8]]
[variants]
weights = [-0.9, 0.9]
"""
    lesson = parse_lesson(text)
    assert lesson.network.matrices  # the compact form keeps its matrices
    variant = open_lesson(lesson, 9).lesson
    assert not variant.network.matrices
    c = compile_network(variant.network)
    drawn = {w.name: w.value for w in variant.network.weights}
    for name, (li, r, col) in c.weight_index.items():
        assert c.params.W[li][r, col] == drawn[name]


def test_a_reset_never_drops_what_another_session_wrote(tmp_path):
    reader = ProgressStore(tmp_path)
    reader.state()  # `tutor reset` reads first, then waits at its y/N question
    writer = ProgressStore(tmp_path)
    writer.lock()
    s = QuizSession(build_plan(SEED), recorder=LessonRecorder(writer, "sigmoid-2-2-2"))
    for text in ("0.41", "0.60109", "0.47"):
        s.submit(text)
    writer.flush()
    writer.unlock()
    reader.lock()
    reader.reset("sigmoid-2-2-2#drill")  # another key: the learn answers must survive
    reader.unlock()
    steps = ProgressStore(tmp_path).lesson_state("sigmoid-2-2-2")["steps"]
    assert {k for k, r in steps.items() if r["status"] == "correct"} == {
        "sum_h1",
        "out_h1",
        "sum_h2",
    }


def test_resume_starts_at_the_saved_next_prompt(tmp_path):
    store = ProgressStore(tmp_path)
    s = session_in(store)
    s.skip()  # sum_h1 stays open
    s.submit("0.60109")  # out_h1
    saved = ProgressStore(tmp_path).lesson_state("sigmoid-2-2-2")
    assert saved["current"] == "sum_h2"
    records = {k: StepRecord.from_dict(v) for k, v in saved["steps"].items()}
    again = QuizSession(build_plan(SEED), records, start=saved["current"])
    assert again.current.id == "sum_h2"


def test_update_biases_without_biases_is_fine(tmp_path):
    f = tmp_path / "nobias.toml"
    f.write_text(
        'title = "no bias"\ninputs = [0.5, 0.2]\ntargets = [0.7]\n[network]\n'
        "learning_rate = 0.5\nupdate_biases = true\n[[layers]]\nunits = 2\n"
        '[[layers]]\nunits = 1\nactivation = "sigmoid"\nweights = [[0.3, -0.4]]\n'
    )
    for args in (["solve", str(f)], ["check", str(f)]):
        out = tutor(*args)
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr


def test_state_file_is_written_in_the_background_and_never_goes_back(tmp_path):
    """The state file is a cache rewritten off the interface's thread; an older snapshot
    never lands over a newer one, and flush() leaves it current."""
    store = ProgressStore(tmp_path)
    session = session_in(store)
    session.submit("0.41")  # the first save starts a background write
    session.submit("0.60108")
    store.flush()
    on_disk = json.loads(store.state_path.read_text())
    steps = on_disk["lessons"]["sigmoid-2-2-2"]["steps"]
    assert steps["sum_h1"]["status"] == "correct" and steps["out_h1"]["status"] == "correct"
    assert on_disk["log_bytes"] == store.log_path.stat().st_size
    store._write_state(b"{}", seq=1)  # a stale snapshot arriving late is ignored
    assert json.loads(store.state_path.read_text()) == on_disk


def test_a_temp_file_left_by_a_killed_session_is_cleared(tmp_path):
    store = ProgressStore(tmp_path)
    store.ensure_dir()
    stale = tmp_path / f".{STATE_FILE}.99999.tmp"
    stale.write_text('{"half": ')
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    store.lock()
    store.unlock()
    assert not stale.exists() and keep.exists()


def test_a_seed_for_a_lesson_without_variants_is_refused_before_starting(tmp_path):
    lesson = tmp_path / "plain.toml"
    text = (LESSONS / "sigmoid-2-2-2.toml").read_text()
    lesson.write_text(text[: text.index("[variants]")])
    env = {**os.environ, "TUTOR_DATA_DIR": str(tmp_path / "d")}
    out = tutor(str(lesson), "--seed", "3", env=env)
    assert out.returncode == 2
    assert "has no [variants] section" in out.stderr and "Traceback" not in out.stderr


def test_an_answer_after_the_folder_was_removed_is_still_saved_privately(tmp_path):
    """The log is opened without checking its folder first (that is on the path to every
    verdict); a folder removed under a running session is made again, private."""
    import shutil

    store = ProgressStore(tmp_path / "data")
    s = session_in(store)
    s.submit(f"{s.current.value:.6f}")
    store.flush()  # the state file's writer thread is done with the folder
    shutil.rmtree(tmp_path / "data")
    s.submit(f"{s.current.value:.6f}")
    assert stat.S_IMODE(os.stat(tmp_path / "data").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(store.log_path).st_mode) == 0o600
    lines = store.log_path.read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == ["out_h1"]
    assert store.state()["log_bytes"] == store.log_path.stat().st_size


def test_an_answer_after_the_log_was_damaged_under_the_session_is_kept(tmp_path):
    """A line appended from outside (a sync tool, an editor) that is damaged makes the next
    answer catch up first, which sets the damaged log aside and writes a clean one: the
    answer goes into that clean log, not into the one set aside."""
    store = ProgressStore(tmp_path)
    store.lock()
    try:
        s = session_in(store)
        s.submit(f"{s.current.value:.6f}")
        with open(store.log_path, "a") as f:
            f.write("{garbage\n")
        s.submit(f"{s.current.value:.6f}")
        steps = [json.loads(line)["step"] for line in store.log_path.read_text().splitlines()]
        assert steps == ["sum_h1", "out_h1"]
        assert store.state()["log_bytes"] == store.log_path.stat().st_size
        assert set(store.lesson_state("sigmoid-2-2-2")["steps"]) == {"sum_h1", "out_h1"}
        assert any("set aside" in w for w in store.warnings)
    finally:
        store.unlock()


def test_one_vocabulary_of_done_steps(tmp_path):
    """The session, the reports and the lesson picker count 'done' the same way: from the one
    list of step states in tutor.progress.records."""
    from tutor.catalog import read
    from tutor.progress.records import STATUSES, tally
    from tutor.progress.report import standing

    steps = {f"s_{status}": {"status": status, "attempts": 1} for status in STATUSES}
    order = list(steps)
    t = tally(steps, order)
    assert t.done == sum(StepRecord(status=s).done for s in STATUSES)
    assert t.next_step == next(k for k in order if not StepRecord(status=k[2:]).done)
    assert (t.correct, t.carried, t.revealed, t.failed, t.attempted) == (1, 1, 1, 1, len(order))
    store = ProgressStore(tmp_path)
    saved = store.lesson_state("sigmoid-2-2-2")
    saved["steps"], saved["total"] = steps, 53
    assert standing(store, read("sigmoid-2-2-2")).word == f"{t.done}/53"
    assert standing(store, read("classic-2-2-2")).word == "new"


def test_exported_csv_cells_never_run_as_formulas(tmp_path):
    """A user name, a typed answer or a diagnosis tag that starts like a formula reaches the
    spreadsheet as text; numbers, and answers that are plain numbers, stay numbers."""
    import csv
    import io

    env = {**os.environ, "TUTOR_DATA_DIR": str(tmp_path / "d"), "LOGNAME": '=HYPERLINK("x")'}
    env.pop("USER", None)
    store = ProgressStore(tmp_path / "d")
    s = session_in(store)
    s.submit("-0.41")  # a wrong answer that is a plain number
    s.submit("+0.41")  # the right value, typed with a plus
    s.submit("@0.6")  # unreadable: not an attempt, but logged as typed if at all
    s.submit("0.60109")
    for args in (("export",), ("export", "--attempts")):
        out = tutor(*args, env=env)
        assert out.returncode == 0, out.stderr
        rows = list(csv.reader(io.StringIO(out.stdout)))
        cells = [c for row in rows[1:] for c in row]
        assert '\'=HYPERLINK("x")' in cells or not any("HYPERLINK" in c for c in cells), cells
        for cell in cells:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(cell)  # only a plain number may start like a formula
    answers = list(csv.DictReader(io.StringIO(tutor("export", "--attempts", env=env).stdout)))
    assert "-0.41" in [a["input"] for a in answers]


def test_course_path_recommends_the_lesson_under_way_then_the_first_new_one(tmp_path):
    """The next lesson: one started and not finished comes before one not started; a
    finished lesson never; the lesson just finished never; None when all are done."""
    from tutor.catalog import read
    from tutor.progress.report import course_path

    lessons = [read(x) for x in ("sigmoid-2-2-2", "classic-2-2-2", "tanh-sigmoid")]
    store = ProgressStore(tmp_path)
    path = course_path(store, lessons)
    assert path.next() == "sigmoid-2-2-2" and path.share == 0 and path.finished == 0
    assert path.next(after="sigmoid-2-2-2") == "classic-2-2-2"

    def done(lesson_id: str, n: int, total: int) -> None:
        saved = store.lesson_state(lesson_id)
        saved["total"] = total
        saved["steps"] = {f"s{k}": {"status": "correct", "attempts": 1} for k in range(n)}

    done("sigmoid-2-2-2", 53, 53)
    done("tanh-sigmoid", 10, 40)
    path = course_path(store, lessons)
    assert [s.word for s in path.standings] == ["done", "new", "10/40"]
    assert path.next() == "tanh-sigmoid"  # under way, before the new one
    assert path.next(after="tanh-sigmoid") == "classic-2-2-2"
    assert path.finished == 1 and path.share == pytest.approx((1 + 0 + 0.25) / 3)
    assert path.standings[0].score == "53" and path.standings[1].score == ""
    done("classic-2-2-2", 5, 5)
    done("tanh-sigmoid", 40, 40)
    assert course_path(store, lessons).next() is None
