"""The names an answer may use, as on paper: the lesson's givens and the steps answered.

``out_h1*(1-out_h1)`` is read with the learner's own accepted ``out_h1`` (so an error
carried from it is still carried), the inputs, weights, biases, targets and η with the
lesson's numbers (a drawn variant's, when there is one). A step without a value yet, or the
step being answered, is a known name that is refused with its reason; with names switched
off every name is refused, saying so. The parser (:mod:`tutor.grading.parse`) only looks
names up in these mappings: nothing else is ever read or run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from tutor.lesson.model import Network
from tutor.names import LAMBDA_NAMES, MU_NAMES, velocity_name
from tutor.plan.steps import Plan

ETA_NAMES = ("eta", "η")


def givens(network: Network) -> dict[str, float]:
    """The numbers a lesson gives, by the names its formulas use: inputs (the input units'
    names), weights, biases, ``target_<output unit>`` and the learning rate ``eta``."""
    values = dict(zip(network.input_units, network.inputs, strict=True))
    if network.graph is not None:  # a computational graph gives its inputs and nothing else
        return values
    for k, (x, t) in enumerate(network.batch, start=1):  # a mini-batch's i1[1], target_o1[2]
        values.update((f"{u}[{k}]", v) for u, v in zip(network.input_units, x, strict=True))
        values.update((f"target_{u}[{k}]", v) for u, v in zip(network.output_units, t, strict=True))
    values.update((w.name, w.value) for w in network.weights)
    values.update((name, value) for name, _, value in network.bias_params())
    values.update(
        (f"target_{u}", t) for u, t in zip(network.output_units, network.targets, strict=True)
    )
    values.update((name, network.learning_rate) for name in ETA_NAMES)
    if network.weight_decay:
        values.update((name, network.weight_decay) for name in LAMBDA_NAMES)
    if network.momentum is not None:
        values.update((name, network.momentum) for name in MU_NAMES)
        params = [w.name for w in network.weights]
        if network.update_biases:
            params += [name for name, _, _ in network.bias_params()]
        values.update((velocity_name(p), network.velocities.get(p, 0.0)) for p in params)
    return values


class Usable(Mapping[str, float]):
    """Givens and the learner's own values of steps, one mapping without copying either (a
    big lesson has 100,000 weights). ``answering`` is left out: a step is not its own name."""

    def __init__(self, given: Mapping[str, float], learner: Mapping[str, float], answering: str):
        self.given, self.learner, self.answering = given, learner, answering

    def __getitem__(self, name: str) -> float:
        if name != self.answering and name in self.learner:
            return self.learner[name]
        return self.given[name]

    def __contains__(self, name: object) -> bool:
        return name in self.given or (name != self.answering and name in self.learner)

    def __iter__(self) -> Iterator[str]:
        yield from self.given
        yield from (n for n in self.learner if n != self.answering and n not in self.given)

    def __len__(self) -> int:
        return len(self.given) + len(self.learner)  # an upper bound is enough for its use


class Refused(Mapping[str, str]):
    """Known names an answer may not use, each with the line that says why: a step that has
    no value yet, the step being answered, or (names off) every name at all."""

    def __init__(self, plan: Plan, usable: Usable | None, answering: str, off: str | None):
        self.plan, self.usable, self.answering, self.off = plan, usable, answering, off
        self.given = givens(plan.lesson.network) if usable is None else usable.given

    def __getitem__(self, name: str) -> str:
        if self.off is not None and (name in self.given or name in self.plan):
            return self.off.format(name=name)
        if self.usable is not None and name not in self.usable and name in self.plan:
            label = self.plan[name].label
            if name == self.answering:
                return f"{label} is the step you are answering: write it from earlier values."
            return f"{label} has no value yet: answer it first."
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self[name]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return (s.id for s in self.plan if s.id in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)
