"""What a lesson is once read: immutable values, with no knowledge of the file format."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.activations import ACTIVATIONS, Activation
from tutor.textmode import visible
from tutor.tolerance import Tolerance

NO_VARIANTS = "lesson {id!r} has no [variants] section, so it has no variants"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a lesson file: where (a key path) and what."""

    file: str
    where: str
    what: str

    def __str__(self) -> str:
        """One line, with any control character of the file's text (a key's name, a quoted
        value, the file's own name) written as an escape, never sent raw to a terminal."""
        return visible(f"{self.file}: {self.where}: {self.what}").replace("\n", "\\n")


class LessonError(Exception):
    """A lesson file that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


Operand = str | float  # a name (an input or an earlier gate) or a constant


@dataclass(frozen=True, slots=True)
class Gate:
    """One node: ``name = op(args)``; ``exponent`` for a power by a constant."""

    name: str
    op: str  # add, sub, mul, div, pow, neg, exp, log, max, or an activation's name
    args: tuple[Operand, ...]
    text: str  # the expression as the lesson wrote it (trimmed)
    exponent: float = 1.0

    @property
    def names(self) -> tuple[str, ...]:
        """The named operands, each once, in order."""
        return tuple(dict.fromkeys(a for a in self.args if isinstance(a, str)))


@dataclass(frozen=True, slots=True)
class ComputationGraph:
    """Inputs with their values, then the gates in order; the last gate is the output f."""

    inputs: tuple[tuple[str, float], ...]
    gates: tuple[Gate, ...]

    @property
    def output(self) -> str:
        return self.gates[-1].name

    def consumers(self, name: str) -> tuple[str, ...]:
        """The gates that read ``name``, in order."""
        return tuple(g.name for g in self.gates if name in g.names)

    def normalised(self) -> dict[str, Any]:
        return {
            "inputs": dict(self.inputs),
            "nodes": {g.name: g.text for g in self.gates},
            "output": self.output,
        }


@dataclass(frozen=True, slots=True)
class Layer:
    """A layer of units; the input layer has no activation and no bias."""

    name: str
    units: tuple[str, ...]
    activation: str | None = None
    bias_names: tuple[str, ...] | None = None  # one per unit; a shared bias repeats its name
    bias_values: tuple[float, ...] | None = None
    activation_parameter: float | None = None  # leaky ReLU's negative_slope

    @property
    def activation_record(self) -> Activation:
        """Everything about this layer's activation (the input layer's is the identity), with
        the layer's parameter (a leaky ReLU's slope) filled in."""
        return ACTIVATIONS[self.activation or "linear"].with_parameter(self.activation_parameter)

    @property
    def shared_bias(self) -> bool:
        return self.bias_names is not None and len(set(self.bias_names)) == 1 < len(self.units)


@dataclass(frozen=True, slots=True)
class Weight:
    """A named connection ``source → target`` between units of adjacent layers."""

    name: str
    source: str
    target: str
    value: float
    layer: int  # index of the target's layer


@dataclass(frozen=True, slots=True)
class Network:
    """The numbers of one training example: everything the engine needs, with names."""

    layers: tuple[Layer, ...]
    weights: tuple[Weight, ...]
    inputs: tuple[float, ...]  # in input-unit order
    targets: tuple[float, ...]  # in output-unit order
    loss: str
    learning_rate: float
    update_biases: bool = False
    weight_decay: float = 0.0  # L2: the loss gains (λ/2)·Σw², each weight's gradient λ·w
    momentum: float | None = None  # μ; None: plain gradient descent
    iterations: int = 1  # hand-worked forward passes and updates, one after the other
    #: a mini-batch: each example's (inputs, targets); ``inputs``/``targets`` are the first's
    batch: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = ()
    batch_reduction: str = "mean"  # the batch loss is the "mean" or the "sum" of the examples
    #: each weight's or bias's velocity before the step (momentum; 0 when not given)
    velocities: Mapping[str, float] = field(default_factory=dict)
    #: a computational-graph lesson's gates (the layers then only name its inputs and output)
    graph: ComputationGraph | None = None
    #: target layer → its weight matrix (rows: that layer's units), when the lesson gave the
    #: compact form: lets the engine skip per-weight work on big networks
    matrices: Mapping[int, Any] = field(default_factory=dict, compare=False, repr=False)
    #: unit → (layer index, index in layer), worked out from the layers
    positions: dict[str, tuple[int, int]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        positions = {
            u: (li, j) for li, layer in enumerate(self.layers) for j, u in enumerate(layer.units)
        }
        object.__setattr__(self, "positions", positions)

    @property
    def input_units(self) -> tuple[str, ...]:
        return self.layers[0].units

    @property
    def output_units(self) -> tuple[str, ...]:
        return self.layers[-1].units

    def unit_position(self, unit: str) -> tuple[int, int]:
        """(layer index, index in layer) of a unit."""
        return self.positions[unit]

    def activation_of(self, unit: str) -> Activation:
        """The activation of a unit's layer (the identity for the inputs)."""
        return self.layers[self.positions[unit][0]].activation_record

    def bias_of(self, unit: str) -> tuple[str, float] | None:
        """The name and value of the bias a unit adds, if it has one."""
        li, j = self.positions[unit]
        layer = self.layers[li]
        if layer.bias_names is None or layer.bias_values is None:
            return None
        return layer.bias_names[j], layer.bias_values[j]

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
        if self.graph is not None:
            return {"graph": self.graph.normalised()}
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
            "weight_decay": self.weight_decay,
            "iterations": self.iterations,
            "batch": {
                "reduction": self.batch_reduction,
                "examples": [
                    {
                        "inputs": dict(zip(self.input_units, x, strict=True)),
                        "targets": dict(zip(self.output_units, t, strict=True)),
                    }
                    for x, t in self.batch
                ],
            }
            if self.batch
            else None,
            "momentum": self.momentum,
            "velocity": dict(self.velocities),
        }


