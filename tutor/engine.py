"""The mathematics: forward pass, loss, backward pass and update, in float64 NumPy.

The engine works on per-layer arrays so that a 784-128-10 network costs a few matrix
products; missing connections are masked weights. The functions and derivatives come from
the records in ``tutor.activations``. Only :func:`compile_network` knows the lesson's names:
it lays a named network out as arrays and remembers where each weight and bias went, so that
the plan can read any value back by name. Nothing here knows about steps or text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from tutor.activations import LOSSES, Activation
from tutor.lesson.model import Network, Training

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class Spec:
    """The shape of a network: activations per layer (after the input), loss and masks."""

    activations: tuple[str, ...]
    records: tuple[Activation, ...]  # the same, with each layer's parameter (leaky slope)
    loss: str
    masks: tuple[Array, ...]  # bool (n_l, n_{l-1}) for each layer after the input
    bias_groups: tuple[Array, ...]  # int group id per unit (−1 = no bias); ids are global
    n_bias_groups: int


@dataclass(frozen=True, slots=True)
class Params:
    """Weights and biases as arrays; W[l] has shape (units of layer l+1, units of layer l)."""

    W: tuple[Array, ...]
    b: tuple[Array, ...]


@dataclass(frozen=True, slots=True)
class Trace:
    """Everything one training step computes, for the plan and the grader to read."""

    z: tuple[Array, ...]  # per layer after the input
    a: tuple[Array, ...]  # per layer, a[0] is the input
    errors: Array  # per-output error terms
    total: float
    dE_da: tuple[Array, ...]  # per layer after the input
    da_dz: tuple[Array | None, ...]  # elementwise derivative, None for softmax
    delta: tuple[Array, ...]  # dE/dz per layer after the input
    grad_W: tuple[Array, ...]
    grad_bias_groups: Array  # per bias (a shared bias is one group)
    new: Params
    penalty: float = 0.0  # the L2 weight-decay term (λ/2)·Σw², part of total
    velocity: Params | None = None  # the new velocities, with momentum


@dataclass(frozen=True, slots=True)
class Rule:
    """How gradients become updates: the learning rate, L2 weight decay λ (the loss gains
    (λ/2)·Σw², each weight's gradient λ·w; biases are not decayed) and momentum μ with the
    velocities before this step (v ← μ·v + ∂E/∂θ, θ ← θ − η·v; None: plain descent)."""

    lr: float
    update_biases: bool
    decay: float = 0.0
    momentum: float | None = None
    velocity: Params | None = None


# ---------------------------------------------------------------------------------------------
# One training step


def forward(spec: Spec, params: Params, x: Array) -> tuple[list[Array], list[Array]]:
    """z and a per layer."""
    a = [np.asarray(x, dtype=float)]
    zs = []
    for W, b, mask, act in zip(params.W, params.b, spec.masks, spec.records, strict=True):
        z = (W * mask) @ a[-1] + b
        zs.append(z)
        a.append(act.forward(z))
    return zs, a


def _per_output_loss(spec: Spec, zs: Sequence[Array], acts: Sequence[Array], t: Array) -> Array:
    return LOSSES[spec.loss].per_output(zs[-1], acts[-1], t, spec.records[-1])


def backward(
    spec: Spec,
    params: Params,
    zs: Sequence[Array],
    acts: Sequence[Array],
    g_out: Array,
    t: Array | None = None,
) -> tuple[list[Array], list[Array | None], list[Array]]:
    """dE/da, da/dz and δ per layer, starting from dE/da at the output.

    Where the loss and the output activation cancel (softmax with cross-entropy), the output δ
    is taken as a − t exactly (:func:`_out_minus_target`), so that saturated outputs do not
    divide by zero.
    """
    L = len(spec.activations)
    dE_da: list[Array] = [np.empty(0)] * L
    da_dz: list[Array | None] = [None] * L
    delta: list[Array] = [np.empty(0)] * L
    g = g_out
    for li in range(L - 1, -1, -1):
        act = spec.records[li]
        dE_da[li] = g
        a = acts[li + 1]
        if li == L - 1 and t is not None and act.name in LOSSES[spec.loss].shortcut:
            delta[li] = _out_minus_target(a, t)
        elif act.slope is None:  # softmax: the Jacobian-vector product
            delta[li] = a * (g - np.dot(g, a))
        else:
            da_dz[li] = act.slope(zs[li], a)
            delta[li] = g * da_dz[li]
        g = (params.W[li] * spec.masks[li]).T @ delta[li]
    return dE_da, da_dz, delta


def _out_minus_target(a: Array, t: Array) -> Array:
    """δ_k = a_k · Σt − t_k (a − t when the targets add up to 1, as softmax's must).

    Written as a_k · Σ_{j≠k} t_j − t_k · Σ_{j≠k} a_j: a saturated output rounds to a_k = 1,
    and a_k − 1 would then be 0 where the true δ is minus the sum of the other outputs
    (−e^−37 for sums 37 and 0). Every quantity here is ≥ 0, and :func:`_others` sums them
    without cancelling, so only the final difference can cancel, where the exact one does.
    """
    return a * _others(t) - t * _others(a)


def _others(v: Array) -> Array:
    """Σ_{j≠k} v_j for each k, for v ≥ 0. total − v_k loses digits only where v_k is more
    than half the total, which at most one entry, the largest, can be: that one is summed
    directly."""
    rest = v.sum() - v
    top = int(np.argmax(v))
    without_top = v.copy()
    without_top[top] = 0.0
    rest[top] = without_top.sum()
    return rest


def step(
    spec: Spec,
    params: Params,
    x: Array,
    t: Array,
    lr: float | Rule,
    update_biases: bool = False,
) -> Trace:
    """One forward pass, one backward pass and one update (``lr``: the learning rate, or the
    whole update rule)."""
    rule = lr if isinstance(lr, Rule) else Rule(lr, update_biases)
    t = np.asarray(t, dtype=float)
    zs, acts = forward(spec, params, x)
    errors = _per_output_loss(spec, zs, acts, t)
    g_out = LOSSES[spec.loss].gradient(zs[-1], acts[-1], t, spec.records[-1])
    dE_da, da_dz, delta = backward(spec, params, zs, acts, g_out, t)
    grad_W = _weight_gradients(spec, delta, acts)
    group_grad = np.zeros(spec.n_bias_groups)
    for d, groups in zip(delta, spec.bias_groups, strict=True):
        has = groups >= 0
        np.add.at(group_grad, groups[has], d[has])
    penalty = _penalty(spec, params, rule.decay)
    if rule.decay:
        grad_W = tuple(
            gW + rule.decay * W * m for gW, W, m in zip(grad_W, params.W, spec.masks, strict=True)
        )
    new, velocity = apply_update(spec, params, grad_W, group_grad, rule)
    return Trace(
        z=tuple(zs),
        a=tuple(acts),
        errors=errors,
        total=float(errors.sum()) + penalty,
        dE_da=tuple(dE_da),
        da_dz=tuple(da_dz),
        delta=tuple(delta),
        grad_W=grad_W,
        grad_bias_groups=group_grad,
        new=new,
        penalty=penalty,
        velocity=velocity,
    )


def batch_step(
    spec: Spec, params: Params, X: Array, T: Array, rule: Rule, mean: bool
) -> tuple[tuple[Trace, ...], Trace]:
    """One update on a mini-batch: each example's forward and backward pass (its own loss,
    no decay, no update), and the batch's trace: the loss and the gradients as the mean (or
    the sum) of the examples', the decay term added once, and the update with them. The
    batch trace's activations are the first example's."""
    plain = Rule(rule.lr, rule.update_biases)
    examples = tuple(step(spec, params, x, t, plain) for x, t in zip(X, T, strict=True))
    scale = 1.0 / len(examples) if mean else 1.0
    grad_W = tuple(
        scale * sum((e.grad_W[li] for e in examples), np.zeros_like(W))
        for li, W in enumerate(params.W)
    )
    group = scale * sum((e.grad_bias_groups for e in examples), np.zeros(spec.n_bias_groups))
    penalty = _penalty(spec, params, rule.decay)
    if rule.decay:
        grad_W = tuple(
            g + rule.decay * W * m for g, W, m in zip(grad_W, params.W, spec.masks, strict=True)
        )
    new, velocity = apply_update(spec, params, grad_W, group, rule)
    totals = np.array([e.total for e in examples])
    batch = replace(
        examples[0],
        errors=totals,
        total=float(scale * totals.sum()) + penalty,
        grad_W=grad_W,
        grad_bias_groups=group,
        new=new,
        penalty=penalty,
        velocity=velocity,
    )
    return examples, batch


def _penalty(spec: Spec, params: Params, decay: float) -> float:
    """(λ/2)·Σw² over the weights (not the biases)."""
    if not decay:
        return 0.0
    return (
        0.5
        * decay
        * float(sum(np.sum((W * m) ** 2) for W, m in zip(params.W, spec.masks, strict=True)))
    )


def apply_update(
    spec: Spec, params: Params, grad_W: Sequence[Array], group_grad: Array, rule: Rule
) -> tuple[Params, Params | None]:
    """The new weights and biases (and velocities, with momentum) from the gradients."""
    grad_b = tuple(
        np.where(groups >= 0, group_grad[np.maximum(groups, 0)], 0.0)
        if spec.n_bias_groups
        else np.zeros_like(b)
        for b, groups in zip(params.b, spec.bias_groups, strict=True)
    )
    velocity: Params | None = None
    step_W, step_b = tuple(grad_W), grad_b
    if rule.momentum is not None:
        old = rule.velocity or Params(
            tuple(np.zeros_like(W) for W in params.W), tuple(np.zeros_like(b) for b in params.b)
        )
        step_W = tuple(rule.momentum * v + g for v, g in zip(old.W, grad_W, strict=True))
        step_b = tuple(rule.momentum * v + g for v, g in zip(old.b, grad_b, strict=True))
        velocity = Params(step_W, step_b if rule.update_biases else old.b)
    new_W = tuple(W - rule.lr * s for W, s in zip(params.W, step_W, strict=True))
    if rule.update_biases and spec.n_bias_groups:
        new_b = tuple(
            np.where(groups >= 0, b - rule.lr * s, b)
            for b, s, groups in zip(params.b, step_b, spec.bias_groups, strict=True)
        )
    else:
        new_b = params.b
    return Params(new_W, new_b), velocity


def _weight_gradients(
    spec: Spec, delta: Sequence[Array], acts: Sequence[Array]
) -> tuple[Array, ...]:
    return tuple(
        np.outer(d, a_prev) * m for d, a_prev, m in zip(delta, acts[:-1], spec.masks, strict=True)
    )


def total_error(spec: Spec, params: Params, x: Array, t: Array, decay: float = 0.0) -> float:
    """E_total, with the weight-decay term when ``decay`` is given."""
    zs, acts = forward(spec, params, x)
    data = float(_per_output_loss(spec, zs, acts, np.asarray(t, float)).sum())
    return data + _penalty(spec, params, decay)


def path_gradient(spec: Spec, params: Params, trace: Trace, k: int) -> tuple[Array, ...]:
    """Gradients of the k-th output's error alone: the article's ∂E_k/∂w for hidden weights."""
    g = np.zeros_like(trace.dE_da[-1])
    g[k] = trace.dE_da[-1][k]
    _, _, delta = backward(spec, params, trace.z, trace.a, g)
    return _weight_gradients(spec, delta, trace.a)


# ---------------------------------------------------------------------------------------------
# A named network as arrays


class Compiled:
    """A lesson's network as arrays, with the maps from names to array positions, and the
    training runs the plan and the summary ask of it."""

    def __init__(
        self,
        net: Network,
        spec: Spec,
        params: Params,
        bias_group: Mapping[str, int],
    ) -> None:
        self.net = net
        self.spec = spec
        self.params = params
        self.bias_group = bias_group  # bias name -> group id
        self.x = np.array(net.inputs, dtype=float)
        self.t = np.array(net.targets, dtype=float)
        #: a mini-batch's inputs and targets, one row per example (empty: one example)
        self.X = np.array([x for x, _ in net.batch], dtype=float)
        self.T = np.array([t for _, t in net.batch], dtype=float)
        self.mean = net.batch_reduction == "mean"
        self.lr = net.learning_rate
        self.update_biases = net.update_biases
        self.rule = Rule(
            net.learning_rate,
            net.update_biases,
            net.weight_decay,
            net.momentum,
            self._velocities() if net.momentum is not None else None,
        )

    def _velocities(self) -> Params:
        """The lesson's velocities before the step, laid out as the parameters are."""
        vW = [np.zeros_like(W) for W in self.params.W]
        vb = [np.zeros_like(b) for b in self.params.b]
        given = self.net.velocities
        for w in self.net.weights:
            if w.name in given:
                li, r, c = self.weight_index[w.name]
                vW[li][r, c] = given[w.name]
        for li, layer in enumerate(self.net.layers[1:]):
            for j, name in enumerate(layer.bias_names or ()):
                vb[li][j] = given.get(name, 0.0)
        return Params(tuple(vW), tuple(vb))

    @cached_property
    def weight_index(self) -> dict[str, tuple[int, int, int]]:
        """Weight name → (layer − 1, row, column): made on first use, since a big network's
        first prompt needs no weight positions at all."""
        pos = self.net.positions
        return {
            w.name: (pos[w.target][0] - 1, pos[w.target][1], pos[w.source][1])
            for w in self.net.weights
        }

    def run(self) -> Trace:
        """The training step: on the one example, or on the mini-batch (its batch trace)."""
        return self._step(self.params, self.rule)

    def _step(self, params: Params, rule: Rule) -> Trace:
        if len(self.X):
            return batch_step(self.spec, params, self.X, self.T, rule, self.mean)[1]
        return step(self.spec, params, self.x, self.t, rule)

    def batch_run(self) -> tuple[tuple[Trace, ...], Trace]:
        """The mini-batch's per-example traces and its batch trace."""
        return batch_step(self.spec, self.params, self.X, self.T, self.rule, self.mean)

    def total_error(self, params: Params) -> float:
        """E_total (with the decay term) for other parameters, or the batch loss: for the
        summary's curve and the tests' references."""
        if not len(self.X):
            return total_error(self.spec, params, self.x, self.t, self.rule.decay)
        data = sum(
            total_error(self.spec, params, x, t) for x, t in zip(self.X, self.T, strict=True)
        )
        scale = 1.0 / len(self.X) if self.mean else 1.0
        return scale * data + _penalty(self.spec, params, self.rule.decay)

    def path_gradient(
        self, trace: Trace, k: int, params: Params | None = None
    ) -> tuple[Array, ...]:
        return path_gradient(self.spec, params or self.params, trace, k)

    def runs(self, iterations: int) -> tuple[Trace, ...]:
        """The hand-worked iterations: each one's forward pass, backward pass and update,
        from the parameters (and velocities) the one before left."""
        traces = [self.run()]
        rule = self.rule
        for _ in range(iterations - 1):
            last = traces[-1]
            rule = Rule(rule.lr, rule.update_biases, rule.decay, rule.momentum, last.velocity)
            traces.append(self._step(last.new, rule))
        return tuple(traces)

    def loss_history(self, iterations: int) -> list[float]:
        """E_total before each of ``iterations`` updates, and after the last one."""
        params, rule, history = self.params, self.rule, []
        for _ in range(iterations):
            trace = self._step(params, rule)
            history.append(trace.total)
            params = trace.new
            rule = Rule(rule.lr, rule.update_biases, rule.decay, rule.momentum, trace.velocity)
        history.append(self.total_error(params))
        return history

    def training_history(self, training: Training, points: int = 40) -> list[float]:
        """The loss summed over a training set, sampled at ``points`` epochs of per-example
        updates (stochastic gradient descent, examples in order)."""
        X = np.asarray(training.inputs, dtype=float)
        T = np.asarray(training.targets, dtype=float)
        epochs = training.epochs
        marks = set(np.linspace(0, epochs, num=min(points, epochs + 1), dtype=int).tolist())
        spec, params = self.spec, self.params
        rule = Rule(self.lr, self.update_biases, self.rule.decay)

        def total() -> float:
            return sum(total_error(spec, params, x, t) for x, t in zip(X, T, strict=True))

        history = [total()]
        for epoch in range(1, epochs + 1):
            for x, t in zip(X, T, strict=True):
                params = step(spec, params, x, t, rule).new
            if epoch in marks:
                history.append(total())
        return history


