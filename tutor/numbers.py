"""The engine's results for one lesson, in the shape the plan reads them.

They come either from the engine run in this process (:class:`LocalNumbers`) or from the
engine process (``tutor.engine_process``), which lets the interactive tutor leave NumPy out
of its own memory. Both give scalars by index: ``trace.z[layer][unit]``,
``trace.grad_W[layer][row, col]`` and so on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tutor.arrays import Compiled
    from tutor.lesson import Training


class Numbers(Protocol):
    """What the plan needs from the engine: one training step and the loss curves."""

    @property
    def trace(self) -> Any: ...  # tutor.engine.Trace, or the engine process's copy of it

    @property
    def weight_index(self) -> Mapping[str, tuple[int, int, int]]: ...

    @property
    def bias_group(self) -> Mapping[str, int]: ...

    def path_gradient(self, k: int) -> Sequence[Any]:
        """Per layer, the gradients of the k-th output's error alone (``[row, col]``)."""
        ...

    def loss_history(self, iterations: int) -> list[float]:
        """E_total before each of ``iterations`` updates, and after the last one."""
        ...

    def training_history(self, training: Training) -> list[float]:
        """The loss summed over a training set, epoch by epoch."""
        ...


class LocalNumbers:
    """The engine run here, on the compiled arrays (NumPy in this process)."""

    def __init__(self, compiled: Compiled):
        self.compiled = compiled
        self.trace = compiled.run()
        self.weight_index = compiled.weight_index
        self.bias_group = compiled.bias_group

    def path_gradient(self, k: int) -> Sequence[Any]:
        from tutor import engine

        c = self.compiled
        return engine.path_gradient(c.spec, c.params, self.trace, k)

    def loss_history(self, iterations: int) -> list[float]:
        from tutor import engine

        c = self.compiled
        return engine.loss_history(c.spec, c.params, c.x, c.t, c.lr, c.update_biases, iterations)

    def training_history(self, training: Training) -> list[float]:
        from tutor import engine

        c = self.compiled
        return engine.dataset_history(
            c.spec,
            c.params,
            training.inputs,
            training.targets,
            c.lr,
            c.update_biases,
            training.epochs,
        )
