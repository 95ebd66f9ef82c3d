"""The reference article's backward pass, for networks with at most one hidden layer and
elementwise outputs: every hidden-weight gradient is a sum over output paths, with the
gradient of each path (∂E_k/∂w) asked on its own."""

from __future__ import annotations

from tutor.formula import Formula, Num, Ref, product, total
from tutor.lesson.model import Weight
from tutor.plan.builder import Builder
from tutor.plan.steps import PHASE_HIDDEN, PHASE_OUTPUT


def backward(b: Builder) -> None:
    L = len(b.net.layers) - 1
    for w in b.net.weights:
        if b.pos(w.target)[0] == L:
            output_weight(b, w)
    if b.net.update_biases:
        for name, units in b.bias_units(L).items():
            b.bias_gradient(name, units, [product(*b.output_chain(b.pos(u)[1])) for u in units])
    if L == 1:
        return
    for w in b.net.weights:
        if b.pos(w.target)[0] == 1:
            hidden_weight(b, w)
    if b.net.update_biases:
        for name, units in b.bias_units(1).items():
            terms: list[Formula] = []
            for h in units:
                for v in b.weights_from.get(h, []):
                    k = b.pos(v.target)[1]
                    chain = (*b.output_chain(k), dsum_dout(b, v), b.dout_dsum(h, PHASE_HIDDEN))
                    terms.append(product(*chain))
            b.bias_gradient(name, units, terms)


def dsum_dw(b: Builder, w: Weight, phase: str) -> Ref:
    """∂sum/∂w: the value arriving along w."""
    src = b.source_term(w.source)
    return b.add(
        f"dsum_{w.target}/d{w.name}",
        src,
        src.evaluate(),
        phase,
        "dsum_dw",
        f"sum_{w.target} contains {w.name} only in the term {src.render()}·{w.name}, so "
        f"its derivative with respect to {w.name} is {src.render()}, the value arriving "
        f"from {w.source}.",
        (w.source, w.name, w.target),
        unit=w.target,
        param=w.name,
    )


def output_weight(b: Builder, w: Weight) -> None:
    dE, dout = b.output_chain(b.pos(w.target)[1])
    dsum = dsum_dw(b, w, PHASE_OUTPUT)
    b.weight_gradient(
        w,
        product(dE, dout, dsum),
        PHASE_OUTPUT,
        f"Chain rule along the one path from {b.total} down to {w.name}: multiply "
        f"∂{b.total}/∂out_{w.target}, ∂out_{w.target}/∂sum_{w.target} and "
        f"∂sum_{w.target}/∂{w.name}.",
        (w.source, w.name, w.target),
        w.target,
    )


def dsum_dout(b: Builder, v: Weight) -> Ref:
    """∂sum_o/∂out_h for the weight v: h → o, which is v itself."""
    weight = b.param(v.name, v.value)
    return b.add(
        f"dsum_{v.target}/dout_{v.source}",
        weight,
        weight.evaluate(),
        PHASE_HIDDEN,
        "dsum_dout",
        f"sum_{v.target} contains out_{v.source} only in the term out_{v.source}·{v.name}, "
        f"so the derivative is the weight {v.name} (its value before the update).",
        (v.source, v.name, v.target),
        unit=v.source,
        param=v.name,
    )


def hidden_weight(b: Builder, w: Weight) -> None:
    h = w.target
    paths = b.weights_from.get(h, [])
    outputs = b.net.output_units
    per_path: list[Ref] = []
    chains = []
    for v in paths:
        k = b.pos(v.target)[1]
        local = (dsum_dout(b, v), b.dout_dsum(h, PHASE_HIDDEN), dsum_dw(b, w, PHASE_HIDDEN))
        chain = (*b.output_chain(k), *local)
        chains.append(chain)
        if len(paths) > 1:
            e_name = b.lesson.error_names[k]
            li, r, c = b.plan.compiled.weight_index[w.name]
            per_path.append(
                b.add(
                    f"d{e_name}/d{w.name}",
                    product(*chain),
                    b.path_gradient(k)[li][r, c],
                    PHASE_HIDDEN,
                    "path",
                    f"The share of the gradient that reaches {w.name} from {e_name} alone: "
                    f"multiply the local derivatives along the path {e_name} → out_{outputs[k]} "
                    f"→ sum_{outputs[k]} → out_{h} → sum_{h} → {w.name}.",
                    (w.source, w.name, h, v.name, v.target),
                    unit=h,
                    param=w.name,
                    error=e_name,
                )
            )
    formula: Formula
    if len(paths) > 1:
        formula = total(*per_path)
        words = (
            f"{w.name} reaches {b.total} through every output that {h} feeds, so "
            f"add the contributions of all {len(paths)} paths."
        )
    elif paths:
        formula = product(*chains[0])
        words = (
            f"Chain rule along the single path from {b.total} down to {w.name}: "
            f"multiply the local derivatives."
        )
    else:
        formula = Num(0.0)
        words = f"{h} feeds no output, so {w.name} does not change {b.total}."
    b.weight_gradient(
        w,
        formula,
        PHASE_HIDDEN,
        words,
        (w.source, w.name, h, *(v.name for v in paths), *(v.target for v in paths)),
        h,
    )
