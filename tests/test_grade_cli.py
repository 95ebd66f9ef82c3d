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
    assert set(data) == {"lesson", "steps", "summary"}
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
    cases = {"bad.json": "{not json", "list.json": "[1, 2]", "unknown.csv": "sum_H1,0.41\n"}
    for name, text in cases.items():
        f = tmp_path / name
        f.write_text(text)
        out = tutor("grade", "sigmoid-2-2-2", str(f))
        assert out.returncode == 2, (name, out.stdout, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    out = tutor("grade", "sigmoid-2-2-2", str(tmp_path / "none.json"))
    assert out.returncode == 2 and "no such file" in out.stderr
    assert (
        "did you mean 'sum_h1'"
        in tutor("grade", "sigmoid-2-2-2", str(tmp_path / "unknown.csv")).stderr
    )


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
