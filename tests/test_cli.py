"""The command line: list, validate and solve, their formats and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import LESSONS, ROOT

SEED = (LESSONS / "sigmoid-2-2-2.toml").read_text()


def tutor(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_help_for_every_command():
    from tutor.cli import COMMANDS, SUBCOMMANDS

    whole = tutor("--help")
    assert whole.returncode == 0
    for cmd in COMMANDS:  # the parser of one command is made alone: its help is all there
        assert SUBCOMMANDS[cmd][0]["help"] in whole.stdout
        out = tutor(cmd, "--help")
        assert out.returncode == 0 and f"usage: tutor {cmd}" in out.stdout
        assert " ".join(SUBCOMMANDS[cmd][0]["description"].split()[:3]) in " ".join(
            out.stdout.split()
        )


def test_a_command_with_a_bad_argument_is_named():
    out = tutor("solve", "sigmoid-2-2-2", "--format", "pdf")
    assert out.returncode == 2
    assert "tutor solve: error: argument --format: invalid choice: 'pdf'" in out.stderr


def test_list_json_has_the_seed():
    out = tutor("list", "--format", "json")
    assert out.returncode == 0
    rows = json.loads(out.stdout)
    seed = next(r for r in rows if r["id"] == "sigmoid-2-2-2")
    assert seed["title"] and seed["path"].endswith("sigmoid-2-2-2.toml")


def test_list_includes_lessons_path(tmp_path, monkeypatch):
    import os

    (tmp_path / "mine.toml").write_text(SEED.replace("title = ", 'title = "Mine"\n#', 1))
    env = {**os.environ, "TUTOR_LESSONS_PATH": f"{tmp_path}:/does/not/exist"}
    rows = json.loads(tutor("list", "--format", "json", env=env).stdout)
    assert {"mine", "sigmoid-2-2-2"} <= {r["id"] for r in rows}
    assert "Mine" in tutor("list", env=env).stdout


def test_solve_text_reads_like_a_worked_example():
    out = tutor("solve", "sigmoid-2-2-2")
    assert out.returncode == 0
    text = out.stdout
    assert "sum_h1 = i1 · w1 + i2 · w3 + b1" in text
    assert "= 0.1 · 0.1 + 0.5 · 0.3 + 0.25" in text
    assert "∂E_total/∂w5 = ∂E_total/∂out_o1 · ∂out_o1/∂sum_o1 · ∂sum_o1/∂w5" in text
    assert "= 0.45188" in text


def test_solve_markdown_and_ascii():
    md = tutor("solve", "sigmoid-2-2-2", "--format", "markdown").stdout
    assert md.startswith("# ") and "## Forward pass" in md and "**0.41000**" in md
    ascii_text = tutor("solve", "sigmoid-2-2-2", "--ascii").stdout
    assert (
        ascii_text.isascii()
        and "dE_total/dw5 = dE_total/dout_o1*dout_o1/dsum_o1*dsum_o1/dw5" in ascii_text
    )


def test_solve_json_schema():
    data = json.loads(
        tutor("solve", str(LESSONS / "sigmoid-2-2-2.toml"), "--format", "json").stdout
    )
    assert set(data) == {"lesson", "title", "network", "steps"}
    step = data["steps"][0]
    assert {
        "id",
        "label",
        "value",
        "formula",
        "substituted",
        "depends_on",
        "phase",
        "asked",
    } <= set(step)
    net = data["network"]
    assert {
        "layers",
        "weights",
        "inputs",
        "targets",
        "loss",
        "learning_rate",
        "update_biases",
    } <= set(net)
    assert net["layers"][0] == {"name": "input", "units": ["i1", "i2"]}
    assert net["layers"][1]["bias"] == {"names": ["b1", "b1"], "values": [0.25, 0.25]}
    assert {"name": "w3", "from": "i2", "to": "h1", "value": 0.3} in net["weights"]
    assert net["inputs"] == {"i1": 0.1, "i2": 0.5} and net["targets"] == {"o1": 0.05, "o2": 0.95}
    by_id = {s["id"]: s for s in data["steps"]}
    assert by_id["dE_total/dw5"]["depends_on"] == [
        "dE_total/dout_o1",
        "dout_o1/dsum_o1",
        "dsum_o1/dw5",
    ]
    assert by_id["dE_total/dw5"]["label"] == "∂E_total/∂w5"
    assert by_id["dE_total/dw5"]["phase"] == "output layer"


def test_validate_exit_codes(tmp_path):
    good = tutor("validate", str(LESSONS))
    assert good.returncode == 0 and "ok" in good.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(SEED.replace('loss = "half_sse"', 'loss = "l1"').replace("i2 = 0.5", ""))
    out = tutor("validate", str(bad), str(LESSONS / "sigmoid-2-2-2.toml"))
    assert out.returncode == 1
    lines = [line for line in out.stdout.splitlines() if line.startswith(str(bad))]
    assert (
        f"{bad}: network.loss: unknown loss 'l1'; choose one of half_sse, mse, cross_entropy, binary_cross_entropy"
        in lines
    )
    assert f"{bad}: inputs.i2: missing" in lines
    assert "Traceback" not in out.stdout + out.stderr


def test_errors_are_one_line_exit_2(tmp_path):
    cases = [
        ("solve", str(tmp_path / "missing.toml")),
        ("solve", str(tmp_path)),
        ("solve", "no-such-lesson"),
        ("solve", "../../etc/passwd"),
    ]
    bad = tmp_path / "bad.toml"
    bad.write_text("title = [\n")
    cases.append(("solve", str(bad)))
    garbage = tmp_path / "garbage.toml"
    garbage.write_bytes(bytes(range(256)))
    cases.append(("solve", str(garbage)))
    for case in cases:
        out = tutor(*case)
        assert out.returncode == 2, (case, out.stdout, out.stderr)
        assert out.stdout == ""
        err = out.stderr.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, (case, err)
        assert err.startswith("tutor: "), err


def test_python_dash_m_and_console_script_agree():
    out = tutor("--version")
    assert out.returncode == 0 and "backprop-tutor" in out.stdout
    assert (ROOT / "tutor" / "__main__.py").exists()


def test_a_folder_without_lessons_is_named(tmp_path):
    folder = tmp_path / "x.toml"  # a folder named like a lesson file
    folder.mkdir()
    for command in ("validate", "check"):
        out = tutor(command, str(folder))
        assert out.returncode == 2
        assert (
            out.stderr.strip() == f"tutor: {folder}: a folder with no lesson files (*.toml) in it"
        )
