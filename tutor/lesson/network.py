"""The network part of a lesson file: layers, units, biases, weights (a table or a matrix per
layer), the inputs and targets, and the checks that tie them together."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tutor.activations import ACTIVATIONS, LOSSES
from tutor.lesson.fields import NAME_RE, Reader, clip
from tutor.lesson.model import Layer, Weight
from tutor.names import BATCH_LOSS, DECAY_TERM

MAX_LAYERS = 16
MAX_UNITS = 4096
MAX_WEIGHTS = 250_000
LAYER_KEYS = {
    "name",
    "units",
    "prefix",
    "activation",
    "bias",
    "weights",
    "weight_names",
    *(a.parameter for a in ACTIVATIONS.values() if a.parameter),
}


def read_layers(r: Reader, data: dict[str, Any]) -> tuple[list[Layer], list[Weight]]:
    raw_layers = data.get("layers")
    if raw_layers is None:
        r.bad("layers", "missing: give at least an input and an output layer ([[layers]])")
        return [], []
    if not isinstance(raw_layers, list) or not all(isinstance(x, dict) for x in raw_layers):
        r.bad("layers", "must be a list of tables ([[layers]])")
        return [], []
    if not 2 <= len(raw_layers) <= MAX_LAYERS:
        r.bad("layers", f"needs between 2 and {MAX_LAYERS} layers, found {len(raw_layers)}")
        return [], []
    count = len(raw_layers)
    layers: list[Layer] = []
    matrix_weights: list[Weight] = []
    all_units: set[str] = set()
    for li, raw in enumerate(raw_layers):
        where = f"layers[{li}]"
        r.keys(raw, where, LAYER_KEYS)
        default_name = "input" if li == 0 else "output" if li == count - 1 else f"hidden{li}"
        name = r.text(raw.get("name", default_name), f"{where}.name") or default_name
        units = _read_units(r, raw, where, li, count)
        for u in units:
            if u in all_units:
                r.bad(f"{where}.units", f"unit name '{u}' is used twice")
            all_units.add(u)
        activation = None
        parameter = None
        bias_names = bias_values = None
        if li == 0:
            for key in sorted(LAYER_KEYS - {"name", "units", "prefix"}):
                if key in raw:
                    r.bad(f"{where}.{key}", "the input layer has no " + key.replace("_", " "))
        else:
            activation = raw.get("activation")
            if activation is None:
                r.bad(f"{where}.activation", f"missing: choose one of {', '.join(ACTIVATIONS)}")
            elif r.choice(activation, f"{where}.activation", ACTIVATIONS, "activation") is None:
                activation = None
            elif ACTIVATIONS[activation].layer_wide and li != count - 1:
                r.bad(f"{where}.activation", f"{activation} is allowed on the output layer only")
            parameter = _read_parameter(r, raw, where, activation)
            if "bias" in raw:
                bias_names, bias_values = _read_bias(r, raw["bias"], f"{where}.bias", units)
            if "weights" in raw and units and layers:
                matrix_weights.extend(_read_matrix(r, raw, where, li, layers[-1].units, units))
        layers.append(Layer(name, units, activation, bias_names, bias_values, parameter))
    weights = _read_weight_table(r, data.get("weights"), layers)
    if matrix_weights and weights:
        r.bad("weights", "give weights either as a [weights] table or in the layers, not both")
    weights = weights or matrix_weights
    if len(weights) > MAX_WEIGHTS:
        r.bad("weights", f"too many weights ({len(weights)}; at most {MAX_WEIGHTS})")
    if not weights and not r.problems:
        r.bad("weights", "missing: give a [weights] table or a weights matrix in each layer")
    _check_connected(r, layers, weights)
    return layers, weights


def _read_parameter(
    r: Reader, raw: Mapping[str, Any], where: str, activation: str | None
) -> float | None:
    """The layer's activation parameter (``negative_slope`` of a leaky ReLU), if it has one;
    a parameter key for another activation is an error."""
    act = ACTIVATIONS.get(activation) if isinstance(activation, str) else None
    for key in sorted(k for k in raw if k in LAYER_KEYS - _PLAIN_LAYER_KEYS):
        if act is None or act.parameter != key:
            if act is not None:
                owner = next(a.name for a in ACTIVATIONS.values() if a.parameter == key)
                r.bad(f"{where}.{key}", f"applies only to activation = '{owner}'")
            continue
        value = r.number(raw[key], f"{where}.{key}")
        lo, hi, words = act.parameter_range
        if value is not None and r.check(lo < value < hi, f"{where}.{key}", words):
            return value
    return None


_PLAIN_LAYER_KEYS = {"name", "units", "prefix", "activation", "bias", "weights", "weight_names"}


def _read_units(
    r: Reader, raw: Mapping[str, Any], where: str, li: int, count: int
) -> tuple[str, ...]:
    units = raw.get("units")
    if units is None:
        r.bad(f"{where}.units", "missing: a list of unit names or a count")
        return ()
    if isinstance(units, int) and not isinstance(units, bool):
        if not 1 <= units <= MAX_UNITS:
            r.bad(f"{where}.units", f"must be between 1 and {MAX_UNITS}")
            return ()
        default_prefix = (
            "i" if li == 0 else "o" if li == count - 1 else ("h" if count == 3 else f"h{li}_")
        )
        prefix = raw.get("prefix", default_prefix)
        if not isinstance(prefix, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,15}", prefix):
            r.bad(f"{where}.prefix", "must be a short name such as 'h' or 'x'")
            return ()
        names = tuple(f"{prefix}{k}" for k in range(1, units + 1))
        for n in (names[0], names[-1]):
            if r.name(n, f"{where}.prefix") is None:
                return ()
        return names
    if "prefix" in raw:
        r.bad(f"{where}.prefix", "applies only when units is a count, such as units = 3")
    if not isinstance(units, list) or not units:
        r.bad(f"{where}.units", "must be a non-empty list of unit names or a count")
        return ()
    if len(units) > MAX_UNITS:
        r.bad(f"{where}.units", f"too many units (at most {MAX_UNITS})")
        return ()
    got = [r.name(u, f"{where}.units[{j}]") for j, u in enumerate(units)]
    return tuple(n for n in got if n is not None)


def _read_bias(
    r: Reader, raw: Any, where: str, units: tuple[str, ...]
) -> tuple[tuple[str, ...] | None, tuple[float, ...] | None]:
    table = r.table(raw, where)
    if table is None:
        return None, None
    if "name" in table:
        r.keys(table, where, {"name", "value"})
        name = r.name(table["name"], f"{where}.name")
        value = r.number(table.get("value"), f"{where}.value") if "value" in table else None
        if "value" not in table:
            r.bad(f"{where}.value", "missing: the bias value")
        if name is None or value is None:
            return None, None
        return (name,) * len(units), (value,) * len(units)
    if "names" in table or "values" in table:
        r.keys(table, where, {"names", "values"})
        names, values = table.get("names"), table.get("values")
        if not isinstance(names, list) or not isinstance(values, list):
            r.bad(where, "a per-unit bias needs lists 'names' and 'values'")
            return None, None
        if len(names) != len(units) or len(values) != len(units):
            r.bad(where, f"needs one name and one value per unit ({len(units)})")
            return None, None
        got_names = r.each(names, f"{where}.names", r.name)
        got_values = r.each(values, f"{where}.values", r.number)
        if got_names is None or got_values is None:
            return None, None
        if len(set(got_names)) != len(got_names):
            r.bad(
                f"{where}.names", "per-unit bias names must differ (use 'name' for a shared bias)"
            )
            return None, None
        return tuple(got_names), tuple(got_values)
    r.bad(where, "give {name, value} for a shared bias or {names, values} for one per unit")
    return None, None


def _read_matrix(
    r: Reader,
    raw: Mapping[str, Any],
    where: str,
    li: int,
    sources: tuple[str, ...],
    targets: tuple[str, ...],
) -> list[Weight]:
    """The compact form: rows are this layer's units, columns the previous layer's units."""
    spec = raw["weights"]
    shape = (len(targets), len(sources))
    if isinstance(spec, dict):
        r.keys(spec, f"{where}.weights", {"random", "seed"})
        rng_range = r.pair(spec.get("random"), f"{where}.weights.random")
        seed = r.integer(spec.get("seed", 0), f"{where}.weights.seed", 0, 2**32 - 1)
        if rng_range is None or seed is None:
            return []
        import numpy as np  # only here: the app's first paint must not wait for NumPy

        rng = np.random.default_rng(seed)
        matrix: list[list[float]] = rng.uniform(*rng_range, size=shape).tolist()
    elif isinstance(spec, list):
        if len(spec) != shape[0] or not all(isinstance(row, list) for row in spec):
            r.bad(f"{where}.weights", f"must have one row per unit of this layer ({shape[0]})")
            return []
        matrix = []
        for j, row in enumerate(spec):
            if len(row) != shape[1]:
                r.bad(
                    f"{where}.weights[{j}]",
                    f"must have one entry per unit of the previous layer ({shape[1]}), "
                    f"found {len(row)}",
                )
                return []
            numbers = r.each(row, f"{where}.weights[{j}]", r.number)
            if numbers is None:
                return []
            matrix.append(numbers)
    else:
        r.bad(
            f"{where}.weights", "must be a matrix (list of rows) or {random = [lo, hi], seed = N}"
        )
        return []
    names = raw.get("weight_names")
    if names is not None:
        ok = (
            isinstance(names, list)
            and len(names) == shape[0]
            and all(isinstance(row, list) and len(row) == shape[1] for row in names)
        )
        if not ok:
            r.bad(
                f"{where}.weight_names",
                f"must have the same shape as weights ({shape[0]}×{shape[1]})",
            )
            return []
        grid: list[list[str | None]] = [
            [r.name(n, f"{where}.weight_names[{j}][{k}]") for k, n in enumerate(row)]
            for j, row in enumerate(names)
        ]
    else:
        grid = [[f"w_{t}_{s}" for s in sources] for t in targets]
        too_long = next((n for row in grid for n in row if not NAME_RE.fullmatch(n or "")), None)
        if too_long:
            r.bad(
                f"{where}.weights",
                f"the automatic name '{clip(too_long)}' is too long; "
                "give weight_names or shorter unit names",
            )
            return []
    out = []
    for j, t in enumerate(targets):
        for k, s in enumerate(sources):
            name = grid[j][k]
            if name is not None:
                out.append(Weight(name, s, t, float(matrix[j][k]), li))
    if len(out) == shape[0] * shape[1]:
        r.matrices[li] = matrix
    return out


def _read_weight_table(r: Reader, raw: Any, layers: list[Layer]) -> list[Weight]:
    if raw is None:
        return []
    table = r.table(raw, "weights")
    if table is None:
        return []
    position = {u: li for li, layer in enumerate(layers) for u in layer.units}
    weights = []
    seen_pairs: dict[tuple[str, str], str] = {}
    for name, spec in table.items():
        where = f"weights.{name}"
        checked = r.name(name, where)
        entry = r.table(spec, where)
        if checked is None or entry is None:
            continue
        r.keys(entry, where, {"from", "to", "value"})
        missing = [k for k in ("from", "to", "value") if k not in entry]
        if missing:
            r.bad(
                where,
                f"missing {', '.join(missing)} (write {{ from = ..., to = ..., value = ... }})",
            )
            continue
        source, target = entry["from"], entry["to"]
        value = r.number(entry["value"], f"{where}.value")
        ok = True
        for key, unit in (("from", source), ("to", target)):
            if not isinstance(unit, str) or unit not in position:
                r.bad(f"{where}.{key}", f"unknown unit {clip(str(unit))!r}")
                ok = False
        if not ok or value is None:
            continue
        if position[target] != position[source] + 1:
            r.bad(
                where,
                f"connects {source} (layer {position[source]}) to {target} (layer "
                f"{position[target]}); weights must go from one layer to the next",
            )
            continue
        pair = (source, target)
        if pair in seen_pairs:
            r.bad(where, f"{source} → {target} is already connected by {seen_pairs[pair]}")
            continue
        seen_pairs[pair] = name
        weights.append(Weight(name, source, target, value, position[target]))
    return weights


def _check_connected(r: Reader, layers: list[Layer], weights: list[Weight]) -> None:
    if r.problems or not weights:
        return
    incoming = {w.target for w in weights}
    for li, layer in enumerate(layers[1:], start=1):
        for u in layer.units:
            if u not in incoming and layer.bias_names is None:
                r.bad(f"layers[{li}].units", f"unit '{u}' has no incoming weight and no bias")


def read_unit_values(
    r: Reader, raw: Any, where: str, units: tuple[str, ...]
) -> tuple[float, ...] | None:
    if raw is None:
        r.bad(where, f"missing: one value for each of {', '.join(units[:6])}")
        return None
    if isinstance(raw, list):
        if len(raw) != len(units):
            r.bad(where, f"needs {len(units)} values (one per unit), found {len(raw)}")
            return None
        values = r.each(raw, where, r.number)
    elif isinstance(raw, dict):
        r.keys(raw, where, set(units))
        for u in units:
            if u not in raw:
                r.bad(f"{where}.{u}", "missing")
        got = [r.number(raw[u], f"{where}.{u}") for u in units if u in raw]
        values = [v for v in got if v is not None]
        values = values if len(values) == len(units) else None
    else:
        r.bad(where, "must be a table (unit = value) or a list in unit order")
        return None
    return None if values is None else tuple(values)


def read_example(
    r: Reader, raw: Any, where: str, layers: list[Layer]
) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """One example of a batch or a training set, ``{inputs = [...], targets = [...]}``: its
    inputs and targets, None (with the problems said) if it cannot be read."""
    if not isinstance(raw, dict):
        r.bad(where, "must be a table {inputs = [...], targets = [...]}")
        return None
    r.keys(raw, where, {"inputs", "targets"})
    x = read_unit_values(r, raw.get("inputs"), f"{where}.inputs", layers[0].units)
    t = read_unit_values(r, raw.get("targets"), f"{where}.targets", layers[-1].units)
    return None if x is None or t is None else (x, t)


def check_loss(
    r: Reader, loss_name: str | None, layers: list[Layer], targets: tuple[float, ...] | None
) -> None:
    """The loss and the output layer must go together, and the targets must suit the loss.
    (An unknown loss or activation is reported where it is read, and is None here.)"""
    loss = LOSSES[loss_name] if loss_name is not None else None
    act = ACTIVATIONS[layers[-1].activation] if layers[-1].activation is not None else None
    if act is None:
        return
    if act.only_loss is not None and loss_name != act.only_loss:
        r.bad("network.loss", f"a {act.name} output layer is taught with loss = '{act.only_loss}'")
    if loss is None:
        return
    if loss.outputs is not None and act.name not in loss.outputs:
        r.bad("network.loss", f"{loss.name} needs a {' or '.join(loss.outputs)} output layer")
    if targets is None:
        return
    if loss.unit_targets:
        for k, t in enumerate(targets):
            if not 0 <= t <= 1:
                r.bad(f"targets.{layers[-1].units[k]}", "must lie between 0 and 1 for this loss")
    if act.layer_wide and act.only_loss == loss.name and abs(sum(targets) - 1) > 1e-9:
        r.bad(
            "targets",
            f"must add up to 1 for {act.name} with {loss.words} (they add to {sum(targets):g})",
        )


def check_namespace(
    r: Reader,
    layers: list[Layer],
    weights: list[Weight],
    errors: tuple[str, ...],
    total: str,
    decay: bool = False,
    batch: bool = False,
) -> None:
    owners: dict[str, str] = {}

    def claim(name: str, what: str, where: str) -> None:
        if name in owners and not (what.startswith("unit") and owners[name] == what):
            r.bad(where, f"'{name}' is already the name of {owners[name]}")
        owners.setdefault(name, what)

    for li, layer in enumerate(layers):
        for u in layer.units:
            claim(u, f"unit {u}", f"layers[{li}].units")
    for w in weights:
        claim(w.name, f"weight {w.name}", f"weights.{w.name}")
    for li, layer in enumerate(layers):
        for b in dict.fromkeys(layer.bias_names or ()):
            if b in owners and owners[b].startswith("bias"):
                r.bad(f"layers[{li}].bias", f"bias name '{b}' is used in two layers")
            else:
                claim(b, f"bias {b}", f"layers[{li}].bias")
    for e in (*errors, total):
        claim(e, f"error {e}", "errors")
    if batch and BATCH_LOSS in owners:
        r.bad(
            "batch",
            f"the batch loss's step is called {BATCH_LOSS}, which is "
            f"already the name of {owners[BATCH_LOSS]}; rename that",
        )
    if decay and DECAY_TERM in owners:
        r.bad(
            "network.weight_decay",
            f"the decay term's step is called {DECAY_TERM}, which is "
            f"already the name of {owners[DECAY_TERM]}; rename that",
        )