def compile_network(net: Network) -> Compiled:
    """Masks, weight matrices, bias vectors and bias groups from the named network, one
    vectorised fill per layer."""
    sizes = [len(layer.units) for layer in net.layers]
    L = len(sizes) - 1
    non_empty = sum(1 for li in range(L) if sizes[li + 1] * sizes[li])
    compact = bool(net.matrices) and len(net.matrices) == non_empty
    places: dict[int, tuple[list[int], list[int], list[float]]] = {}
    if not compact:
        pos = net.positions
        for w in net.weights:  # one pass over the named weights
            tl, tj = pos[w.target]
            rows, cols, vals = places.setdefault(tl, ([], [], []))
            rows.append(tj)
            cols.append(pos[w.source][1])
            vals.append(w.value)
    W, masks, b, groups = [], [], [], []
    group_of: dict[str, int] = {}
    for tl in range(1, L + 1):
        shape = (sizes[tl], sizes[tl - 1])
        if compact:
            W.append(np.array(net.matrices.get(tl, ()), dtype=float).reshape(shape))
            masks.append(np.ones(shape, dtype=bool))
        else:
            rows, cols, vals = places.get(tl, ([], [], []))
            weights, mask = np.zeros(shape), np.zeros(shape, dtype=bool)
            weights[rows, cols] = vals
            mask[rows, cols] = True
            W.append(weights)
            masks.append(mask)
        layer = net.layers[tl]
        if layer.bias_names is None or layer.bias_values is None:
            b.append(np.zeros(shape[0]))
            groups.append(np.full(shape[0], -1, dtype=int))
        else:
            b.append(np.array(layer.bias_values, dtype=float))
            ids = [group_of.setdefault(name, len(group_of)) for name in layer.bias_names]
            groups.append(np.array(ids, dtype=int))
    spec = Spec(
        activations=tuple(layer.activation_record.name for layer in net.layers[1:]),
        records=tuple(layer.activation_record for layer in net.layers[1:]),
        loss=net.loss,
        masks=tuple(masks),
        bias_groups=tuple(groups),
        n_bias_groups=len(group_of),
    )
    return Compiled(net, spec, Params(tuple(W), tuple(b)), group_of)
