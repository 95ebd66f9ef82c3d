"""Build lesson TOML text for random networks (used by property tests)."""

from __future__ import annotations

import json

from hypothesis import strategies as st

ELEMENTWISE = (
    "sigmoid",
    "tanh",
    "relu",
    "linear",
    "leaky_relu",
    "softplus",
    "gelu",
    "gelu_tanh",
)


def lesson_toml(
    sizes: list[int],
    hidden_act: str,
    out_act: str,
    loss: str,
    weights: list[list[list[float]]],
    biases: list[list[float]],
    inputs: list[float],
    targets: list[float],
    lr: float = 0.5,
    update_biases: bool = True,
    form: str = "auto",
    network_extra: str = "",
    tail: str = "",
) -> str:
    """``network_extra``: more lines for [network]; ``tail``: more tables at the end (a
    [batch] there replaces the top-level inputs and targets)."""
    top = (
        []
        if "[batch]" in tail
        else [
            f"inputs = {json.dumps(inputs)}",
            f"targets = {json.dumps(targets)}",
        ]
    )
    lines = [
        'title = "random"',
        *top,
        "[network]",
        f'loss = "{loss}"',
        f"learning_rate = {lr!r}",
        f"update_biases = {json.dumps(update_biases)}",
        *([network_extra] if network_extra else []),
        "[quiz]",
        f'form = "{form}"',
    ]
    for li, n in enumerate(sizes):
        lines.append("[[layers]]")
        lines.append(f"units = {n}")
        if li == 0:
            continue
        prefix = "o" if li == len(sizes) - 1 else f"h{li}_"
        lines.append(f'prefix = "{prefix}"')
        lines.append(f'activation = "{out_act if li == len(sizes) - 1 else hidden_act}"')
        names = [f"b{li}_{j}" for j in range(n)]
        lines.append(
            f"bias = {{ names = {json.dumps(names)}, values = {json.dumps(biases[li - 1])} }}"
        )
        lines.append(f"weights = {json.dumps(weights[li - 1])}")
    if tail:
        lines.append(tail)
    return "\n".join(lines) + "\n"


small = st.floats(-1.5, 1.5, allow_nan=False, allow_infinity=False)


@st.composite
def networks(
    draw, losses=("half_sse", "mse", "cross_entropy", "binary_cross_entropy"), max_hidden: int = 2
) -> str:
    n_hidden = draw(st.integers(0, max_hidden))
    sizes = [draw(st.integers(1, 3)) for _ in range(n_hidden + 1)] + [draw(st.integers(1, 3))]
    loss = draw(st.sampled_from(losses))
    hidden_act = draw(st.sampled_from(ELEMENTWISE))
    if loss == "cross_entropy":
        out_act = draw(st.sampled_from(("softmax", "sigmoid")))
    elif loss == "binary_cross_entropy":
        out_act = "sigmoid"
    else:
        out_act = draw(st.sampled_from(ELEMENTWISE))
    weights = [
        [[draw(small) for _ in range(sizes[li])] for _ in range(sizes[li + 1])]
        for li in range(len(sizes) - 1)
    ]
    biases = [[draw(small) for _ in range(n)] for n in sizes[1:]]
    inputs = [draw(small) for _ in range(sizes[0])]
    if out_act == "softmax":
        raw = [draw(st.floats(0.01, 1.0)) for _ in range(sizes[-1])]
        targets = [r / sum(raw) for r in raw]
        targets[-1] = 1.0 - sum(targets[:-1])
        targets = [min(max(t, 0.0), 1.0) for t in targets]
    elif loss in ("cross_entropy", "binary_cross_entropy"):
        targets = [draw(st.floats(0.0, 1.0)) for _ in range(sizes[-1])]
    else:
        targets = [draw(small) for _ in range(sizes[-1])]
    update = draw(st.booleans())
    # issue 20's options: weight decay, momentum with a velocity, two iterations, a batch
    extra = draw(st.sampled_from(("none", "none", "decay", "momentum", "iterations", "batch")))
    network_extra, tail = "", ""
    if extra == "decay":
        network_extra = f"weight_decay = {draw(st.sampled_from((0.01, 0.1, 0.5)))}"
    elif extra == "momentum":
        first = "o1" if n_hidden == 0 else "h1_1"
        network_extra = "momentum = 0.9"
        tail = f"[velocity]\nw_{first}_i1 = {draw(small)!r}"
    elif extra == "iterations":
        network_extra = "iterations = 2"
    elif extra == "batch":
        second = [draw(small) for _ in range(sizes[0])]
        reduction = draw(st.sampled_from(("mean", "sum")))
        examples = [
            {"inputs": inputs, "targets": targets},
            {"inputs": second, "targets": list(reversed(targets))},
        ]
        rows = ",\n".join(
            f"  {{ inputs = {json.dumps(e['inputs'])}, targets = {json.dumps(e['targets'])} }}"
            for e in examples
        )
        tail = f'[batch]\nreduction = "{reduction}"\nexamples = [\n{rows},\n]'
    return lesson_toml(
        sizes,
        hidden_act,
        out_act,
        loss,
        weights,
        biases,
        inputs,
        targets,
        update_biases=update,
        network_extra=network_extra,
        tail=tail,
    )
