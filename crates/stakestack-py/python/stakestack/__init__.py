"""stakestack from Python: run scenarios, sweeps and protocol formulas with the exact engine.

>>> import stakestack
>>> r = stakestack.run("scenarios/eth-staking-basics.toml")
>>> r.state_hash[:16]
'50bc32a64f80f5f6'
>>> r.steps.groupby("step")["stETH.rate"].median()      # one row per path and step

Exact numbers stay exact: every amount in base units (wei, wad rates, shares) is a Python
``int`` in ``summary``; floats appear only in display figures and in the ``steps`` columns.
The engine runs with the GIL released, on its own thread pool (rayon) for many paths.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Iterable, Mapping, Sequence

from . import _native
from ._errors import (
    CalcError,
    GridError,
    InvariantError,
    RunError,
    ScenarioError,
    StakestackError,
)

__all__ = [
    "run",
    "check",
    "calc",
    "calc_functions",
    "sweep",
    "RunResult",
    "StakestackError",
    "ScenarioError",
    "GridError",
    "RunError",
    "InvariantError",
    "CalcError",
]

__version__: str = _native.__version__

_INT = re.compile(r"-?[0-9]+\Z")
# Keys whose values are names or hashes, never amounts, even when they happen to be digits.
_TEXT_KEYS = {"scenario", "scenario_hash", "final_state_hash", "version", "start", "end", "date",
              "symbol", "name", "model", "account", "operator", "service", "chain", "sender",
              "action", "message", "id"}


def _exact(v: Any, key: str | None = None) -> Any:
    """Decimal-integer strings (wei, wad, base units) become ints, recursively."""
    if isinstance(v, dict):
        return {k: _exact(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [_exact(x, key) for x in v]
    if isinstance(v, str) and key not in _TEXT_KEYS and "hash" not in (key or "") and _INT.match(v):
        return int(v)
    return v


def _source(path_or_toml: str | os.PathLike[str]) -> tuple[str, str | None]:
    """(text, file): a path to a scenario file, or the TOML text itself."""
    s = os.fspath(path_or_toml)
    if "\n" in s or ("=" in s and not os.path.exists(s)):
        return s, None
    with open(s, encoding="utf-8") as f:
        return f.read(), s


def _value_text(v: Any) -> str:
    """A grid or override value as the command line's ``--set`` would take it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _overrides(overrides: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    return [(str(k), _value_text(v)) for k, v in (overrides or {}).items()]


class RunResult:
    """What a run produced.

    Attributes:
        summary: ``summary.json`` as a dict (exact amounts as ``int``; for many paths every
            figure is ``{p1, p5, p50, p95, p99, mean, min, max}`` across paths).
        state_hash: the final state hash of path 0 (or of the path run alone).
        state_hashes: every path's final state hash, in path order.
        columns: the metric columns of ``steps``.
    """

    def __init__(self, summary_json: str, columns: list[str], rows: int, path: bytes,
                 step: bytes, t: bytes, dates: list[str], values: list[bytes]) -> None:
        self.summary: dict[str, Any] = _exact(json.loads(summary_json))
        self.state_hashes: list[str] = list(self.summary.get("state_hashes", []))
        self.state_hash: str = self.state_hashes[0] if self.state_hashes else ""
        self.columns: list[str] = columns
        self._raw = (rows, path, step, t, dates, values)
        self._arrow: Any = None
        self._steps: Any = None

    @property
    def paths(self) -> int:
        """How many paths ran."""
        return len(self.state_hashes)

    @property
    def steps_arrow(self) -> Any:
        """The steps as a ``pyarrow.Table`` (the engine's buffers, wrapped without a copy)."""
        if self._arrow is None:
            import pyarrow as pa

            rows, path, step, t, dates, values = self._raw
            ints = [pa.Array.from_buffers(pa.int64(), rows, [None, pa.py_buffer(b)]) for b in (path, step, t)]
            floats = [pa.Array.from_buffers(pa.float64(), rows, [None, pa.py_buffer(b)]) for b in values]
            self._arrow = pa.Table.from_arrays(
                ints + [pa.array(dates, type=pa.string())] + floats,
                names=["path", "step", "t", "date"] + self.columns,
            )
        return self._arrow

    @property
    def steps(self) -> Any:
        """The steps as a pandas DataFrame: one row per path and step; ``path``, ``step`` and
        ``t`` (Unix seconds) are int64, ``date`` text, every metric column float64 (the same
        columns as ``steps.parquet``, see docs/outputs.md)."""
        if self._steps is None:
            self._steps = self.steps_arrow.to_pandas()
        return self._steps

    def __repr__(self) -> str:
        return (f"RunResult(scenario={self.summary.get('scenario')!r}, paths={self.paths}, "
                f"state_hash={self.state_hash[:16]!r})")


