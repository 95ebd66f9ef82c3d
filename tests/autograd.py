"""A small reverse-mode autograd on Python floats (micrograd's idea), written independently of
the engine and of ``tutor.activations``: the reference the lessons' numbers are tied to.

``reference(lesson)`` runs a lesson's network through it: every sum and out, the loss (with
the weight-decay term), the gradient of every weight and bias, and the update (with
momentum), for each hand-worked iteration and each example of a batch."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


class V:
    """A scalar that remembers how it was made, to send gradients back."""

    __slots__ = ("data", "grad", "_parents", "_local")

    def __init__(self, data: float, parents: tuple[V, ...] = (), local: tuple[float, ...] = ()):
        self.data = float(data)
        self.grad = 0.0
        self._parents = parents
        self._local = local

    def __add__(self, o: V | float) -> V:
        o = o if isinstance(o, V) else V(o)
        return V(self.data + o.data, (self, o), (1.0, 1.0))

    __radd__ = __add__

    def __mul__(self, o: V | float) -> V:
        o = o if isinstance(o, V) else V(o)
        return V(self.data * o.data, (self, o), (o.data, self.data))

    __rmul__ = __mul__

    def __neg__(self) -> V:
        return self * -1.0

    def __sub__(self, o: V | float) -> V:
        return self + (-o if isinstance(o, V) else V(-o))

    def __rsub__(self, o: float) -> V:
        return V(o) - self

    def __truediv__(self, o: V | float) -> V:
        o = o if isinstance(o, V) else V(o)
        return self * o**-1.0

    def __rtruediv__(self, o: float) -> V:
        return V(o) * self**-1.0

    def __pow__(self, k: float) -> V:
        return V(self.data**k, (self,), (k * self.data ** (k - 1),))

    def exp(self) -> V:
        e = math.exp(self.data)
        return V(e, (self,), (e,))

    def log(self) -> V:
        return V(math.log(self.data), (self,), (1.0 / self.data,))

    def tanh(self) -> V:
        t = math.tanh(self.data)
        return V(t, (self,), (1.0 - t * t,))

    def erf(self) -> V:
        d = 2.0 / math.sqrt(math.pi) * math.exp(-self.data * self.data)
        return V(math.erf(self.data), (self,), (d,))

    def relu(self, leak: float = 0.0) -> V:
        slope = 1.0 if self.data > 0 else leak
        return V(self.data * slope, (self,), (slope,))

    def backward(self) -> None:
        order: list[V] = []
        seen: set[int] = set()

        def visit(v: V) -> None:
            if id(v) not in seen:
                seen.add(id(v))
                for p in v._parents:
                    visit(p)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            for p, d in zip(v._parents, v._local, strict=True):
                p.grad += d * v.grad


def activate(name: str, z: V, leak: float = 0.01) -> V:
    if name == "sigmoid":
        return 1.0 / (1.0 + (-z).exp())
    if name == "tanh":
        return z.tanh()
    if name == "relu":
        return z.relu()
    if name == "leaky_relu":
        return z.relu(leak)
    if name == "linear":
        return z
    if name == "softplus":
        return (1.0 + z.exp()).log()
    if name == "gelu":
        return z * 0.5 * (1.0 + (z / math.sqrt(2.0)).erf())
    if name == "gelu_tanh":
        inner = math.sqrt(2.0 / math.pi) * (z + 0.044715 * z**3.0)
        return 0.5 * z * (1.0 + inner.tanh())
    raise ValueError(name)


def loss_terms(name: str, outs: list[V], targets: list[float]) -> list[V]:
    n = len(outs)
    if name == "half_sse":
        return [0.5 * (t - o) ** 2.0 for o, t in zip(outs, targets, strict=True)]
    if name == "mse":
        return [(t - o) ** 2.0 / n for o, t in zip(outs, targets, strict=True)]
    if name == "binary_cross_entropy":
        return [
            -(t * o.log() + (1.0 - t) * (1.0 - o).log()) for o, t in zip(outs, targets, strict=True)
        ]
    if name == "cross_entropy":
        return [-(t * o.log()) for o, t in zip(outs, targets, strict=True)]
    raise ValueError(name)


@dataclass
class Pass:
    """One example's forward pass under one set of parameters."""

    values: dict[str, float] = field(default_factory=dict)  # sum_u, out_u, errors, total
    grads: dict[str, float] = field(default_factory=dict)  # weight/bias -> dE/dθ


