"""The mathematics: forward pass, loss, backward pass and update, in float64 NumPy.

The engine knows nothing about steps, names or text. It works on per-layer arrays so that a
784-128-10 network costs a few matrix products. Missing connections are masked weights.
A new activation or loss is one entry in the tables below (plus its rendering in ``formula``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tutor.values import Value

Array = np.ndarray


# ---------------------------------------------------------------------------------------------
# Activations: value and elementwise derivative, written stably.


def sigmoid(z: Array) -> Array:
    """1/(1+e^-z) without overflow for large |z|."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def log_sigmoid(z: Array) -> Array:
    """log σ(z), stable: −log(1+e^−z)."""
    z = np.asarray(z, dtype=float)
    return -np.logaddexp(0.0, -z)


def softmax(z: Array) -> Array:
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z))
    return e / e.sum()


def log_softmax(z: Array) -> Array:
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z)
    return shifted - np.log(np.exp(shifted).sum())


class Activation(Value):
    forward: Callable[[Array], Array]
    derivative: Callable[[Array, Array], Array] | None  # (z, a) -> da/dz, elementwise


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(sigmoid, lambda z, a: a * (1.0 - a)),
    "tanh": Activation(np.tanh, lambda z, a: 1.0 - a * a),
    "relu": Activation(lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(float)),
    "linear": Activation(lambda z: np.asarray(z, dtype=float).copy(), lambda z, a: np.ones_like(z)),
    "softmax": Activation(softmax, None),  # not elementwise: see _delta_from_grad
}


# ---------------------------------------------------------------------------------------------
# Losses: per-output error terms (they add up to the total) and dE/da.


def _per_output_loss(loss: str, z: Array, a: Array, t: Array, activation: str) -> Array:
    n = a.size
    if loss == "half_sse":
        return 0.5 * (t - a) ** 2
    if loss == "mse":
        return (t - a) ** 2 / n
    if loss == "cross_entropy":
        log_a = log_softmax(z) if activation == "softmax" else _log_out(z, a, activation)
        return -t * log_a
    if loss == "binary_cross_entropy":
        log_a = _log_out(z, a, activation)
        log_1ma = log_sigmoid(-z) if activation == "sigmoid" else np.log1p(-a)
        return -(t * log_a + (1.0 - t) * log_1ma)
    raise ValueError(f"unknown loss {loss!r}")


def _log_out(z: Array, a: Array, activation: str) -> Array:
    if activation == "sigmoid":
        return log_sigmoid(z)
    with np.errstate(divide="ignore"):
        return np.log(a)


def loss_gradient(loss: str, a: Array, t: Array) -> Array:
    """dE_total/da for the output layer."""
    n = a.size
    with np.errstate(divide="ignore", invalid="ignore"):
        if loss == "half_sse":
            return a - t
        if loss == "mse":
            return 2.0 * (a - t) / n
        if loss == "cross_entropy":
            return -t / a
        if loss == "binary_cross_entropy":
            return (a - t) / (a * (1.0 - a))
    raise ValueError(f"unknown loss {loss!r}")


# ---------------------------------------------------------------------------------------------
# The network as arrays


class Spec(Value):
    """The shape of a network: activations per layer (after the input), loss and masks."""

    activations: tuple[str, ...]
    loss: str
    masks: tuple[Array, ...]  # bool (n_l, n_{l-1}) for each layer after the input
    bias_groups: tuple[Array, ...]  # int group id per unit (−1 = no bias); ids are global
    n_bias_groups: int


class Params(Value):
    """Weights and biases as arrays; W[l] has shape (units of layer l+1, units of layer l)."""

    W: tuple[Array, ...]
    b: tuple[Array, ...]


class Trace(Value):
    """Everything one training step computes, for the plan and the grader to read."""

    z: tuple[Array, ...]  # per layer after the input
    a: tuple[Array, ...]  # per layer, a[0] is the input
    errors: Array  # per-output error terms
    total: float
    dE_da: tuple[Array, ...]  # per layer after the input
    da_dz: tuple[Array | None, ...]  # elementwise derivative, None for softmax
    delta: tuple[Array, ...]  # dE/dz per layer after the input
    grad_W: tuple[Array, ...]
    grad_b: tuple[Array, ...]  # per unit (dE/db of a private bias)
    grad_bias_groups: Array  # per shared bias group
    new: Params
    history: tuple[float, ...] = ()  # E_total before each further iteration (history[0] = total)


def forward(spec: Spec, params: Params, x: Array) -> tuple[list[Array], list[Array]]:
    """z and a per layer."""
    a = [np.asarray(x, dtype=float)]
    zs = []
    for W, b, mask, act in zip(params.W, params.b, spec.masks, spec.activations, strict=True):
        z = (W * mask) @ a[-1] + b
        zs.append(z)
        a.append(ACTIVATIONS[act].forward(z))
    return zs, a


def _delta_from_grad(act: str, z: Array, a: Array, g: Array) -> tuple[Array, Array | None]:
    """δ = dE/dz given dE/da, and the elementwise da/dz when there is one."""
    if act == "softmax":
        return a * (g - np.dot(g, a)), None
    d = ACTIVATIONS[act].derivative(z, a)  # type: ignore[misc]
    return g * d, d