def run(path_or_toml: str | os.PathLike[str], seed: int | None = None, paths: int | None = None,
        overrides: Mapping[str, Any] | None = None, *, path: int | None = None,
        full_check_every: int = 30, paranoid: bool = False) -> RunResult:
    """Runs a scenario, as ``stakestack run`` does, and returns its result.

    Args:
        path_or_toml: a scenario file, or the scenario's TOML text.
        seed: overrides ``clock.seed``.
        paths: Monte Carlo paths (overrides ``clock.paths``).
        overrides: dotted keys and values applied to the scenario first, as
            ``stakestack sweep --set`` takes them: ``{"lst.stETH.fee": "5%", "events[0].fraction": "10%"}``.
        path: run only this path (0-based), as a failing path's error says.
        full_check_every: steps between full invariant checks (0: only at the end).
        paranoid: the full invariant check after every transaction.

    Raises:
        ScenarioError: the scenario is invalid (``line`` and ``key`` say where).
        GridError: an override key or value cannot be applied.
        RunError: a path stopped; ``InvariantError``: a path broke an invariant.
    """
    text, file = _source(path_or_toml)
    out = _native.run(text, file, seed, paths, path, _overrides(overrides), full_check_every, paranoid)
    return RunResult(*out)


def check(path_or_toml: str | os.PathLike[str], overrides: Mapping[str, Any] | None = None) -> str:
    """Validates a scenario as ``stakestack check`` does (everything a run does before its first
    step); returns a one-line description. Raises ``ScenarioError`` with the line and key."""
    text, file = _source(path_or_toml)
    return _native.check(text, file, _overrides(overrides))


def calc(fn: str, **args: Any) -> dict[str, Any]:
    """Evaluates a protocol formula, as a ``stakestack calc`` request: ``calc("math.ln_wad",
    x=10**18)``. Integer arguments may be ``int`` (sent as exact decimal strings); integer
    answers come back as ``int``. Raises ``CalcError`` with the stable code."""
    def enc(v: Any) -> Any:
        if isinstance(v, bool):
            return v
        if isinstance(v, int):
            return str(v)
        if isinstance(v, dict):
            return {k: enc(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [enc(x) for x in v]
        return v

    return _exact(json.loads(_native.calc(fn, json.dumps(enc(args)))))


def calc_functions() -> list[tuple[str, str]]:
    """Every calc function: ``(name, signature)``, as ``stakestack calc --list`` prints them."""
    return _native.calc_functions()


def _grid(grid: Mapping[str, Iterable[Any]]) -> tuple[list[str], list[list[Any]]]:
    keys = [str(k) for k in grid]
    values = [list(v) if not isinstance(v, (str, bytes)) else [v] for v in grid.values()]
    for k, v in zip(keys, values):
        if not v:
            raise GridError(f"grid key `{k}` has no values", key=k)
    points: list[list[Any]] = [[]]
    for vs in values:  # the first key varies slowest, as `stakestack sweep`
        points = [p + [v] for p in points for v in vs]
    return keys, points


def _frame(keys: list[str], points: list[list[Any]], rows: Sequence[dict[str, Any]]) -> Any:
    import pandas as pd

    out = []
    for p, r in zip(points, rows):
        rec: dict[str, Any] = {"point": r["point"]}
        rec.update(dict(zip(keys, p)))
        for label, v in r["figures"].items():
            if isinstance(v, dict):
                for q in ("p5", "p50", "p95"):
                    rec[f"{label}.{q}"] = _float(v.get(q))
            else:
                rec[label] = _float(v)
        rec["paths"] = r["paths"]
        rec["seed"] = r["seed"]
        rec["state_hash"] = r["state_hash"]
        out.append(rec)
    return pd.DataFrame(out)


def _float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def sweep(scenario: str | os.PathLike[str], grid: Mapping[str, Iterable[Any]], paths: int | None = None,
          seed: int | None = None, backend: str = "local", address: str | None = None,
          chunk: int = 1) -> Any:
    """Runs the cartesian grid of scenario values, each point with its own paths, all with the
    same seed, as ``stakestack sweep`` does; returns a pandas DataFrame with one row per point.

    Columns: ``point``, one per grid key (the values given), the key figures (floats; for many
    paths ``<figure>.p5/.p50/.p95``), ``paths``, ``seed`` and ``state_hash`` (the path's final
    state hash, or for many paths BLAKE3 over their hashes joined by newlines).

    Args:
        scenario: a scenario file or its TOML text.
        grid: dotted keys (as ``--set``) to lists of values:
            ``{"clock.seed": [1, 2], "lending.morpho[0].lltv": ["80%", "86%"]}``.
        paths: paths per point (default: the scenario's ``clock.paths``).
        seed: overrides ``clock.seed`` (unless the grid sets it).
        backend: ``"local"`` runs every point here on the engine's rayon pool; ``"ray"``
            submits one Ray task per ``chunk`` points to the cluster at ``address``
            (``ray.init(address=...)``), to the one this process is already connected to, or
            to a local cluster started for the call. Both give the same numbers.
        chunk: points per Ray task.

    Raises:
        GridError, ScenarioError: a key, a value or a point is invalid — before any point runs.
        RunError, InvariantError: a point's path failed (``point`` names it).
    """
    text, file = _source(scenario)
    keys, points = _grid(grid)
    indexed = [(k, [_value_text(v) for v in p]) for k, p in enumerate(points)]
    if backend == "local":
        rows = [json.loads(r) for r in _native.sweep(text, keys, indexed, file, seed, paths)]
    elif backend == "ray":
        from ._ray import sweep_on_ray

        _native.sweep_check(text, keys, indexed, file, seed, paths)
        rows = sweep_on_ray(text, keys, indexed, file, seed, paths, address, max(1, int(chunk)))
    else:
        raise ValueError(f"backend must be 'local' or 'ray', not {backend!r}")
    return _frame(keys, points, rows)
