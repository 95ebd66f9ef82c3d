"""`tutor grade` and `tutor check` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import LESSONS
from test_article import ARTICLE

SEED = (LESSONS / "sigmoid-2-2-2.toml").read_text()


def tutor(*args: str):
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_grade_json_worksheet(tmp_path):
    answers = dict(ARTICLE)
    answers["sum_h1"] = "0.16"
    f = tmp_path / "a.json"
    f.write_text(json.dumps(answers))
    out = tutor("grade", "sigmoid-2-2-2", str(f), "--format", "json")
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"lesson", "steps", "summary", "unknown"}
    assert data["unknown"] == []
    first = data["steps"][0]
    assert set(first) >= {"id", "answer", "verdict", "expected", "diagnosis", "message"}
    assert first["id"] == "sum_h1" and first["verdict"] == "incorrect"
    assert first["diagnosis"] == "bias_forgotten"
    verdicts = {s["verdict"] for s in data["steps"]}
    assert verdicts <= {"correct", "carried", "incorrect", "invalid", "missing"}
    assert "missing" in verdicts  # the article does not print every step


def test_grade_csv_all_right_exits_0(tmp_path, seed_plan):
    f = tmp_path / "a.csv"
    f.write_text("step,answer\n" + "".join(f"{k},{v}\n" for k, v in ARTICLE.items()))
    out = tutor("grade", "sigmoid-2-2-2", str(f))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "sum_h1" in out.stdout and "correct" in out.stdout


def test_grade_bad_input_exits_2(tmp_path):
    cases = {
        "bad.json": "{not json",
        "list.json": "[1, 2]",
        "twice.csv": "sum_h1,0.41\nsum_h1 ,0.4\n",
        "twice.json": '{"sum_h1": "0.41", "sum_h1": "0.4"}',
        "id_and_label.json": '{"dE_total/dw5": "0.08020", "∂E_total/∂w5": "0.08020"}',
    }
    for name, text in cases.items():
        f = tmp_path / name
        f.write_text(text)
        out = tutor("grade", "sigmoid-2-2-2", str(f))
        assert out.returncode == 2, (name, out.stdout, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
        assert out.stdout == ""
    out = tutor("grade", "sigmoid-2-2-2", str(tmp_path / "none.json"))
    assert out.returncode == 2 and "no such file" in out.stderr
    out = tutor("grade", "sigmoid-2-2-2", str(tmp_path / "id_and_label.json"))
    assert out.stderr == (
        f"tutor: {tmp_path / 'id_and_label.json'}: step 'dE_total/dw5' is answered twice, "
        "as 'dE_total/dw5' and as '∂E_total/∂w5'\n"
    )
    out = tutor("grade", "sigmoid-2-2-2", str(tmp_path / "twice.csv"))
    assert "line 2: step 'sum_h1' is answered twice" in out.stderr


def _by_label(seed_plan, answers: dict[str, str]) -> dict[str, str]:
    return {seed_plan[k].label: v for k, v in answers.items()}


def test_a_worksheet_keyed_by_the_screens_labels_grades_as_by_ids(tmp_path, seed_plan):
    answers = dict(ARTICLE, sum_h1="0.16", out_o1="0,7289")  # one wrong, one invalid
    by_label = _by_label(seed_plan, answers)
    assert "∂E_total/∂w5" in by_label and "dE_total/dw5" not in by_label
    outputs = []
    for name, sheet in (("ids.json", answers), ("labels.json", by_label)):
        f = tmp_path / name
        f.write_text(json.dumps(sheet, ensure_ascii=False), encoding="utf-8")
        out = tutor("grade", "sigmoid-2-2-2", str(f), "--format", "json")
        assert out.returncode == 1, out.stderr
        outputs.append(json.loads(out.stdout))
    assert outputs[0] == outputs[1]
    steps = {s["id"]: s for s in outputs[1]["steps"]}
    assert steps["dE_total/dw5"]["verdict"] == "correct"
    assert steps["dE_total/dw5"]["answer"] == "0.08020"
    assert steps["sum_h1"]["diagnosis"] == "bias_forgotten"
    assert outputs[1]["summary"]["correct"] == len(ARTICLE) - 2
    assert outputs[1]["unknown"] == []


def test_csv_names_as_a_person_types_them(tmp_path):
    """The label with d for ∂, spaces around the name and the slash, δ for delta_."""
    f = tmp_path / "typed.csv"
    f.write_text(
        "step,answer\n ∂E_total / ∂w5 ,0.08020\ndE_total / dw6,0.08211\n∂E_total/dw7,-0.01760\n",
        encoding="utf-8",
    )
    out = tutor("grade", "sigmoid-2-2-2", str(f))
    assert out.returncode == 0, out.stdout + out.stderr
    lines = {line.split()[0]: line.split() for line in out.stdout.splitlines() if line}
    for step_id in ("dE_total/dw5", "dE_total/dw6", "dE_total/dw7"):
        assert lines[step_id][2] == "correct", lines[step_id]
    assert "not graded" not in out.stdout


def test_an_unknown_name_is_listed_and_the_rest_graded(tmp_path):
    f = tmp_path / "a.csv"
    rows = "".join(f"{k},{v}\n" for k, v in ARTICLE.items())
    f.write_text("step,answer\n" + rows + "sum_H1,0.41\n∂E_total/∂w55,0.08\n", encoding="utf-8")
    out = tutor("grade", "sigmoid-2-2-2", str(f))
    assert out.returncode == 1, out.stdout + out.stderr  # all known answers are right
    assert out.stderr == ""
    n = len(ARTICLE) + 2  # the header is line 1
    tail = out.stdout.splitlines()[-3:]
    assert tail[0].startswith("sigmoid-2-2-2: ") and f"{len(ARTICLE)} correct" in tail[0]
    assert tail[1:] == [
        f"not graded: line {n}: unknown step 'sum_H1' (did you mean 'sum_h1'?)",
        f"not graded: line {n + 1}: unknown step '∂E_total/∂w55' (did you mean '∂E_total/∂w5'?)",
    ]
    graded = [line.split() for line in out.stdout.splitlines()[1:] if line.startswith("sum_h1")]
    assert graded == [["sum_h1", "0.41", "correct", "0.41000"]]


def test_json_output_lists_the_unknown_names_and_stays_json(tmp_path):
    answers = dict(ARTICLE, outh1="0.5", dE_total_dw5="0.08020")
    del answers["dE_total/dw5"]
    f = tmp_path / "a.json"
    f.write_text(json.dumps(answers))
    out = tutor("grade", "sigmoid-2-2-2", str(f), "--format", "json")
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert data["summary"]["correct"] == len(ARTICLE) - 1
    assert data["summary"]["incorrect"] == data["summary"]["invalid"] == 0
    assert data["unknown"] == [
        {
            "key": "outh1",
            "answer": "0.5",
            "line": None,
            "did_you_mean": "out_h1",
            "message": "unknown step 'outh1' (did you mean 'out_h1'?)",
        },
        {
            "key": "dE_total_dw5",
            "answer": "0.08020",
            "line": None,
            "did_you_mean": "dE_total/dw5",
            "message": "unknown step 'dE_total_dw5' (did you mean 'dE_total/dw5'?)",
        },
    ]


def test_unknown_names_never_reach_the_terminal_raw(tmp_path):
    evil = "\x1b]0;owned\x07\x9b2J\u202esum_h1"
    f = tmp_path / "a.json"
    f.write_text(json.dumps({evil: "1", "sum_h1": "0.41"}))
    table = tutor("grade", "sigmoid-2-2-2", str(f))
    js = tutor("grade", "sigmoid-2-2-2", str(f), "--format", "json")
    assert table.returncode == js.returncode == 1
    for text in (table.stdout, js.stdout):
        assert not any(ch in text for ch in "\x1b\x07\x9b\u202e"), repr(text)
    assert "not graded: unknown step '\\x1b]0;owned\\x07\\x9b2J\\u202esum_h1'" in table.stdout
    assert json.loads(js.stdout)["unknown"][0]["key"] == evil


def test_check_passes_on_shipped_lessons():
    out = tutor("check", str(LESSONS))
    assert out.returncode == 0, out.stdout
    assert "sigmoid-2-2-2: ok" in out.stdout


def test_check_fails_when_the_right_answer_cannot_be_typed(tmp_path):
    f = tmp_path / "strict.toml"
    f.write_text(
        SEED.replace("decimals = 5", 'decimals = 5\ntolerance = { mode = "sigfig", digits = 12 }')
    )
    out = tutor("check", str(f))
    assert out.returncode == 1
    assert "FAIL strict: sum_o1: the right answer 1.01977 is not accepted" in out.stdout


def test_json_array_answers_get_the_json_message(tmp_path):
    f = tmp_path / "a.json"
    f.write_text("[1, 2]")
    out = tutor("grade", "sigmoid-2-2-2", str(f))
    assert out.returncode == 2 and "must be an object" in out.stderr
