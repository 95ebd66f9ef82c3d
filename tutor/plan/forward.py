"""The forward pass and the error: sum and out of every unit, each output's error, E_total."""

from __future__ import annotations

from collections.abc import Iterator

from tutor.formula import Formula, Num, Ref, Square, product, total
from tutor.names import DECAY_TERM
from tutor.plan.builder import Builder
from tutor.plan.steps import PHASE_ERROR, PHASE_FORWARD


def forward(b: Builder) -> Iterator[None]:
    """Layer by layer; each yield leaves a few more steps in the plan."""
    for layer in b.net.layers[1:]:
        if layer.activation_record.layer_wide:
            for u in layer.units:  # every out needs every sum of the layer
                add_sum(b, u)
            for u in layer.units:
                add_out(b, u)
            yield
        else:
            for u in layer.units:
                add_sum(b, u)
                add_out(b, u)
                yield


def add_sum(b: Builder, u: str) -> None:
    li, j = b.pos(u)
    incoming = b.weights_into.get(u, [])
    terms: list[Formula] = [
        product(b.source_term(w.source), b.param(w.name, w.value)) for w in incoming
    ]
    bias = b.net.bias_of(u)
    if bias:
        terms.append(b.param(*bias))
    involves = (
        tuple(w.source for w in incoming)
        + (u,)
        + tuple(w.name for w in incoming)
        + ((bias[0],) if bias else ())
    )
    bias_words = f", then add the bias {bias[0]}" if bias else ""
    if b.iteration:
        bias_words += (
            f". This is pass {b.iteration + 1}: the weights are the new values from the update "
            f"before (new_…), not the lesson's first ones"
        )
    b.add(
        f"sum_{u}",
        total(*terms) if terms else Num(0.0),
        b.trace.z[li - 1][j],
        PHASE_FORWARD,
        "sum",
        f"sum_{u} is the net input of unit {u}: multiply each value arriving at {u} by the "
        f"weight on its edge and add the products{bias_words}.",
        involves,
        unit=u,
    )


def add_out(b: Builder, u: str) -> None:
    li, j = b.pos(u)
    layer = b.net.layers[li]
    act = layer.activation_record
    if act.layer_wide:  # each out reads every sum of its layer
        formula = act.out_formula(j, tuple(b.ref(f"sum_{v}") for v in layer.units))
    else:
        formula = act.out_formula(0, (b.ref(f"sum_{u}"),))
    b.add(
        f"out_{u}",
        formula,
        b.trace.a[li][j],
        PHASE_FORWARD,
        "out",
        f"out_{u} is what unit {u} sends on: take sum_{u} and {act.out_words}.",
        (u,),
        unit=u,
    )


def errors(b: Builder) -> None:
    n = len(b.net.output_units)
    refs: list[Ref] = []
    for k, o in enumerate(b.net.output_units):
        name = b.lesson.error_names[k]
        refs.append(
            b.add(
                name,
                b.loss.error_formula(b.ref(f"out_{o}"), b.target(k), n),
                b.trace.errors[k],
                PHASE_ERROR,
                "error",
                f"{name} is output {o}'s share of the error: compare out_{o} with its target "
                f"{b.targets[k]:g} under the {b.loss.words} loss.",
                (o,),
                unit=o,
                error=name,
            )
        )
    decay_words = ""
    if b.decay is not None and b.updates:
        squares = total(*(Square(b.param(w.name, w.value)) for w in b.net.weights))
        refs.append(
            b.add(
                DECAY_TERM,
                product(Num(0.5, "½"), b.decay, squares),
                b.trace.penalty,
                PHASE_ERROR,
                "penalty",
                f"{DECAY_TERM} is the L2 weight-decay term: half of λ = "
                f"{b.net.weight_decay:g} times the sum of every weight squared (biases are "
                f"not decayed). It penalises large weights.",
                tuple(w.name for w in b.net.weights),
            )
        )
        decay_words = f", and the weight-decay term {DECAY_TERM}"
    b.add(
        b.total,
        total(*refs),
        b.trace.total,
        PHASE_ERROR,
        "total",
        f"{b.total} is the whole network's error: add the errors of all outputs{decay_words}.",
        tuple(b.net.output_units),
    )
