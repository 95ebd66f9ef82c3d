"""Read a TOML lesson file into a validated, immutable :class:`Lesson`.

The ``tutor.lesson`` package is the only place that knows the file format
(docs/lesson-format.md): this module reads the file and the top-level keys, ``network`` the
layers and weights, ``sections`` the rest. Every problem is reported as ``FILE: where: what``
so that instructors can fix their files without a traceback.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from tutor.activations import LOSSES
from tutor.lesson.fields import Reader
from tutor.lesson.graphs import read_graph
from tutor.lesson.model import Layer, Lesson, LessonError, Network, Problem
from tutor.lesson.network import check_loss, check_namespace, read_layers, read_unit_values
from tutor.lesson.rules import read_batch, read_rule, read_summary
from tutor.lesson.sections import (
    read_errors,
    read_hints,
    read_quiz,
    read_training,
    read_variants,
)
from tutor.names import suggest
from tutor.textmode import describe_char, first_unsafe

MAX_FILE_BYTES = 4 * 1024 * 1024
TOP_KEYS = {
    "title",
    "intro",
    "order",
    "difficulty",
    "minutes",
    "network",
    "layers",
    "weights",
    "inputs",
    "targets",
    "errors",
    "quiz",
    "hints",
    "variants",
    "misconceptions",
    "training",
    "velocity",
    "summary",
    "batch",
    "graph",
}
#: what a computational-graph lesson may have: no network, loss or update of its own
GRAPH_KEYS = {
    "title",
    "intro",
    "order",
    "difficulty",
    "minutes",
    "graph",
    "quiz",
    "hints",
    "misconceptions",
}
NETWORK_KEYS = {
    "loss",
    "learning_rate",
    "update_biases",
    "weight_decay",
    "momentum",
    "iterations",
}


def load_lesson(path: str | Path, lesson_id: str | None = None) -> Lesson:
    """Read and validate a lesson file; raise :class:`LessonError` with every problem found."""
    p = Path(path)
    file = str(path)
    try:
        if p.is_dir():
            raise LessonError([Problem(file, "(file)", "is a folder, not a lesson file")])
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LessonError(
                [Problem(file, "(file)", f"is too large ({size} bytes; at most {MAX_FILE_BYTES})")]
            )
        raw = p.read_bytes()
    except FileNotFoundError:
        raise LessonError([Problem(file, "(file)", "no such file")]) from None
    except PermissionError:
        raise LessonError([Problem(file, "(file)", "permission denied")]) from None
    except OSError as err:
        raise LessonError([Problem(file, "(file)", f"cannot be read ({err.strerror})")]) from None
    return parse_lesson(raw, file=file, lesson_id=lesson_id or p.stem, path=p)


def parse_lesson(
    raw: bytes | str, *, file: str = "<lesson>", lesson_id: str = "lesson", path: Path | None = None
) -> Lesson:
    """Parse lesson text (bytes or str) into a Lesson."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_FILE_BYTES:
            raise LessonError([Problem(file, "(file)", "is too large")])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise LessonError(
                [Problem(file, "(file)", f"is not UTF-8 text (bad byte at offset {err.start})")]
            ) from None
    else:
        text = raw
    if "\x00" in text:
        raise LessonError([Problem(file, "(file)", "contains a NUL byte; is it a binary file?")])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise LessonError([Problem(file, "(toml)", f"not valid TOML: {err}")]) from None
    except RecursionError:
        raise LessonError([Problem(file, "(toml)", "nested too deeply")]) from None
    reader = Reader(file)
    _check_text(reader, data, "")
    lesson = _build(reader, data, lesson_id, path, file)
    if reader.problems or lesson is None:
        raise LessonError(reader.problems or [Problem(file, "(top)", "invalid lesson")])
    return lesson


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _check_text(r: Reader, value: Any, where: str) -> None:
    """The one boundary for text: no key or string anywhere in a lesson may hold a character
    that a terminal acts on or a reader cannot see (escape sequences, C1 controls, bidi
    overrides, zero-width characters), so nothing read from a lesson file needs cleaning
    later, in any front end or output format."""
    if isinstance(value, str):
        ch = first_unsafe(value)
        if ch is not None:
            r.bad(
                where, f"contains {describe_char(ch)}, which a terminal acts on or hides; remove it"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            name = str(key) if _BARE_KEY.fullmatch(str(key)) else f'"{key}"'
            inner = f"{where}.{name}" if where else name
            ch = first_unsafe(str(key))
            if ch is not None:
                r.bad(inner, f"this key's name contains {describe_char(ch)}; remove it")
            _check_text(r, item, inner)
    elif isinstance(value, list):
        for k, item in enumerate(value):
            _check_text(r, item, f"{where}[{k}]")


def _heading(r: Reader, data: dict[str, Any]) -> tuple[str | None, str, int, int, int]:
    """What every kind of lesson has: its title, intro, place in the course, level and time."""
    title = r.text(data["title"], "title") if "title" in data else None
    if "title" not in data:
        r.bad("title", "missing: every lesson needs a title")
    intro = r.text(data.get("intro", ""), "intro") or ""
    order = r.integer(data.get("order", 1000), "order", 1, 100_000) or 1000
    difficulty = r.integer(data.get("difficulty", 1), "difficulty", 1, 5) or 1
    minutes = r.integer(data.get("minutes", 20), "minutes", 1, 600) or 20
    return title, intro, order, difficulty, minutes


def _build(
    r: Reader, data: dict[str, Any], lesson_id: str, path: Path | None, file: str
) -> Lesson | None:
    if "graph" in data:
        return _build_graph(r, data, lesson_id, path, file)
    r.keys(data, "", TOP_KEYS)
    title, intro, order, difficulty, minutes = _heading(r, data)

    net = r.table(data.get("network", {}), "network") or {}
    r.keys(net, "network", NETWORK_KEYS)
    loss = r.choice(net.get("loss", "half_sse"), "network.loss", LOSSES, "loss")
    lr = (
        r.number(net.get("learning_rate"), "network.learning_rate", positive=True)
        if ("learning_rate" in net)
        else None
    )
    if "learning_rate" not in net:
        r.bad("network.learning_rate", "missing: the learning rate (η) is needed for the update")
    update_biases = r.boolean(net.get("update_biases", False), "network.update_biases") or False

    layers, weights = read_layers(r, data)
    if not layers:
        return None
    raw_iterations = net.get("iterations", 1)
    batch, reduction = read_batch(
        r, data.get("batch"), data, layers, raw_iterations if isinstance(raw_iterations, int) else 1
    )
    inputs: tuple[float, ...] | None
    targets: tuple[float, ...] | None
    if batch:
        inputs, targets = batch[0]
        for _, example_targets in batch[1:]:
            check_loss(r, loss, layers, example_targets)
    elif "batch" not in data:
        inputs = read_unit_values(r, data.get("inputs"), "inputs", layers[0].units)
        targets = read_unit_values(r, data.get("targets"), "targets", layers[-1].units)
    else:
        inputs = targets = None
    check_loss(r, loss, layers, targets)

    error_names, total_name = read_errors(r, data.get("errors"), layers[-1].units)
    decay_asked = isinstance(net.get("weight_decay"), (int, float)) and bool(net["weight_decay"])
    check_namespace(r, layers, weights, error_names, total_name, decay_asked, bool(batch))
    quiz = read_quiz(r, data.get("quiz", {}))
    hints = read_hints(r, data.get("hints", {}))
    variants = read_variants(r, data.get("variants"), layers, weights)
    training = read_training(r, data.get("training"), layers)
    rule = read_rule(r, net, data.get("velocity"), layers, weights)
    summary_updates = read_summary(r, data.get("summary"))
    misconceptions = data.get("misconceptions", [])
    if not isinstance(misconceptions, list) or not all(isinstance(m, dict) for m in misconceptions):
        r.bad("misconceptions", "must be a list of tables ([[misconceptions]])")
        misconceptions = []

    if r.problems or title is None or loss is None or lr is None:
        return None  # each was reported
    if inputs is None or targets is None:
        return None
    network = Network(
        layers=tuple(layers),
        weights=tuple(weights),
        inputs=inputs,
        targets=targets,
        loss=loss,
        learning_rate=lr,
        update_biases=update_biases,
        weight_decay=rule.weight_decay,
        momentum=rule.momentum,
        iterations=rule.iterations,
        batch=batch,
        batch_reduction=reduction,
        velocities=rule.velocities,
        matrices=r.matrices if not isinstance(data.get("weights"), dict) else {},
    )
    return Lesson(
        id=lesson_id,
        path=path,
        title=title,
        intro=intro,
        network=network,
        error_names=error_names,
        total_name=total_name,
        quiz=quiz,
        hints=hints,
        variants=variants,
        order=order,
        difficulty=difficulty,
        minutes=minutes,
        misconceptions=tuple(misconceptions),
        file=file,
        training=training,
        summary_updates=summary_updates,
    )


def _build_graph(
    r: Reader, data: dict[str, Any], lesson_id: str, path: Path | None, file: str
) -> Lesson | None:
    """A computational-graph lesson: ``[graph]`` instead of a network. Its ``Network`` only
    names the inputs (with their values) and the output gate, so that what reads a lesson's
    inputs finds them; everything else follows ``network.graph``."""
    for key in data:
        if key not in GRAPH_KEYS:
            if key in TOP_KEYS:
                r.bad(key, "not used in a computational-graph lesson (one with [graph])")
            else:
                near = suggest(str(key), GRAPH_KEYS)
                r.bad(key, "unknown key" + (f" (did you mean '{near}'?)" if near else ""))
    title, intro, order, difficulty, minutes = _heading(r, data)
    graph = read_graph(r, data["graph"])
    quiz = read_quiz(r, data.get("quiz", {}))
    hints = read_hints(r, data.get("hints", {}))
    misconceptions = data.get("misconceptions", [])
    if not isinstance(misconceptions, list) or not all(isinstance(m, dict) for m in misconceptions):
        r.bad("misconceptions", "must be a list of tables ([[misconceptions]])")
        misconceptions = []
    if r.problems or title is None or graph is None:
        return None
    names = tuple(name for name, _ in graph.inputs)
    network = Network(
        layers=(
            Layer("inputs", names),
            Layer("gates", (graph.output,), activation="linear"),
        ),
        weights=(),
        inputs=tuple(value for _, value in graph.inputs),
        targets=(0.0,),
        loss="half_sse",
        learning_rate=1.0,
        graph=graph,
    )
    return Lesson(
        id=lesson_id,
        path=path,
        title=title,
        intro=intro,
        network=network,
        error_names=(),
        quiz=quiz,
        hints=hints,
        order=order,
        difficulty=difficulty,
        minutes=minutes,
        misconceptions=tuple(misconceptions),
        file=file,
    )
