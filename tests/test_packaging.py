"""Built-in lessons are found from an installed wheel and from the editable install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (whl,) = out.glob("backprop_tutor-*.whl")
    return whl


def test_wheel_contains_the_lessons(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "tutor/lessons/sigmoid-2-2-2.toml" in names
    assert "tutor/cli/__init__.py" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_installed_wheel_finds_its_lessons(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = (
        "import json, tutor, tutor.locations as l;"
        "print(json.dumps([tutor.__file__, str(l.builtin_lessons_dir())]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    module_file, lessons_dir = json.loads(out.stdout)
    assert module_file.startswith(str(target))
    assert lessons_dir == str(target / "tutor" / "lessons")
    solved = subprocess.run(
        [sys.executable, "-m", "tutor", "solve", "sigmoid-2-2-2", "--format", "json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert solved.returncode == 0, solved.stderr
    assert json.loads(solved.stdout)["lesson"] == "sigmoid-2-2-2"


def test_editable_install_uses_the_repository_lessons():
    import tutor
    from tutor.locations import builtin_lessons_dir

    if not str(tutor.__file__).startswith(str(ROOT)):
        pytest.skip("the suite is not running against the editable install")
    assert builtin_lessons_dir() == ROOT / "lessons"
    assert (builtin_lessons_dir() / "sigmoid-2-2-2.toml").is_file()
