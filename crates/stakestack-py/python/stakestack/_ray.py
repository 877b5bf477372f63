"""The Ray backend of ``stakestack.sweep``: one task per chunk of grid points."""

from __future__ import annotations

import json
from typing import Any


def _points(text: str, keys: list[str], points: list[tuple[int, list[str]]], file: str | None,
            seed: int | None, paths: int | None) -> list[str]:
    from . import _native

    return _native.sweep(text, keys, points, file, seed, paths)


def sweep_on_ray(text: str, keys: list[str], points: list[tuple[int, list[str]]], file: str | None,
                 seed: int | None, paths: int | None, address: str | None, chunk: int) -> list[dict[str, Any]]:
    """Runs ``points`` as Ray tasks and returns their rows in point order.

    Connects to ``address`` if given; else uses the cluster this process is connected to, or
    starts a local one for the call (and shuts it down afterwards). The scenario text travels
    with the tasks; data files it names are read by the workers next to the scenario's file.
    """
    import ray

    started = False
    if address is not None:
        if not ray.is_initialized():
            ray.init(address=address)
            started = True
    elif not ray.is_initialized():
        ray.init()
        started = True
    try:
        task = ray.remote(_points)
        text_ref = ray.put(text)
        chunks = [points[i:i + chunk] for i in range(0, len(points), chunk)]
        # Data files are read next to the scenario file, on the worker: a cluster on other
        # machines needs the same path there, or the scenario text with no data files.
        refs = [task.remote(text_ref, keys, c, file, seed, paths) for c in chunks]
        rows = [json.loads(r) for part in ray.get(refs) for r in part]
    finally:
        if started:
            ray.shutdown()
    return sorted(rows, key=lambda r: r["point"])
