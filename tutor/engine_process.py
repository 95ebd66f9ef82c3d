"""The NumPy engine in a short-lived child process, so that the tutor itself need not load NumPy.

NumPy's import is most of an interactive session's memory (about 12 MiB of a 50 MiB
process), and a lab host runs one session per student. So the tutor sends the network's
numbers (a :class:`~tutor.layout.Layout`) to ``python -c … engine_process.main``, which runs
the same engine (forward pass, backward pass, update, the article's per-path gradients and
the loss curves) and sends every array back. The plan then reads those values exactly as it
reads an in-process trace: the answers are still checked against NumPy's float64 results.

The wire format is data only: one line of JSON naming the blocks, then the float64 values.
Nothing is pickled or evaluated. Any failure (no process could start, a crash, a timeout)
raises :class:`EngineProcessError`; :func:`numbers_for` then lets the caller compute in
process instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import zlib
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.layout import LayerNumbers, Layout, WeightIndex, layout_of
from tutor.lesson import Lesson, Training
from tutor.values import replace

TIMEOUT = 60.0  # seconds; a lesson takes well under one, a loaded lab host a few
HISTORY = 20  # iterations of the loss curve the summary shows


class EngineProcessError(RuntimeError):
    """The engine process could not give the numbers."""


# --- the wire format: a JSON header line, then float64 blocks -------------------------------


def pack(meta: Mapping[str, Any], blocks: Mapping[str, tuple[Sequence[int], bytes]]) -> bytes:
    """One JSON line (``meta`` and each block's name and shape), then the blocks' bytes."""
    header = {"meta": meta, "blocks": [[name, list(shape)] for name, (shape, _) in blocks.items()]}
    return json.dumps(header).encode() + b"\n" + b"".join(data for _, data in blocks.values())


def unpack(data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """``meta`` and the blocks as read-only views indexed like arrays (``m[i]``, ``m[r, c]``)."""
    end = data.find(b"\n")
    if end < 0:
        raise EngineProcessError("the engine's reply has no header")
    try:
        header = json.loads(data[:end])
        meta, names = header["meta"], header["blocks"]
    except (ValueError, KeyError, TypeError) as err:
        raise EngineProcessError(f"the engine's reply has a bad header ({err})") from None
    if not isinstance(names, list) or not isinstance(meta, dict):
        raise EngineProcessError("the engine's reply has a bad header")
    view = memoryview(data)[end + 1 :]
    blocks: dict[str, Any] = {}
    offset = 0
    for entry in names:
        if not (
            isinstance(entry, list)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], list)
            and all(isinstance(n, int) and n >= 0 for n in entry[1])
        ):
            raise EngineProcessError(f"the engine's reply names a bad block: {entry!r:.60}")
        name, shape = entry
        count = 1
        for n in shape:
            count *= n
        size = 8 * count
        if offset + size > len(view):
            raise EngineProcessError(f"the engine's reply is cut short at {name!r}")
        # a view cannot have a zero in its shape: an empty block is an empty tuple
        blocks[name] = view[offset : offset + size].cast("d", shape) if count else ()
        offset += size
    if offset != len(view):
        raise EngineProcessError("the engine's reply is longer than its header says")
    return meta, blocks


def vector(values: Iterable[float]) -> tuple[tuple[int], bytes]:
    """A one-dimensional block: its shape and its float64 bytes."""
    packed = array("d", values)
    return (len(packed),), packed.tobytes()


# --- the tutor's side -----------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteParams:
    W: tuple[Any, ...]
    b: tuple[Any, ...]


@dataclass(frozen=True)
class RemoteTrace:
    """The engine's trace as received: the fields of ``tutor.engine.Trace`` the plan reads."""

    z: tuple[Any, ...]
    a: tuple[Any, ...]
    errors: Any
    total: float
    dE_da: tuple[Any, ...]
    da_dz: tuple[Any, ...]
    delta: tuple[Any, ...]
    grad_W: tuple[Any, ...]
    grad_bias_groups: Any
    new: RemoteParams


@dataclass
class RemoteNumbers:
    """Everything the plan reads, computed by the engine process (see ``tutor.numbers``).
    The training-set curve (seconds of work) is asked for only when the summary wants it."""

    trace: RemoteTrace
    weight_index: Mapping[str, tuple[int, int, int]]
    bias_group: Mapping[str, int]
    paths: tuple[tuple[Any, ...], ...]
    history: tuple[float, ...]
    layout: Layout
    training: tuple[float, ...] | None = None

    def path_gradient(self, k: int) -> Sequence[Any]:
        return self.paths[k]

    def loss_history(self, iterations: int) -> list[float]:
        if iterations >= len(self.history):
            raise ValueError(f"the engine process computed {len(self.history) - 1} iterations")
        return list(self.history[: iterations + 1])

    def training_history(self, training: Training) -> list[float]:
        if self.training is None:
            try:
                # no time limit: a long training set takes long here too (in a worker)
                _, b = run(request(self.layout, training=training), timeout=None)
                self.training = tuple(b["training"])
            except (EngineProcessError, KeyError):
                from tutor.arrays import compile_layout
                from tutor.numbers import LocalNumbers

                return LocalNumbers(compile_layout(self.layout)).training_history(training)
        return list(self.training)


def request(
    layout: Layout,
    paths: int = 0,
    training: Training | None = None,
    variant: Mapping[str, Any] | None = None,
) -> bytes:
    """The numbers the engine process needs, packed: with a training set, it computes only
    the training-set curve; without, the step, ``paths`` outputs' path gradients and the
    loss curve. With ``variant`` (the lesson file, its id and a seed) it first draws that
    variant's numbers, from the file, after checking the file still holds ``layout``."""
    blocks: dict[str, tuple[Sequence[int], bytes]] = {"x": vector(layout.x), "t": vector(layout.t)}
    layers = []
    for li, layer in enumerate(layout.layers):
        blocks[f"w{li}"] = vector(layer.values)
        if layer.rows is not None and layer.cols is not None:
            blocks[f"r{li}"] = vector(layer.rows)
            blocks[f"c{li}"] = vector(layer.cols)
        if layer.bias is not None:
            blocks[f"b{li}"] = vector(layer.bias)
        blocks[f"g{li}"] = vector(layer.groups)
        layers.append({"sparse": layer.rows is not None, "bias": layer.bias is not None})
    if training is not None:
        for name, rows in (("tx", training.inputs), ("tt", training.targets)):
            width = len(rows[0]) if rows else 0
            blocks[name] = ((len(rows), width), vector(v for row in rows for v in row)[1])
    meta = {
        "sizes": list(layout.sizes),
        "activations": list(layout.activations),
        "loss": layout.loss,
        "layers": layers,
        "n_bias_groups": layout.n_bias_groups,
        "lr": layout.lr,
        "update_biases": layout.update_biases,
        "paths": paths,
        "history": HISTORY,
        "epochs": training.epochs if training is not None else None,
        "variant": dict(variant) if variant is not None else None,
    }
    return pack(meta, blocks)


def fingerprint(lesson: Lesson) -> str:
    """A digest of everything the lesson file says (its ranges, decimals and mistakes shape a
    variant too), for telling whether the file read again is the one the tutor read."""
    whole = repr(replace(lesson, path=None, file=""))
    return f"{zlib.crc32(whole.encode()):08x}-{len(whole)}"


# The engine process's first lines: this copy of the package is importable, after the
# standard library (a stdlib-named module in site-packages must not shadow it there only).
BOOT = """
import sys
root = sys.argv[1]
if root not in sys.path:
    at = [k for k, p in enumerate(sys.path) if p.endswith(("site-packages", "dist-packages"))]
    sys.path.insert(at[0] if at else len(sys.path), root)
from tutor.engine_process import main
sys.exit(main())
"""


def _command() -> list[str]:
    """This interpreter and this copy of the package; ``-P`` keeps the working directory
    (say, a learner's own ``numpy.py``) off the path."""
    return [sys.executable, "-P", "-c", BOOT, str(Path(__file__).resolve().parent.parent)]


class Stopped(EngineProcessError):
    """The tutor is closing: the engine process was ended, and nobody needs its numbers."""


_live: dict[subprocess.Popen[bytes], bool] = {}  # running engine processes → stopped?
_live_lock = threading.Lock()


def stop() -> None:
    """End every engine process at once (the tutor is closing), so that quitting never
    waits for one."""
    with _live_lock:
        for proc in _live:
            _live[proc] = True
            proc.kill()


def run(payload: bytes, timeout: float | None = TIMEOUT) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send a request to a new engine process and unpack its reply."""
    try:
        with _live_lock:
            proc = subprocess.Popen(
                _command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            _live[proc] = False
    except OSError as err:
        raise EngineProcessError(f"the engine process could not start ({err})") from None
    try:
        out, err = proc.communicate(payload, timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise EngineProcessError(f"the engine process took more than {timeout:g} s") from None
    finally:
        with _live_lock:
            stopped = _live.pop(proc, False)
    if stopped:
        raise Stopped("the tutor is closing")
    if proc.returncode != 0:
        words = err.decode(errors="replace").strip().splitlines()
        why = words[-1] if words else f"exit code {proc.returncode}"
        raise EngineProcessError(f"the engine process failed: {why}")
    return unpack(out)


def compute(
    lesson: Lesson, seed: int | None = None, timeout: float = TIMEOUT
) -> tuple[Lesson, RemoteNumbers]:
    """Run the lesson's network through the engine process: the lesson (with the numbers of
    ``seed``'s variant, drawn there, when a seed is given) and its engine numbers."""
    from tutor.plan import choose_form

    layout = layout_of(lesson.network)
    paths = len(lesson.network.output_units) if choose_form(lesson) == "paths" else 0
    variant = None
    if seed is not None:
        if lesson.path is None:
            raise EngineProcessError("a lesson without a file cannot draw its variant there")
        variant = {
            "path": str(lesson.path),
            "id": lesson.id,
            "seed": seed,
            "lesson": fingerprint(lesson),
        }
    meta, b = run(request(layout, paths, variant=variant), timeout)
    try:
        if seed is not None:
            lesson = _drawn(lesson, seed, meta, b)
            layout = layout_of(lesson.network)
        L = len(layout.layers)
        trace = RemoteTrace(
            z=tuple(b[f"z{li}"] for li in range(L)),
            a=tuple(b[f"a{li}"] for li in range(L + 1)),
            errors=b["errors"],
            total=float(meta["total"]),
            dE_da=tuple(b[f"dE_da{li}"] for li in range(L)),
            da_dz=tuple(b.get(f"da_dz{li}") for li in range(L)),
            delta=tuple(b[f"delta{li}"] for li in range(L)),
            grad_W=tuple(b[f"gW{li}"] for li in range(L)),
            grad_bias_groups=b["gbg"],
            new=RemoteParams(
                tuple(b[f"nW{li}"] for li in range(L)), tuple(b[f"nb{li}"] for li in range(L))
            ),
        )
        return lesson, RemoteNumbers(
            trace=trace,
            weight_index=WeightIndex(lesson.network),
            bias_group=layout.bias_group,
            paths=tuple(tuple(b[f"p{k}_{li}"] for li in range(L)) for k in range(paths)),
            history=tuple(b["history"]),
            layout=layout,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise EngineProcessError(f"the engine's reply lacks {err}") from None


def _drawn(lesson: Lesson, seed: int, meta: Mapping[str, Any], b: Mapping[str, Any]) -> Lesson:
    """The lesson with a variant's numbers as the engine process drew them (the same
    structure ``tutor.variants`` gives: only numbers change)."""
    net = lesson.network
    values = tuple(b["v_weights"])
    if len(values) != len(net.weights):
        raise ValueError("'v_weights' (a different number of weights)")
    layers = []
    for li, layer in enumerate(net.layers):
        if layer.bias_values is not None:
            layer = replace(layer, bias_values=tuple(b[f"v_bias{li}"]))
        layers.append(layer)
    network = replace(
        net,
        layers=tuple(layers),
        weights=tuple(replace(w, value=v) for w, v in zip(net.weights, values, strict=True)),
        inputs=tuple(b["v_inputs"]),
        targets=tuple(b["v_targets"]),
        learning_rate=float(meta["v_lr"]),
        matrices={},
    )
    return replace(lesson, network=network, seed=seed)


def numbers_for(lesson: Lesson, seed: int | None = None) -> tuple[Lesson, RemoteNumbers] | None:
    """:func:`compute`, or None to compute here instead: when NumPy is loaded in this process
    already there is no memory to save, and when the engine process fails (it cannot start,
    the lesson file has changed…) computing here still gives the right numbers."""
    if "numpy" in sys.modules:
        return None
    try:
        return compute(lesson, seed)
    except Stopped:
        raise
    except EngineProcessError:
        return None


# --- the engine process's side --------------------------------------------------------------


def _layout_from(meta: Mapping[str, Any], b: Mapping[str, Any]) -> Layout:
    def ints(name: str) -> tuple[int, ...]:
        return tuple(int(v) for v in b[name])

    def floats(name: str) -> tuple[float, ...]:
        return tuple(b[name])

    layers = []
    for li, info in enumerate(meta["layers"]):
        sparse = info["sparse"]
        layers.append(
            LayerNumbers(
                values=floats(f"w{li}"),
                rows=ints(f"r{li}") if sparse else None,
                cols=ints(f"c{li}") if sparse else None,
                bias=floats(f"b{li}") if info["bias"] else None,
                groups=ints(f"g{li}"),
            )
        )
    return Layout(
        sizes=tuple(meta["sizes"]),
        activations=tuple(meta["activations"]),
        loss=meta["loss"],
        layers=tuple(layers),
        n_bias_groups=meta["n_bias_groups"],
        x=floats("x"),
        t=floats("t"),
        lr=meta["lr"],
        update_biases=meta["update_biases"],
        bias_group={},
    )


def answer(data: bytes) -> bytes:
    """The engine process's work: a packed request in, every array of the step out."""
    import numpy as np

    from tutor import engine
    from tutor.arrays import compile_layout

    meta, b = unpack(data)
    layout = _layout_from(meta, b)
    out: dict[str, tuple[Sequence[int], bytes]] = {}
    said: dict[str, Any] = {}

    def put(name: str, values: Any) -> None:
        arr = np.ascontiguousarray(values, dtype=np.float64)
        out[name] = (arr.shape, arr.tobytes())

    if meta["variant"] is not None:
        layout = _draw_variant(meta["variant"], layout, put, said)
    c = compile_layout(layout)

    if meta["epochs"] is not None:
        X, T = np.asarray(b["tx"]), np.asarray(b["tt"])
        curve = engine.dataset_history(
            c.spec, c.params, X, T, c.lr, c.update_biases, meta["epochs"]
        )
        put("training", curve)
        return pack({}, out)
    trace = c.run()
    L = len(trace.z)
    for li in range(L):
        put(f"z{li}", trace.z[li])
        put(f"dE_da{li}", trace.dE_da[li])
        if trace.da_dz[li] is not None:
            put(f"da_dz{li}", trace.da_dz[li])
        put(f"delta{li}", trace.delta[li])
        put(f"gW{li}", trace.grad_W[li])
        put(f"nW{li}", trace.new.W[li])
        put(f"nb{li}", trace.new.b[li])
    for li in range(L + 1):
        put(f"a{li}", trace.a[li])
    put("errors", trace.errors)
    put("gbg", trace.grad_bias_groups)
    for k in range(meta["paths"]):
        for li, grad in enumerate(engine.path_gradient(c.spec, c.params, trace, k)):
            put(f"p{k}_{li}", grad)
    history = engine.loss_history(
        c.spec, c.params, c.x, c.t, c.lr, c.update_biases, meta["history"]
    )
    put("history", history)
    return pack({"total": trace.total, **said}, out)


def _draw_variant(
    variant: Mapping[str, Any], layout: Layout, put: Any, said: dict[str, Any]
) -> Layout:
    """Draw a variant from the lesson file, as the tutor would have, and send its numbers."""
    from tutor.lesson import load_lesson
    from tutor.variants import draw_variant

    base = load_lesson(Path(variant["path"]), variant["id"])
    if (
        fingerprint(base) != variant["lesson"]
        or replace(layout_of(base.network), bias_group={}) != layout
    ):
        raise ValueError("the lesson file has changed since the tutor read it")
    net = draw_variant(base, int(variant["seed"])).network
    put("v_inputs", net.inputs)
    put("v_targets", net.targets)
    put("v_weights", [w.value for w in net.weights])
    for li, layer in enumerate(net.layers):
        if layer.bias_values is not None:
            put(f"v_bias{li}", layer.bias_values)
    said["v_lr"] = net.learning_rate
    return layout_of(net)


def main() -> int:
    """Read a request on stdin, write the answer on stdout; a failure is one line on stderr."""
    try:
        reply = answer(sys.stdin.buffer.read())
    except Exception as err:  # noqa: BLE001 - one line for the tutor, never a traceback
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        return 1
    try:
        sys.stdout.buffer.write(reply)
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # the tutor has gone: nobody is waiting for the numbers
        return 1
    return 0
