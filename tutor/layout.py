"""A named network as plain numbers in the engine's order, without NumPy.

The engine wants per-layer arrays; the lesson has named units and weights. This module does
the naming-to-position work in plain Python so that the same layout can be turned into
arrays here (``tutor.arrays``) or sent to the engine process (``tutor.engine_process``),
which keeps NumPy out of the interactive tutor.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from tutor.lesson import Network
from tutor.values import Value


class LayerNumbers(Value):
    """One layer after the input: its incoming weights and its biases.

    ``rows``/``cols`` are None when every connection exists and ``values`` is the whole
    matrix, row by row (the compact form); otherwise they give each present weight's place.
    """

    values: tuple[float, ...]
    rows: tuple[int, ...] | None
    cols: tuple[int, ...] | None
    bias: tuple[float, ...] | None  # None: this layer has no biases (all zero)
    groups: tuple[int, ...]  # bias group id per unit, −1 for none; ids are global


class Layout(Value):
    """Everything the engine reads, in engine order; names stay with the lesson."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    layers: tuple[LayerNumbers, ...]
    n_bias_groups: int
    x: tuple[float, ...]
    t: tuple[float, ...]
    lr: float
    update_biases: bool
    bias_group: Mapping[str, int]  # bias name → group id


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

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self.net.weights)


def layout_of(net: Network) -> Layout:
    """The network's numbers in engine order: weights by (row, column), biases and groups."""
    sizes = [len(layer.units) for layer in net.layers]
    L = len(sizes) - 1
    weights: list[tuple[tuple[float, ...], tuple[int, ...] | None, tuple[int, ...] | None]]
    non_empty = sum(1 for li in range(L) if sizes[li + 1] * sizes[li])
    if net.matrices and len(net.matrices) == non_empty:
        # the compact form: the loader's matrices are the weights, nothing per weight
        weights = []
        for tl in range(1, L + 1):
            matrix = net.matrices.get(tl, ())
            weights.append((tuple(float(v) for row in matrix for v in row), None, None))
    else:
        pos = net.positions  # type: ignore[attr-defined]
        by_layer: dict[int, tuple[list[int], list[int], list[float]]] = {}
        for w in net.weights:  # one pass over the named weights
            tl, tj = pos[w.target]
            rows, cols, vals = by_layer.setdefault(tl - 1, ([], [], []))
            rows.append(tj)
            cols.append(pos[w.source][1])
            vals.append(w.value)
        weights = [
            (tuple(vals), tuple(rows), tuple(cols))
            for rows, cols, vals in (by_layer.get(li, ([], [], [])) for li in range(L))
        ]
    group_of: dict[str, int] = {}
    layers = []
    for (values, rows, cols), layer in zip(weights, net.layers[1:], strict=True):
        if layer.bias_names is None or layer.bias_values is None:
            bias, groups = None, (-1,) * len(layer.units)
        else:
            bias = tuple(float(v) for v in layer.bias_values)
            groups = tuple(group_of.setdefault(name, len(group_of)) for name in layer.bias_names)
        layers.append(LayerNumbers(values, rows, cols, bias, groups))
    return Layout(
        sizes=tuple(sizes),
        activations=tuple(layer.activation or "linear" for layer in net.layers[1:]),
        loss=net.loss,
        layers=tuple(layers),
        n_bias_groups=len(group_of),
        x=tuple(float(v) for v in net.inputs),
        t=tuple(float(v) for v in net.targets),
        lr=net.learning_rate,
        update_biases=net.update_biases,
        bias_group=group_of,
    )