@dataclass(frozen=True, slots=True)
class Credit:
    """Partial credit (``[quiz] credit``): a right answer earns less after wrong tries and
    hints, as web homework systems score, but never less than ``floor``."""

    per_wrong: float = 0.0  # taken off for each wrong try on the step
    per_hint: float = 0.0  # taken off for each hint level asked for on the step
    floor: float = 0.0  # the least a right answer earns

    def points(self, wrong: int, hints: int) -> float:
        """What a right answer earns after ``wrong`` wrong tries and ``hints`` hints."""
        return round(max(self.floor, 1.0 - self.per_wrong * wrong - self.per_hint * hints), 4)


@dataclass(frozen=True, slots=True)
class QuizSettings:
    """How the lesson is asked: which steps, how many decimals, how answers are compared."""

    decimals: int = 5
    ask: tuple[str, ...] | None = None  # glob patterns of asked step ids; None = all
    show: tuple[str, ...] = ()  # glob patterns of steps only shown
    expressions: bool = True
    form: str = "auto"
    tolerance: Tolerance = field(default_factory=Tolerance)
    step_tolerance: Mapping[str, Tolerance] = field(default_factory=dict)
    credit: Credit | None = None  # partial credit in drills and exams; None = off
    names: bool = True  # answers may use the givens' and answered steps' names
    exam_names: bool | None = None  # the same in exams; None = as ``names``

    def names_in(self, mode: str) -> bool:
        """Whether answers in ``mode`` may use names: they need expressions, and an exam may
        have its own setting (a teacher who wants every number typed in an exam)."""
        own = self.exam_names if mode == "exam" else None
        return self.expressions and (self.names if own is None else own)

    def tolerance_for(self, step_id: str) -> Tolerance:
        return self.step_tolerance.get(step_id, self.tolerance)

    def asks(self, step_id: str) -> bool:
        """Whether a step is asked (not only shown), by the ``ask`` and ``show`` patterns."""
        asked = self.ask is None or any(fnmatch.fnmatchcase(step_id, p) for p in self.ask)
        return asked and not any(fnmatch.fnmatchcase(step_id, p) for p in self.show)


@dataclass(frozen=True, slots=True)
class VariantRanges:
    """Ranges a drill draws fresh numbers from (the drawing is in ``tutor.lesson.variants``)."""

    inputs: tuple[float, float] | None = None
    weights: tuple[float, float] | None = None
    biases: tuple[float, float] | None = None
    targets: tuple[float, float] | str | None = None  # or "one-hot"
    learning_rate: tuple[float, float] | None = None
    round: int = 2
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Training:
    """More examples to train on after the hand-worked step, for the loss curve."""

    inputs: tuple[tuple[float, ...], ...]
    targets: tuple[tuple[float, ...], ...]
    epochs: int = 1000


@dataclass(frozen=True, slots=True)
class Lesson:
    """A validated lesson: the network, its texts and its quiz settings."""

    id: str
    path: Path | None
    title: str
    intro: str
    network: Network
    error_names: tuple[str, ...]
    total_name: str = "E_total"
    quiz: QuizSettings = field(default_factory=QuizSettings)
    hints: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    variants: VariantRanges | None = None
    order: int = 1000
    difficulty: int = 1
    minutes: int = 20
    misconceptions: tuple[Mapping[str, Any], ...] = ()
    file: str = "<lesson>"  # how problems name the source
    seed: int | None = None  # the variant's seed, when the numbers were drawn
    training: Training | None = None  # a training set for the loss curve (XOR)
    summary_updates: int = 20  # further updates the summary's loss curve shows

    @property
    def size(self) -> str:
        """The shape as '2-2-2' (a computational graph: how many gates)."""
        if self.network.graph is not None:
            return f"{len(self.network.graph.gates)} gates"
        return "-".join(str(len(layer.units)) for layer in self.network.layers)

    @property
    def first_step(self) -> str:
        """The id of the plan's first step (the first hidden unit's sum), known without
        building the plan: the app shows its prompt before the engine has run."""
        if self.network.graph is not None:
            return self.network.graph.gates[0].name
        tag = "[1]" if self.network.batch else ""  # a mini-batch starts with its first example
        return f"sum_{self.network.layers[1].units[0]}{tag}"