def forward_pass(lesson, params: dict[str, float], x, t) -> tuple[V, dict[str, V], Pass]:
    net = lesson.network
    p = {k: V(v) for k, v in params.items()}
    value: dict[str, V] = dict(zip(net.input_units, (V(xi) for xi in x), strict=True))
    rec = Pass()
    for layer in net.layers[1:]:
        sums = []
        for j, u in enumerate(layer.units):
            s: V = V(0.0)
            for w in net.weights:
                if w.target == u:
                    s = s + value[w.source] * p[w.name]
            if layer.bias_names:
                s = s + p[layer.bias_names[j]]
            rec.values[f"sum_{u}"] = s.data
            sums.append(s)
        if layer.activation == "softmax":
            exps = [s.exp() for s in sums]
            denominator = sum(exps, V(0.0))
            outs = [e / denominator for e in exps]
        else:
            leak = layer.activation_parameter if layer.activation_parameter is not None else 0.01
            outs = [activate(layer.activation, s, leak) for s in sums]
        for u, a in zip(layer.units, outs, strict=True):
            value[u] = a
            rec.values[f"out_{u}"] = a.data
    outs = [value[o] for o in net.output_units]
    terms = loss_terms(net.loss, outs, list(t))
    total: V = V(0.0)
    for name, term in zip(lesson.error_names, terms, strict=True):
        rec.values[name] = term.data
        total = total + term
    return total, p, rec


def reference(lesson) -> list[Pass]:
    """Per hand-worked iteration, its pass: values by step id (without tags) and gradients of
    the loss including the decay term; the parameters after each update in ``new_θ``."""
    net = lesson.network
    params = {w.name: w.value for w in net.weights}
    for name, _, value in net.bias_params():
        params[name] = value
    velocity = {k: net.velocities.get(k, 0.0) for k in params}
    passes = []
    for _ in range(getattr(net, "iterations", 1)):
        total, p, rec = forward_pass(lesson, params, net.inputs, net.targets)
        if net.weight_decay:
            penalty = sum((p[w.name] ** 2.0 for w in net.weights), V(0.0)) * (
                0.5 * net.weight_decay
            )
            rec.values["E_decay"] = penalty.data
            total = total + penalty
        rec.values[lesson.total_name] = total.data
        total.backward()
        new = dict(params)
        for k, v in p.items():
            if k not in {w.name for w in net.weights} and not net.update_biases:
                continue
            rec.grads[k] = v.grad
            step = v.grad
            if net.momentum is not None:
                velocity[k] = net.momentum * velocity[k] + v.grad
                rec.values[f"new_v_{k}"] = velocity[k]
                step = velocity[k]
            new[k] = params[k] - net.learning_rate * step
            rec.values[f"new_{k}"] = new[k]
        passes.append(rec)
        params = new
    return passes


