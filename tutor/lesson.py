"""Read a TOML lesson file into a validated, immutable :class:`Lesson`.

This is the only module that knows the file format (docs/lesson-format.md). Every problem is
reported as ``FILE: where: what`` so that instructors can fix their files without a traceback.
"""

from __future__ import annotations

import fnmatch
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tutor.names import ACTIVATIONS, FORMS, LOSSES, RESERVED, suggest
from tutor.tolerance import Tolerance, read_tolerance
from tutor.values import Value, factory

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_LAYERS = 16
MAX_UNITS = 4096
MAX_WEIGHTS = 250_000
MAX_ABS_NUMBER = 1e6
MAX_TEXT = 20_000
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
#: Step ids start with these, so no unit, weight, bias or error may (it would shadow a step).
RESERVED_PREFIXES = ("sum_", "out_", "new_", "delta_", "target_")


class Problem(Value):
    """One thing wrong with a lesson file: where (a key path) and what."""

    file: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.what}"


class LessonError(Exception):
    """A lesson file that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Layer(Value):
    """A layer of units; the input layer has no activation and no bias."""

    name: str
    units: tuple[str, ...]
    activation: str | None = None
    bias_names: tuple[str, ...] | None = None  # one per unit; a shared bias repeats its name
    bias_values: tuple[float, ...] | None = None

    @property
    def shared_bias(self) -> bool:
        return self.bias_names is not None and len(set(self.bias_names)) == 1 < len(self.units)


class Weight(Value):
    """A named connection ``source → target`` between units of adjacent layers."""

    name: str
    source: str
    target: str
    value: float
    layer: int  # index of the target's layer


class Network(Value):
    """The numbers of one training example: everything the engine needs, with names."""

    layers: tuple[Layer, ...]
    weights: tuple[Weight, ...]
    inputs: tuple[float, ...]  # in input-unit order
    targets: tuple[float, ...]  # in output-unit order
    loss: str
    learning_rate: float
    update_biases: bool = False
    #: target layer → its weight matrix (rows: that layer's units), when the lesson gave the
    #: compact form: lets the engine skip per-weight work on big networks. Not compared.
    matrices: Mapping[int, Any] = factory(dict)
    _hidden = frozenset({"matrices"})

    @property
    def input_units(self) -> tuple[str, ...]:
        return self.layers[0].units

    @property
    def output_units(self) -> tuple[str, ...]:
        return self.layers[-1].units

    def __post_init__(self) -> None:
        positions = {
            u: (li, j) for li, layer in enumerate(self.layers) for j, u in enumerate(layer.units)
        }
        object.__setattr__(self, "positions", positions)

    def unit_position(self, unit: str) -> tuple[int, int]:
        """(layer index, index in layer) of a unit."""
        return self.positions[unit]  # type: ignore[attr-defined]

    def bias_params(self) -> list[tuple[str, int, float]]:
        """Distinct biases as (name, layer index, value), in layer order."""
        seen: dict[str, tuple[str, int, float]] = {}
        for li, layer in enumerate(self.layers):
            if layer.bias_names is None or layer.bias_values is None:
                continue
            for name, value in zip(layer.bias_names, layer.bias_values, strict=True):
                seen.setdefault(name, (name, li, value))
        return list(seen.values())

    def normalised(self) -> dict[str, Any]:
        """The network as plain data, for ``tutor solve --format json`` and outside checkers."""
        layers = []
        for li, layer in enumerate(self.layers):
            entry: dict[str, Any] = {"name": layer.name, "units": list(layer.units)}
            if li > 0:
                entry["activation"] = layer.activation
                entry["bias"] = {
                    "names": list(layer.bias_names or ()),
                    "values": list(layer.bias_values or ()),
                }
            layers.append(entry)
        return {
            "layers": layers,
            "weights": [
                {"name": w.name, "from": w.source, "to": w.target, "value": w.value}
                for w in self.weights
            ],
            "inputs": dict(zip(self.input_units, self.inputs, strict=True)),
            "targets": dict(zip(self.output_units, self.targets, strict=True)),
            "loss": self.loss,
            "learning_rate": self.learning_rate,
            "update_biases": self.update_biases,
        }


class QuizSettings(Value):
    """How the lesson is asked: which steps, how many decimals, how answers are compared."""

    decimals: int = 5
    ask: tuple[str, ...] | None = None  # glob patterns of asked step ids; None = all
    show: tuple[str, ...] = ()  # glob patterns of steps only shown
    expressions: bool = True
    form: str = "auto"
    tolerance: Tolerance = factory(Tolerance)
    step_tolerance: Mapping[str, Tolerance] = factory(dict)

    def tolerance_for(self, step_id: str) -> Tolerance:
        return self.step_tolerance.get(step_id, self.tolerance)

    def asks(self, step_id: str) -> bool:
        """Whether a step is asked (not only shown), by the ``ask`` and ``show`` patterns."""
        asked = self.ask is None or any(fnmatch.fnmatchcase(step_id, p) for p in self.ask)
        return asked and not any(fnmatch.fnmatchcase(step_id, p) for p in self.show)


class VariantRanges(Value):
    """Ranges a drill draws fresh numbers from (the drawing lives elsewhere)."""

    inputs: tuple[float, float] | None = None
    weights: tuple[float, float] | None = None
    biases: tuple[float, float] | None = None
    targets: tuple[float, float] | str | None = None  # or "one-hot"
    learning_rate: tuple[float, float] | None = None
    round: int = 2
    ranges: Mapping[str, tuple[float, float]] = factory(dict)


class Training(Value):
    """More examples to train on after the hand-worked step, for the loss curve."""

    inputs: tuple[tuple[float, ...], ...]
    targets: tuple[tuple[float, ...], ...]
    epochs: int = 1000


NO_VARIANTS = "lesson {id!r} has no [variants] section, so it has no variants"


class Lesson(Value):
    """A validated lesson: the network, its texts and its quiz settings."""

    id: str
    path: Path | None
    title: str
    intro: str
    network: Network
    error_names: tuple[str, ...]
    total_name: str = "E_total"
    quiz: QuizSettings = factory(QuizSettings)
    hints: Mapping[str, tuple[str, ...]] = factory(dict)
    variants: VariantRanges | None = None
    order: int = 1000
    difficulty: int = 1
    minutes: int = 20
    misconceptions: tuple[Mapping[str, Any], ...] = ()
    file: str = "<lesson>"  # how problems name the source
    seed: int | None = None  # the variant's seed, when the numbers were drawn
    training: Training | None = None  # a training set for the loss curve (XOR)

    @property
    def size(self) -> str:
        """The shape as '2-2-2'."""
        return "-".join(str(len(layer.units)) for layer in self.network.layers)


# --------------------------------------------------------------------------------------------
# Reading


class _Reader:
    """Collects problems with their key paths while walking the parsed TOML."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self.matrices: dict[int, Any] = {}  # filled by the compact weight form

    def bad(self, where: str, what: str) -> None:
        self.problems.append(Problem(self.file, where or "(top)", what))

    def keys(self, table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                hint = suggest(str(key), allowed)
                more = f" (did you mean '{hint}'?)" if hint else ""
                self.bad(_join(where, key), f"unknown key{more}")

    def table(self, value: Any, where: str) -> Mapping[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.bad(where, f"must be a table, not {_kind(value)}")
            return None
        return value

    def number(self, value: Any, where: str, *, positive: bool = False) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.bad(where, f"must be a number, not {_kind(value)}")
            return None
        x = float(value)
        if not math.isfinite(x):
            self.bad(where, "must be a finite number (nan and inf are not allowed)")
            return None
        if abs(x) > MAX_ABS_NUMBER:
            self.bad(where, f"is too large (at most {MAX_ABS_NUMBER:g} in size)")
            return None
        if positive and x <= 0:
            self.bad(where, "must be greater than 0")
            return None
        return x

    def integer(self, value: Any, where: str, lo: int, hi: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(where, f"must be a whole number, not {_kind(value)}")
            return None
        if not lo <= value <= hi:
            self.bad(where, f"must be between {lo} and {hi}")
            return None
        return value

    def text(self, value: Any, where: str) -> str | None:
        if not isinstance(value, str):
            self.bad(where, f"must be a string, not {_kind(value)}")
            return None
        if len(value) > MAX_TEXT:
            self.bad(where, f"is too long (at most {MAX_TEXT} characters)")
            return None
        return value

    def name(self, value: Any, where: str) -> str | None:
        text = self.text(value, where)
        if text is None:
            return None
        if not NAME_RE.fullmatch(text):
            self.bad(
                where,
                f"'{_clip(text)}' is not a valid name (a letter, then up to 31 letters, digits or _)",
            )
            return None
        if text in RESERVED:
            self.bad(where, f"'{text}' is reserved for formulas; choose another name")
            return None
        clash = next((p for p in RESERVED_PREFIXES if text.startswith(p)), None)
        if clash:
            self.bad(where, f"'{text}' starts like a step id ({clash}…); choose another name")
            return None
        return text

    def boolean(self, value: Any, where: str) -> bool | None:
        if not isinstance(value, bool):
            self.bad(where, f"must be true or false, not {_kind(value)}")
            return None
        return value

    def patterns(self, value: Any, where: str) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.bad(where, "must be a list of step ids (glob patterns such as 'dsum_*' allowed)")
            return None
        return tuple(value)

    def pair(self, value: Any, where: str) -> tuple[float, float] | None:
        if not isinstance(value, list) or len(value) != 2:
            self.bad(where, "must be a range [low, high]")
            return None
        lo = self.number(value[0], f"{where}[0]")
        hi = self.number(value[1], f"{where}[1]")
        if lo is None or hi is None:
            return None
        if lo > hi:
            self.bad(where, f"low {lo:g} is greater than high {hi:g}")
            return None
        return (lo, hi)


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


def _kind(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a whole number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _clip(text: str, n: int = 30) -> str:
    """A short, printable rendering of a value for a message."""
    shown = text[: n - 1].encode("unicode_escape").decode("ascii")
    return shown + "…" if len(text) > n - 1 else shown


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
}
NETWORK_KEYS = {"loss", "learning_rate", "update_biases"}
LAYER_KEYS = {"name", "units", "prefix", "activation", "bias", "weights", "weight_names"}
QUIZ_KEYS = {"decimals", "ask", "show", "expressions", "form", "tolerance", "step_tolerance"}
VARIANT_KEYS = {"inputs", "weights", "biases", "targets", "learning_rate", "round", "ranges"}


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
    reader = _Reader(file)
    lesson = _build(reader, data, lesson_id, path, file)
    if reader.problems or lesson is None:
        raise LessonError(reader.problems or [Problem(file, "(top)", "invalid lesson")])
    return lesson


def _build(
    r: _Reader, data: dict[str, Any], lesson_id: str, path: Path | None, file: str
) -> Lesson | None:
    r.keys(data, "", TOP_KEYS)
    title = r.text(data["title"], "title") if "title" in data else None
    if "title" not in data:
        r.bad("title", "missing: every lesson needs a title")
    intro = r.text(data.get("intro", ""), "intro") or ""
    order = r.integer(data.get("order", 1000), "order", 1, 100_000) or 1000
    difficulty = r.integer(data.get("difficulty", 1), "difficulty", 1, 5) or 1
    minutes = r.integer(data.get("minutes", 20), "minutes", 1, 600) or 20

    net = r.table(data.get("network", {}), "network") or {}
    r.keys(net, "network", NETWORK_KEYS)
    loss = net.get("loss", "half_sse")
    if loss not in LOSSES:
        r.bad("network.loss", f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    lr = (
        r.number(net.get("learning_rate"), "network.learning_rate", positive=True)
        if ("learning_rate" in net)
        else None
    )
    if "learning_rate" not in net:
        r.bad("network.learning_rate", "missing: the learning rate (η) is needed for the update")
    update_biases = r.boolean(net.get("update_biases", False), "network.update_biases") or False

    layers, weights = _read_layers(r, data)
    if not layers:
        return None
    inputs = _read_unit_values(r, data.get("inputs"), "inputs", layers[0].units)
    targets = _read_unit_values(r, data.get("targets"), "targets", layers[-1].units)
    _check_loss(r, loss, layers, targets)

    error_names, total_name = _read_errors(r, data.get("errors"), layers[-1].units)
    _check_namespace(r, layers, weights, error_names, total_name)
    quiz = _read_quiz(r, data.get("quiz", {}))
    hints = _read_hints(r, data.get("hints", {}))
    variants = _read_variants(r, data.get("variants"), layers, weights)
    training = _read_training(r, data.get("training"), layers)
    misconceptions = data.get("misconceptions", [])
    if not isinstance(misconceptions, list) or not all(isinstance(m, dict) for m in misconceptions):
        r.bad("misconceptions", "must be a list of tables ([[misconceptions]])")
        misconceptions = []

    if r.problems or inputs is None or targets is None or lr is None or title is None:
        return None
    network = Network(
        layers=tuple(layers),
        weights=tuple(weights),
        inputs=inputs,
        targets=targets,
        loss=loss,
        learning_rate=lr,
        update_biases=update_biases,
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
    )


def _read_layers(r: _Reader, data: dict[str, Any]) -> tuple[list[Layer], list[Weight]]:
    raw_layers = data.get("layers")
    if raw_layers is None:
        r.bad("layers", "missing: give at least an input and an output layer ([[layers]])")
        return [], []
    if not isinstance(raw_layers, list) or not all(isinstance(x, dict) for x in raw_layers):
        r.bad("layers", "must be a list of tables ([[layers]])")
        return [], []
    if not 2 <= len(raw_layers) <= MAX_LAYERS:
        r.bad("layers", f"needs between 2 and {MAX_LAYERS} layers, found {len(raw_layers)}")
        return [], []
    count = len(raw_layers)
    layers: list[Layer] = []
    matrix_weights: list[Weight] = []
    all_units: set[str] = set()
    for li, raw in enumerate(raw_layers):
        where = f"layers[{li}]"
        r.keys(raw, where, LAYER_KEYS)
        default_name = "input" if li == 0 else "output" if li == count - 1 else f"hidden{li}"
        name = r.text(raw.get("name", default_name), f"{where}.name") or default_name
        units = _read_units(r, raw, where, li, count)
        for u in units:
            if u in all_units:
                r.bad(f"{where}.units", f"unit name '{u}' is used twice")
            all_units.add(u)
        activation = None
        bias_names = bias_values = None
        if li == 0:
            for key in ("activation", "bias", "weights", "weight_names"):
                if key in raw:
                    r.bad(f"{where}.{key}", "the input layer has no " + key.replace("_", " "))
        else:
            activation = raw.get("activation")
            if activation is None:
                r.bad(f"{where}.activation", f"missing: choose one of {', '.join(ACTIVATIONS)}")
            elif activation not in ACTIVATIONS:
                r.bad(
                    f"{where}.activation",
                    f"unknown activation {_clip(str(activation))!r}; choose one of "
                    + ", ".join(ACTIVATIONS),
                )
            elif activation == "softmax" and li != count - 1:
                r.bad(f"{where}.activation", "softmax is allowed on the output layer only")
            if "bias" in raw:
                bias_names, bias_values = _read_bias(r, raw["bias"], f"{where}.bias", units)
            if "weights" in raw and units and layers:
                matrix_weights.extend(_read_matrix(r, raw, where, li, layers[-1].units, units))
        layers.append(Layer(name, units, activation, bias_names, bias_values))
    weights = _read_weight_table(r, data.get("weights"), layers)
    if matrix_weights and weights:
        r.bad("weights", "give weights either as a [weights] table or in the layers, not both")
    weights = weights or matrix_weights
    if len(weights) > MAX_WEIGHTS:
        r.bad("weights", f"too many weights ({len(weights)}; at most {MAX_WEIGHTS})")
    if not weights and not r.problems:
        r.bad("weights", "missing: give a [weights] table or a weights matrix in each layer")
    _check_connected(r, layers, weights)
    return layers, weights


def _read_units(
    r: _Reader, raw: Mapping[str, Any], where: str, li: int, count: int
) -> tuple[str, ...]:
    units = raw.get("units")
    if units is None:
        r.bad(f"{where}.units", "missing: a list of unit names or a count")
        return ()
    if isinstance(units, int) and not isinstance(units, bool):
        if not 1 <= units <= MAX_UNITS:
            r.bad(f"{where}.units", f"must be between 1 and {MAX_UNITS}")
            return ()
        default_prefix = (
            "i" if li == 0 else "o" if li == count - 1 else ("h" if count == 3 else f"h{li}_")
        )
        prefix = raw.get("prefix", default_prefix)
        if not isinstance(prefix, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,15}", prefix):
            r.bad(f"{where}.prefix", "must be a short name such as 'h' or 'x'")
            return ()
        names = tuple(f"{prefix}{k}" for k in range(1, units + 1))
        for n in (names[0], names[-1]):
            if r.name(n, f"{where}.prefix") is None:
                return ()
        return names
    if "prefix" in raw:
        r.bad(f"{where}.prefix", "applies only when units is a count, such as units = 3")
    if not isinstance(units, list) or not units:
        r.bad(f"{where}.units", "must be a non-empty list of unit names or a count")
        return ()
    if len(units) > MAX_UNITS:
        r.bad(f"{where}.units", f"too many units (at most {MAX_UNITS})")
        return ()
    names = []
    for j, u in enumerate(units):
        n = r.name(u, f"{where}.units[{j}]")
        if n is not None:
            names.append(n)
    return tuple(names)


def _read_bias(
    r: _Reader, raw: Any, where: str, units: tuple[str, ...]
) -> tuple[tuple[str, ...] | None, tuple[float, ...] | None]:
    table = r.table(raw, where)
    if table is None:
        return None, None
    if "name" in table:
        r.keys(table, where, {"name", "value"})
        name = r.name(table["name"], f"{where}.name")
        value = r.number(table.get("value"), f"{where}.value") if "value" in table else None
        if "value" not in table:
            r.bad(f"{where}.value", "missing: the bias value")
        if name is None or value is None:
            return None, None
        return (name,) * len(units), (value,) * len(units)
    if "names" in table or "values" in table:
        r.keys(table, where, {"names", "values"})
        names, values = table.get("names"), table.get("values")
        if not isinstance(names, list) or not isinstance(values, list):
            r.bad(where, "a per-unit bias needs lists 'names' and 'values'")
            return None, None
        if len(names) != len(units) or len(values) != len(units):
            r.bad(where, f"needs one name and one value per unit ({len(units)})")
            return None, None
        got_names = [r.name(n, f"{where}.names[{j}]") for j, n in enumerate(names)]
        got_values = [r.number(v, f"{where}.values[{j}]") for j, v in enumerate(values)]
        if None in got_names or None in got_values:
            return None, None
        if len(set(got_names)) != len(got_names):
            r.bad(
                f"{where}.names", "per-unit bias names must differ (use 'name' for a shared bias)"
            )
            return None, None
        return tuple(got_names), tuple(got_values)  # type: ignore[arg-type]
    r.bad(where, "give {name, value} for a shared bias or {names, values} for one per unit")
    return None, None


def _read_matrix(
    r: _Reader,
    raw: Mapping[str, Any],
    where: str,
    li: int,
    sources: tuple[str, ...],
    targets: tuple[str, ...],
) -> list[Weight]:
    """The compact form: rows are this layer's units, columns the previous layer's units."""
    spec = raw["weights"]
    shape = (len(targets), len(sources))
    if isinstance(spec, dict):
        r.keys(spec, f"{where}.weights", {"random", "seed"})
        rng_range = r.pair(spec.get("random"), f"{where}.weights.random")
        seed = r.integer(spec.get("seed", 0), f"{where}.weights.seed", 0, 2**32 - 1)
        if rng_range is None or seed is None:
            return []
        import numpy as np  # only here: the app's first paint must not wait for NumPy

        matrix = np.random.default_rng(seed).uniform(rng_range[0], rng_range[1], size=shape)
        matrix = matrix.tolist()
    elif isinstance(spec, list):
        if len(spec) != shape[0] or not all(isinstance(row, list) for row in spec):
            r.bad(f"{where}.weights", f"must have one row per unit of this layer ({shape[0]})")
            return []
        rows = []
        for j, row in enumerate(spec):
            if len(row) != shape[1]:
                r.bad(
                    f"{where}.weights[{j}]",
                    f"must have one entry per unit of the previous layer ({shape[1]}), "
                    f"found {len(row)}",
                )
                return []
            rows.append([r.number(v, f"{where}.weights[{j}][{k}]") for k, v in enumerate(row)])
        if any(v is None for row in rows for v in row):
            return []
        matrix = rows
    else:
        r.bad(
            f"{where}.weights", "must be a matrix (list of rows) or {random = [lo, hi], seed = N}"
        )
        return []
    names = raw.get("weight_names")
    if names is not None:
        ok = (
            isinstance(names, list)
            and len(names) == shape[0]
            and all(isinstance(row, list) and len(row) == shape[1] for row in names)
        )
        if not ok:
            r.bad(
                f"{where}.weight_names",
                f"must have the same shape as weights ({shape[0]}×{shape[1]})",
            )
            return []
        grid = [
            [r.name(n, f"{where}.weight_names[{j}][{k}]") for k, n in enumerate(row)]
            for j, row in enumerate(names)
        ]
    else:
        grid = [[f"w_{t}_{s}" for s in sources] for t in targets]
        too_long = next((n for row in grid for n in row if not NAME_RE.fullmatch(n)), None)
        if too_long:
            r.bad(
                f"{where}.weights",
                f"the automatic name '{_clip(too_long)}' is too long; "
                "give weight_names or shorter unit names",
            )
            return []
    out = []
    for j, t in enumerate(targets):
        for k, s in enumerate(sources):
            name = grid[j][k]
            if name is not None:
                out.append(Weight(name, s, t, float(matrix[j][k]), li))
    if len(out) == shape[0] * shape[1]:
        r.matrices[li] = matrix
    return out


def _read_weight_table(r: _Reader, raw: Any, layers: list[Layer]) -> list[Weight]:
    if raw is None:
        return []
    table = r.table(raw, "weights")
    if table is None:
        return []
    position = {u: li for li, layer in enumerate(layers) for u in layer.units}
    weights = []
    seen_pairs: dict[tuple[str, str], str] = {}
    for name, spec in table.items():
        where = f"weights.{name}"
        checked = r.name(name, where)
        entry = r.table(spec, where)
        if checked is None or entry is None:
            continue
        r.keys(entry, where, {"from", "to", "value"})
        missing = [k for k in ("from", "to", "value") if k not in entry]
        if missing:
            r.bad(
                where,
                f"missing {', '.join(missing)} (write {{ from = ..., to = ..., value = ... }})",
            )
            continue
        source, target = entry["from"], entry["to"]
        value = r.number(entry["value"], f"{where}.value")
        ok = True
        for key, unit in (("from", source), ("to", target)):
            if not isinstance(unit, str) or unit not in position:
                r.bad(f"{where}.{key}", f"unknown unit {_clip(str(unit))!r}")
                ok = False
        if not ok or value is None:
            continue
        if position[target] != position[source] + 1:
            r.bad(
                where,
                f"connects {source} (layer {position[source]}) to {target} (layer "
                f"{position[target]}); weights must go from one layer to the next",
            )
            continue
        pair = (source, target)
        if pair in seen_pairs:
            r.bad(where, f"{source} → {target} is already connected by {seen_pairs[pair]}")
            continue
        seen_pairs[pair] = name
        weights.append(Weight(name, source, target, value, position[target]))
    return weights


def _check_connected(r: _Reader, layers: list[Layer], weights: list[Weight]) -> None:
    if r.problems or not weights:
        return
    incoming = {w.target for w in weights}
    for li, layer in enumerate(layers[1:], start=1):
        for u in layer.units:
            if u not in incoming and layer.bias_names is None:
                r.bad(f"layers[{li}].units", f"unit '{u}' has no incoming weight and no bias")


def _read_unit_values(
    r: _Reader, raw: Any, where: str, units: tuple[str, ...]
) -> tuple[float, ...] | None:
    if raw is None:
        r.bad(where, f"missing: one value for each of {', '.join(units[:6])}")
        return None
    if isinstance(raw, list):
        if len(raw) != len(units):
            r.bad(where, f"needs {len(units)} values (one per unit), found {len(raw)}")
            return None
        values = [r.number(v, f"{where}[{k}]") for k, v in enumerate(raw)]
    elif isinstance(raw, dict):
        r.keys(raw, where, set(units))
        for u in units:
            if u not in raw:
                r.bad(f"{where}.{u}", "missing")
        values = [r.number(raw[u], f"{where}.{u}") if u in raw else None for u in units]
    else:
        r.bad(where, "must be a table (unit = value) or a list in unit order")
        return None
    if any(v is None for v in values):
        return None
    return tuple(values)  # type: ignore[arg-type]


def _check_loss(
    r: _Reader, loss: str, layers: list[Layer], targets: tuple[float, ...] | None
) -> None:
    out_act = layers[-1].activation
    if loss == "cross_entropy" and out_act not in ("softmax", "sigmoid"):
        r.bad("network.loss", "cross_entropy needs a softmax or sigmoid output layer")
    if loss == "binary_cross_entropy" and out_act != "sigmoid":
        r.bad("network.loss", "binary_cross_entropy needs a sigmoid output layer")
    if out_act == "softmax" and loss != "cross_entropy":
        r.bad("network.loss", "a softmax output layer is taught with loss = 'cross_entropy'")
    if targets is None:
        return
    if loss in ("cross_entropy", "binary_cross_entropy"):
        for k, t in enumerate(targets):
            if not 0 <= t <= 1:
                r.bad(f"targets.{layers[-1].units[k]}", "must lie between 0 and 1 for this loss")
    if loss == "cross_entropy" and out_act == "softmax" and abs(sum(targets) - 1) > 1e-9:
        r.bad(
            "targets",
            f"must add up to 1 for softmax with cross-entropy (they add to {sum(targets):g})",
        )


def _read_errors(r: _Reader, raw: Any, outputs: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    defaults = tuple(f"E{k}" for k in range(1, len(outputs) + 1))
    if raw is None:
        return defaults, "E_total"
    table = r.table(raw, "errors")
    if table is None:
        return defaults, "E_total"
    r.keys(table, "errors", set(outputs) | {"total"})
    names = []
    for u, default in zip(outputs, defaults, strict=True):
        names.append(r.name(table[u], f"errors.{u}") if u in table else default)
    total = r.name(table.get("total", "E_total"), "errors.total") or "E_total"
    return tuple(n or "E" for n in names), total


def _check_namespace(
    r: _Reader, layers: list[Layer], weights: list[Weight], errors: tuple[str, ...], total: str
) -> None:
    owners: dict[str, str] = {}

    def claim(name: str, what: str, where: str) -> None:
        if name in owners and not (what.startswith("unit") and owners[name] == what):
            r.bad(where, f"'{name}' is already the name of {owners[name]}")
        owners.setdefault(name, what)

    for li, layer in enumerate(layers):
        for u in layer.units:
            claim(u, f"unit {u}", f"layers[{li}].units")
    for w in weights:
        claim(w.name, f"weight {w.name}", f"weights.{w.name}")
    for li, layer in enumerate(layers):
        for b in dict.fromkeys(layer.bias_names or ()):
            if b in owners and owners[b].startswith("bias"):
                r.bad(f"layers[{li}].bias", f"bias name '{b}' is used in two layers")
            else:
                claim(b, f"bias {b}", f"layers[{li}].bias")
    for e in (*errors, total):
        claim(e, f"error {e}", "errors")


def _read_quiz(r: _Reader, raw: Any) -> QuizSettings:
    table = r.table(raw, "quiz") or {}
    r.keys(table, "quiz", QUIZ_KEYS)
    decimals = r.integer(table.get("decimals", 5), "quiz.decimals", 1, 12) or 5
    ask = r.patterns(table["ask"], "quiz.ask") if "ask" in table else None
    show = r.patterns(table.get("show", []), "quiz.show") or ()
    expressions = table.get("expressions", True)
    if r.boolean(expressions, "quiz.expressions") is None:
        expressions = True
    form = table.get("form", "auto")
    if form not in FORMS:
        r.bad("quiz.form", f"must be one of {', '.join(FORMS)}")
        form = "auto"
    tolerance = _tolerance(r, table.get("tolerance", {}), "quiz.tolerance", decimals)
    step_tol: dict[str, Tolerance] = {}
    for key, value in (
        r.table(table.get("step_tolerance", {}), "quiz.step_tolerance") or {}
    ).items():
        step_tol[key] = _tolerance(r, value, f'quiz.step_tolerance."{key}"', decimals)
    return QuizSettings(decimals, ask, show, bool(expressions), form, tolerance, step_tol)


def _tolerance(r: _Reader, raw: Any, where: str, decimals: int) -> Tolerance:
    table = r.table(raw, where)
    if table is None:
        return Tolerance(decimals=decimals)
    tol, problems = read_tolerance(table, decimals)
    for key, what in problems:
        r.bad(f"{where}.{key}", what)
    return tol or Tolerance(decimals=decimals)


def _read_hints(r: _Reader, raw: Any) -> dict[str, tuple[str, ...]]:
    table = r.table(raw, "hints") or {}
    hints: dict[str, tuple[str, ...]] = {}
    for step, value in table.items():
        where = f'hints."{step}"'
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not 1 <= len(value) <= 3:
            r.bad(where, "must be a string or a list of 1 to 3 strings (hint levels 1, 2, 3)")
            continue
        texts = [r.text(v, f"{where}[{k}]") for k, v in enumerate(value)]
        if None not in texts:
            hints[step] = tuple(texts)  # type: ignore[arg-type]
    return hints


def _read_variants(
    r: _Reader, raw: Any, layers: list[Layer], weights: list[Weight]
) -> VariantRanges | None:
    if raw is None:
        return None
    table = r.table(raw, "variants")
    if table is None:
        return None
    r.keys(table, "variants", VARIANT_KEYS)
    got: dict[str, Any] = {}
    for key in ("inputs", "weights", "biases", "learning_rate"):
        if key in table:
            got[key] = r.pair(table[key], f"variants.{key}")
    if "targets" in table:
        t = table["targets"]
        got["targets"] = t if t == "one-hot" else r.pair(t, "variants.targets")
    rounding = r.integer(table.get("round", 2), "variants.round", 0, 12)
    known = (
        {u for layer in layers for u in layer.units}
        | {w.name for w in weights}
        | {b for layer in layers for b in (layer.bias_names or ())}
        | {"learning_rate"}
    )
    ranges: dict[str, tuple[float, float]] = {}
    for name, value in (r.table(table.get("ranges", {}), "variants.ranges") or {}).items():
        if name not in known:
            r.bad(f"variants.ranges.{name}", "names no unit, weight, bias or learning_rate")
            continue
        pair = r.pair(value, f"variants.ranges.{name}")
        if pair:
            ranges[name] = pair
    return VariantRanges(round=rounding if rounding is not None else 2, ranges=ranges, **got)


def _read_training(r: _Reader, raw: Any, layers: list[Layer]) -> Training | None:
    """``[training]``: ``examples = [{inputs = [...], targets = [...]}, ...]`` and ``epochs``."""
    if raw is None or not layers:
        return None
    table = r.table(raw, "training")
    if table is None:
        return None
    r.keys(table, "training", {"examples", "epochs"})
    examples = table.get("examples")
    if not isinstance(examples, list) or not examples or len(examples) > 10_000:
        r.bad("training.examples", "must be a list of 1 to 10000 {inputs = [...], targets = [...]}")
        return None
    n_in, n_out = len(layers[0].units), len(layers[-1].units)
    xs, ts = [], []
    for k, ex in enumerate(examples):
        where = f"training.examples[{k}]"
        if not isinstance(ex, dict):
            r.bad(where, "must be a table {inputs = [...], targets = [...]}")
            continue
        r.keys(ex, where, {"inputs", "targets"})
        x = _read_unit_values(r, ex.get("inputs"), f"{where}.inputs", layers[0].units)
        t = _read_unit_values(r, ex.get("targets"), f"{where}.targets", layers[-1].units)
        if x is not None and t is not None and len(x) == n_in and len(t) == n_out:
            xs.append(x)
            ts.append(t)
    epochs = r.integer(table.get("epochs", 1000), "training.epochs", 1, 100_000)
    if r.problems or epochs is None:
        return None
    return Training(tuple(xs), tuple(ts), epochs)
