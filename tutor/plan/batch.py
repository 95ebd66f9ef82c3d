"""A mini-batch's own steps, after each example's forward and backward pass: the batch loss
(the mean or the sum of the examples' losses, with any decay term once), then per weight
(and bias) the batch gradient, the same mean or sum of the examples' gradients, and the
update with it. The 1/n of a mean sits in these two kinds of step and nowhere else."""

from __future__ import annotations

from tutor.formula import Formula, Given, Num, Quot, Ref, Square, Sum, product, total
from tutor.names import BATCH_LOSS, DECAY_TERM
from tutor.plan.builder import Builder

PHASE_BATCH = "batch"


def _combined(b: Builder, refs: list[Ref]) -> Formula:
    """(r1 + … + rn) / n for a mean, r1 + … + rn for a sum."""
    added: Formula = Sum(tuple(refs)) if len(refs) > 1 else refs[0]
    if b.net.batch_reduction == "mean":
        return Quot(added, Num(float(len(refs))))
    return added


def _how(b: Builder) -> str:
    n = len(b.net.batch)
    if b.net.batch_reduction == "mean":
        return f"add the {n} examples' values and divide by {n} (the batch loss is their mean)"
    return f"add the {n} examples' values (the batch loss is their sum, so no 1/{n})"


def batch_steps(b: Builder) -> None:
    """E_batch, then each parameter's batch gradient and update (file order, biases last)."""
    b.begin_batch()
    n = len(b.net.batch)
    tags = [f"[{k}]" for k in range(1, n + 1)]
    totals = [b.ref_id(f"{b.lesson.total_name}{tag}") for tag in tags]
    loss = _combined(b, totals)
    decay_words = ""
    if b.decay is not None:
        squares = total(*(Square(Given(w.name, w.value)) for w in b.net.weights))
        decay = b.add(
            DECAY_TERM,
            product(Num(0.5, "½"), b.decay, squares),
            b.trace.penalty,
            PHASE_BATCH,
            "penalty",
            f"{DECAY_TERM} is the L2 weight-decay term, counted once for the batch: half of "
            f"λ = {b.net.weight_decay:g} times the sum of every weight squared.",
            tuple(w.name for w in b.net.weights),
        )
        loss = Sum((loss, decay))
        decay_words = f", then add {DECAY_TERM}"
    b.add(
        BATCH_LOSS,
        loss,
        b.trace.total,
        PHASE_BATCH,
        "batch_loss",
        f"{BATCH_LOSS} is the loss of the whole batch: {_how(b)}{decay_words}.",
        tuple(b.net.output_units),
    )
    b.total, b.grad_kind = BATCH_LOSS, "batch_grad"
    try:
        for w in b.net.weights:
            refs = [b.ref_id(f"d{b.lesson.total_name}/d{w.name}{tag}") for tag in tags]
            b.weight_gradient(
                w,
                _combined(b, refs),
                PHASE_BATCH,
                f"The batch gradient of {w.name}: {_how(b)}.",
                (w.source, w.name, w.target),
                w.target,
            )
        if b.net.update_biases:
            for name, _, _ in b.net.bias_params():
                refs = [b.ref_id(f"d{b.lesson.total_name}/d{name}{tag}") for tag in tags]
                _bias(b, name, refs)
    finally:
        b.total, b.grad_kind = b.lesson.total_name, "grad"


def _bias(b: Builder, name: str, refs: list[Ref]) -> None:
    units = b.bias_units(next(li for bias, li, _ in b.net.bias_params() if bias == name))[name]
    li, j = b.pos(units[0])
    values = b.net.layers[li].bias_values
    assert values is not None, f"{name} is a bias of layer {li}"
    b.gradient_step(
        name,
        _combined(b, refs),
        b.trace.grad_bias_groups[b.plan.compiled.bias_group[name]],
        PHASE_BATCH,
        f"The batch gradient of the bias {name}: {_how(b)}.",
        (name, *units),
        None,
        values[j],
        b.trace.new.b[li - 1][j],
        None if b.trace.velocity is None else float(b.trace.velocity.b[li - 1][j]),
    )
