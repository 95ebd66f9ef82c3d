"""Turn a named :class:`~tutor.lesson.Network` into the engine's arrays and back.

Kept apart from the engine so that the engine stays free of names, and apart from the lesson
reader so that variants and misconceptions can rebuild arrays from altered numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tutor import engine
from tutor.lesson import Network


@dataclass(frozen=True)
class Compiled:
    """A network as arrays, with the maps from names to array positions."""

    spec: engine.Spec
    params: engine.Params
    x: np.ndarray
    t: np.ndarray
    lr: float
    update_biases: bool
    weight_index: Mapping[str, tuple[int, int, int]]  # name -> (layer-1, row, col), lazy
    bias_group: Mapping[str, int]  # bias name -> group id

    def run(self, iterations: int = 0) -> engine.Trace:
        return engine.step(
            self.spec, self.params, self.x, self.t, self.lr, self.update_biases, iterations
        )

    def with_params(self, W: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> Compiled:
        return Compiled(
            self.spec,
            engine.Params(W, b),
            self.x,
            self.t,
            self.lr,
            self.update_biases,
            self.weight_index,
            self.bias_group,
        )


class WeightIndex(Mapping[str, tuple[int, int, int]]):
    """Weight name → (layer − 1, row, column), built on first use: a big network's first
    prompt needs no weight positions at all."""

    def __init__(self, net: Network):
        self.net = net
        self._table: dict[str, tuple[int, int, int]] | None = None

    def _built(self) -> dict[str, tuple[int, int, int]]:
        if self._table is None:
            pos = self.net.positions  # type: ignore[attr-defined]
            self._table = {
                w.name: (pos[w.target][0] - 1, pos[w.target][1], pos[w.source][1])
                for w in self.net.weights
            }
        return self._table

    def __getitem__(self, name: str) -> tuple[int, int, int]:
        return self._built()[name]

    def __iter__(self):
        return iter(self._built())

    def __len__(self) -> int:
        return len(self.net.weights)


def compile_network(net: Network) -> Compiled:
    """Build masks, weight matrices, bias vectors and bias groups from the named network."""
    sizes = [len(layer.units) for layer in net.layers]
    L = len(sizes) - 1
    W = [np.zeros((sizes[li + 1], sizes[li])) for li in range(L)]
    masks = [np.zeros((sizes[li + 1], sizes[li]), dtype=bool) for li in range(L)]
    if net.matrices and len(net.matrices) == sum(1 for m in masks if m.size):
        # the compact form: the loader's matrices are the weights, nothing per weight
        for tl, matrix in net.matrices.items():
            W[tl - 1] = np.array(matrix, dtype=float)
            masks[tl - 1][:] = True
    else:
        pos = net.positions  # type: ignore[attr-defined]
        by_layer: dict[int, tuple[list[int], list[int], list[float]]] = {}
        for w in net.weights:  # one pass, then one vectorised fill per layer
            tl, tj = pos[w.target]
            rows, cols, vals = by_layer.setdefault(tl - 1, ([], [], []))
            rows.append(tj)
            cols.append(pos[w.source][1])
            vals.append(w.value)
        for li, (rows, cols, vals) in by_layer.items():
            W[li][rows, cols] = vals
            masks[li][rows, cols] = True
    index = WeightIndex(net)
    b = []
    groups = []
    group_of: dict[str, int] = {}
    for layer in net.layers[1:]:
        n = len(layer.units)
        if layer.bias_names is None or layer.bias_values is None:
            b.append(np.zeros(n))
            groups.append(np.full(n, -1, dtype=int))
            continue
        b.append(np.array(layer.bias_values, dtype=float))
        ids = [group_of.setdefault(name, len(group_of)) for name in layer.bias_names]
        groups.append(np.array(ids, dtype=int))
    spec = engine.Spec(
        activations=tuple(layer.activation or "linear" for layer in net.layers[1:]),
        loss=net.loss,
        masks=tuple(masks),
        bias_groups=tuple(groups),
        n_bias_groups=len(group_of),
    )
    return Compiled(
        spec=spec,
        params=engine.Params(tuple(W), tuple(b)),
        x=np.array(net.inputs, dtype=float),
        t=np.array(net.targets, dtype=float),
        lr=net.learning_rate,
        update_biases=net.update_biases,
        weight_index=index,
        bias_group=group_of,
    )
