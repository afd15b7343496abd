"""Timing shared by the benchmark modules: calibrated batches, interleaved, best batch wins.

Each implementation's iteration count is calibrated so that one batch lasts about ``target``
seconds; batches of the implementations compared in one table then run interleaved
(A B C, A B C, ...) with a ``gc.collect()`` before each, and the best batch gives the figure
(the least disturbed run, as :mod:`timeit` recommends).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import repeat
from time import perf_counter
from typing import TypeVar

__all__ = ["batch", "calibrate"]

T = TypeVar("T")


def batch(call: Callable[[T], object], arg: T, iterations: int) -> float:
    """Seconds taken by ``iterations`` calls of ``call(arg)``."""
    start = perf_counter()
    for _ in repeat(None, iterations):
        call(arg)
    return perf_counter() - start


def calibrate(call: Callable[[T], object], arg: T, target: float) -> int:
    """An iteration count that makes one batch last about ``target`` seconds."""
    iterations = 1
    while True:
        elapsed = batch(call, arg, iterations)
        if elapsed >= target / 10:
            return max(1, math.ceil(iterations * target / elapsed))
        iterations *= 10 if elapsed < target / 100 else 2
