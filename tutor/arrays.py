"""Turn a named :class:`~tutor.lesson.Network` into the engine's arrays and back.

Kept apart from the engine so that the engine stays free of names, and apart from the lesson
reader so that variants and misconceptions can rebuild arrays from altered numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tutor import engine
from tutor.layout import Layout, WeightIndex, layout_of
from tutor.lesson import Network
from tutor.values import Value


class Compiled(Value):
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


def compile_network(net: Network) -> Compiled:
    """Build masks, weight matrices, bias vectors and bias groups from the named network."""
    return compile_layout(layout_of(net), WeightIndex(net))


def compile_layout(
    layout: Layout, weight_index: Mapping[str, tuple[int, int, int]] | None = None
) -> Compiled:
    """The layout's numbers as arrays (one vectorised fill per layer)."""
    sizes = layout.sizes
    W, masks, b, groups = [], [], [], []
    for li, layer in enumerate(layout.layers):
        shape = (sizes[li + 1], sizes[li])
        if layer.rows is None:
            W.append(np.array(layer.values, dtype=float).reshape(shape))
            masks.append(np.ones(shape, dtype=bool))
        else:
            w, m = np.zeros(shape), np.zeros(shape, dtype=bool)
            w[list(layer.rows), list(layer.cols or ())] = layer.values
            m[list(layer.rows), list(layer.cols or ())] = True
            W.append(w)
            masks.append(m)
        b.append(np.zeros(shape[0]) if layer.bias is None else np.array(layer.bias, dtype=float))
        groups.append(np.array(layer.groups, dtype=int))
    spec = engine.Spec(
        activations=layout.activations,
        loss=layout.loss,
        masks=tuple(masks),
        bias_groups=tuple(groups),
        n_bias_groups=layout.n_bias_groups,
    )
    return Compiled(
        spec=spec,
        params=engine.Params(tuple(W), tuple(b)),
        x=np.array(layout.x, dtype=float),
        t=np.array(layout.t, dtype=float),
        lr=layout.lr,
        update_biases=layout.update_biases,
        weight_index=weight_index if weight_index is not None else {},
        bias_group=layout.bias_group,
    )
