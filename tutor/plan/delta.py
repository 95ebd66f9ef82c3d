"""The general backward pass: δ_u = ∂E_total/∂sum_u per unit, layer by layer from the output,
with ∂E_total/∂out_h = Σ_k δ_k · w_kh, so that deep networks never list exponentially many
paths."""

from __future__ import annotations

from collections.abc import Iterator

from tutor.formula import Diff, Num, Ref, product, total
from tutor.plan.builder import Builder
from tutor.plan.steps import PHASE_HIDDEN


def shortcut(b: Builder) -> bool:
    """The output δ is out − target (the loss and the output activation cancel)."""
    return b.net.layers[-1].activation_record.name in b.loss.shortcut


def backward(b: Builder) -> Iterator[None]:
    """Layer by layer from the output; each yield leaves a few more steps in the plan."""
    L = len(b.net.layers) - 1
    for li in range(L, 0, -1):
        layer = b.net.layers[li]
        phase = b.phase_of(li)
        for j, u in enumerate(layer.units):
            if li == L and shortcut(b):
                b.add(
                    f"delta_{u}",
                    Diff(b.ref(f"out_{u}"), b.target(j)),
                    b.trace.delta[li - 1][j],
                    phase,
                    "delta",
                    f"δ_{u} = ∂{b.total}/∂sum_{u}. With {layer.activation} and {b.loss.words} "
                    f"{b.loss.shortcut_words}, leaving out_{u} − target_{u}.",
                    (u,),
                    unit=u,
                )
                continue
            dE = b.dE_dout_output(j) if li == L else dE_dout_hidden(b, u)
            dout = b.dout_dsum(u, phase)
            b.add(
                f"delta_{u}",
                product(dE, dout),
                b.trace.delta[li - 1][j],
                phase,
                "delta",
                f"δ_{u} = ∂{b.total}/∂sum_{u}, the error signal at {u}: multiply "
                f"∂{b.total}/∂out_{u} by the activation's slope ∂out_{u}/∂sum_{u}.",
                (u,),
                unit=u,
            )
            yield
        for w in b.weights_in_layer.get(li, []):
            b.weight_gradient(
                w,
                product(b.ref(f"delta_{w.target}"), b.source_term(w.source)),
                phase,
                f"∂{b.total}/∂{w.name} = δ_{w.target} · (the value arriving from "
                f"{w.source}), because sum_{w.target} changes by that value per unit of "
                f"{w.name}.",
                (w.source, w.name, w.target),
                w.target,
            )
            yield
        if b.net.update_biases:
            for name, units in b.bias_units(li).items():
                b.bias_gradient(name, units, [b.ref(f"delta_{u}") for u in units])
            yield


def dE_dout_hidden(b: Builder, u: str) -> Ref:
    li, j = b.pos(u)
    outgoing = b.weights_from.get(u, [])
    terms = [product(b.ref(f"delta_{v.target}"), b.param(v.name, v.value)) for v in outgoing]
    return b.add(
        f"d{b.total}/dout_{u}",
        total(*terms) if terms else Num(0.0),
        b.trace.dE_da[li - 1][j],
        PHASE_HIDDEN,
        "dE_dout",
        f"out_{u} reaches {b.total} through every unit it feeds: add δ_k · w over those "
        f"units, using the weights before the update.",
        (u, *(v.name for v in outgoing), *(v.target for v in outgoing)),
        unit=u,
    )


def count(b: Builder) -> int:
    """How many steps this form makes, without making them."""
    net = b.net
    L = len(net.layers) - 1
    n = sum(2 * len(layer.units) for layer in net.layers[1:]) + len(net.output_units) + 1
    n += 1 if net.weight_decay else 0  # the decay term
    per_update = 3 if net.momentum is not None else 2  # gradient, (velocity,) new value
    for li in range(L, 0, -1):
        layer = net.layers[li]
        n += len(layer.units) * (1 if li == L and shortcut(b) else 3)
        n += per_update * len(b.weights_in_layer.get(li, []))
        if net.update_biases:
            n += per_update * len(b.bias_units(li))
    return n