def backward(
    spec: Spec,
    params: Params,
    zs: Sequence[Array],
    acts: Sequence[Array],
    g_out: Array,
    t: Array | None = None,
) -> tuple[list[Array], list[Array | None], list[Array]]:
    """dE/da, da/dz and δ per layer, starting from dE/da at the output.

    With softmax and cross-entropy the output δ is taken as a − t (the exact shortcut) so that
    saturated outputs do not divide by zero.
    """
    L = len(spec.activations)
    dE_da: list[Array] = [np.empty(0)] * L
    da_dz: list[Array | None] = [None] * L
    delta: list[Array] = [np.empty(0)] * L
    g = g_out
    for li in range(L - 1, -1, -1):
        act = spec.activations[li]
        dE_da[li] = g
        if li == L - 1 and act == "softmax" and spec.loss == "cross_entropy" and t is not None:
            delta[li] = acts[li + 1] * t.sum() - t
        else:
            delta[li], da_dz[li] = _delta_from_grad(act, zs[li], acts[li + 1], g)
        g = (params.W[li] * spec.masks[li]).T @ delta[li]
    return dE_da, da_dz, delta


def step(
    spec: Spec,
    params: Params,
    x: Array,
    t: Array,
    lr: float,
    update_biases: bool,
    iterations: int = 0,
) -> Trace:
    """One forward pass, one backward pass and one update; optionally more iterations."""
    t = np.asarray(t, dtype=float)
    zs, acts = forward(spec, params, x)
    errors = _per_output_loss(spec.loss, zs[-1], acts[-1], t, spec.activations[-1])
    g_out = loss_gradient(spec.loss, acts[-1], t)
    dE_da, da_dz, delta = backward(spec, params, zs, acts, g_out, t)
    grad_W = tuple(
        np.outer(d, a_prev) * m for d, a_prev, m in zip(delta, acts[:-1], spec.masks, strict=True)
    )
    group_grad = np.zeros(spec.n_bias_groups)
    for d, groups in zip(delta, spec.bias_groups, strict=True):
        has = groups >= 0
        np.add.at(group_grad, groups[has], d[has])
    new_W = tuple(W - lr * gW for W, gW in zip(params.W, grad_W, strict=True))
    if update_biases and spec.n_bias_groups:
        new_b = tuple(
            np.where(groups >= 0, b - lr * group_grad[np.maximum(groups, 0)], b)
            for b, groups in zip(params.b, spec.bias_groups, strict=True)
        )
    else:
        new_b = params.b
    new = Params(new_W, new_b)
    total = float(errors.sum())
    history: tuple[float, ...] = ()
    if iterations > 0:
        history = tuple(loss_history(spec, params, x, t, lr, update_biases, iterations))
    return Trace(
        z=tuple(zs),
        a=tuple(acts),
        errors=errors,
        total=total,
        dE_da=tuple(dE_da),
        da_dz=tuple(da_dz),
        delta=tuple(delta),
        grad_W=grad_W,
        grad_b=tuple(delta),
        grad_bias_groups=group_grad,
        new=new,
        history=history,
    )


def total_error(spec: Spec, params: Params, x: Array, t: Array) -> float:
    zs, acts = forward(spec, params, x)
    return float(
        _per_output_loss(
            spec.loss, zs[-1], acts[-1], np.asarray(t, float), spec.activations[-1]
        ).sum()
    )


def loss_history(
    spec: Spec,
    params: Params,
    x: Array,
    t: Array,
    lr: float,
    update_biases: bool,
    iterations: int,
) -> list[float]:
    """E_total before each of ``iterations`` updates, and after the last one."""
    history = []
    for _ in range(iterations):
        trace = step(spec, params, x, t, lr, update_biases)
        history.append(trace.total)
        params = trace.new
    history.append(total_error(spec, params, x, t))
    return history


def path_gradient(spec: Spec, params: Params, trace: Trace, k: int) -> tuple[Array, ...]:
    """Gradients of the k-th output's error alone: the article's ∂E_k/∂w for hidden weights."""
    g = np.zeros_like(trace.dE_da[-1])
    g[k] = trace.dE_da[-1][k]
    _, _, delta = backward(spec, params, trace.z, trace.a, g)
    return tuple(
        np.outer(d, a_prev) * m
        for d, a_prev, m in zip(delta, trace.a[:-1], spec.masks, strict=True)
    )


def dataset_history(
    spec: Spec,
    params: Params,
    X: Array,
    T: Array,
    lr: float,
    update_biases: bool,
    epochs: int,
    points: int = 40,
) -> list[float]:
    """Loss summed over a training set, sampled at ``points`` epochs of per-example updates
    (stochastic gradient descent, examples in order)."""
    X = np.asarray(X, dtype=float)
    T = np.asarray(T, dtype=float)
    marks = set(np.linspace(0, epochs, num=min(points, epochs + 1), dtype=int).tolist())

    def total() -> float:
        return sum(total_error(spec, params, x, t) for x, t in zip(X, T, strict=True))

    history = [total()]
    for epoch in range(1, epochs + 1):
        for x, t in zip(X, T, strict=True):
            params = step(spec, params, x, t, lr, update_biases).new
        if epoch in marks:
            history.append(total())
    return history