def batch_reference(lesson) -> dict[str, float]:
    """A mini-batch lesson's every value by step id: each example's (tagged ``[k]``), the
    batch loss ``E_batch``, its gradients ``dE_batch/dθ`` (the mean or sum of the examples',
    with the decay term once) and the updates."""
    net = lesson.network
    params = {w.name: w.value for w in net.weights}
    for name, _, value in net.bias_params():
        params[name] = value
    values: dict[str, float] = {}
    n = len(net.batch)
    scale = 1.0 / n if net.batch_reduction == "mean" else 1.0
    batch_total: V = V(0.0)
    leaves: list[dict[str, V]] = []
    for k, (x, t) in enumerate(net.batch, start=1):
        total, p, rec = forward_pass(lesson, params, x, t)
        rec.values[lesson.total_name] = total.data
        total.backward()
        for sid, v in rec.values.items():
            values[f"{sid}[{k}]"] = v
        for name, leaf in p.items():
            values[f"d{lesson.total_name}/d{name}[{k}]"] = leaf.grad
        leaves.append(p)
        batch_total = batch_total + total * scale
    values["E_batch"] = batch_total.data
    updated = {w.name for w in net.weights} | (
        {b for b, _, _ in net.bias_params()} if net.update_biases else set()
    )
    for name in updated:
        grad = sum(values[f"d{lesson.total_name}/d{name}[{k}]"] for k in range(1, n + 1))
        grad *= scale
        if net.weight_decay and name in {w.name for w in net.weights}:
            grad += net.weight_decay * params[name]
        values[f"dE_batch/d{name}"] = grad
        if net.momentum is not None:
            grad = net.momentum * net.velocities.get(name, 0.0) + grad
            values[f"new_v_{name}"] = grad
        values[f"new_{name}"] = params[name] - net.learning_rate * grad
    if net.weight_decay:
        decay = 0.5 * net.weight_decay * sum(params[w.name] ** 2 for w in net.weights)
        values["E_decay"] = decay
        values["E_batch"] += decay
    return values


def _vmax(a: V, b: V) -> V:
    """max(a, b): the gradient goes to the larger one (the lessons have no ties)."""
    return V(max(a.data, b.data), (a, b), (1.0, 0.0) if a.data > b.data else (0.0, 1.0))


def _gate(op: str, args: list[V], exponent: float) -> V:
    if op == "add":
        return args[0] + args[1]
    if op == "sub":
        return args[0] - args[1]
    if op == "mul":
        return args[0] * args[1]
    if op == "div":
        return args[0] / args[1]
    if op == "pow":
        return args[0] ** exponent
    if op == "neg":
        return -args[0]
    if op == "exp":
        return args[0].exp()
    if op == "log":
        return args[0].log()
    if op == "max":
        return _vmax(args[0], args[1])
    return activate(op, args[0])


def graph_forward(lesson, inputs: dict[str, float] | None = None) -> tuple[V, dict[str, V]]:
    """A computational-graph lesson's gates on autograd scalars: the output and every named
    value (inputs and gates). ``inputs`` replaces the lesson's input values."""
    graph = lesson.network.graph
    value: dict[str, V] = {n: V(x) for n, x in graph.inputs}
    if inputs:
        value.update((n, V(x)) for n, x in inputs.items())
    for gate in graph.gates:
        args = [value[a] if isinstance(a, str) else V(a) for a in gate.args]
        value[gate.name] = _gate(gate.op, args, gate.exponent)
    return value[graph.output], value


def graph_reference(lesson) -> dict[str, float]:
    """Every step of a graph lesson by id: each gate's value ``q``, ``df/dn`` for every input
    and gate, and each local gradient ``dc/dn`` (the gate alone on fresh leaves)."""
    graph = lesson.network.graph
    f = graph.output
    out, value = graph_forward(lesson)
    out.backward()
    ref: dict[str, float] = {g.name: value[g.name].data for g in graph.gates}
    ref.update((f"d{f}/d{n}", v.grad) for n, v in value.items() if n != f)
    for gate in graph.gates:
        leaves = {n: V(value[n].data) for n in gate.names}
        args = [leaves[a] if isinstance(a, str) else V(a) for a in gate.args]
        _gate(gate.op, args, gate.exponent).backward()
        if gate.name != f:
            ref.update((f"d{gate.name}/d{n}", leaf.grad) for n, leaf in leaves.items())
    return ref
