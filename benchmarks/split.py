"""Timings of the split engine on realistic sizes. Run: .venv/bin/python benchmarks/split.py

Not a test: it prints wall-clock seconds (best of a few runs) next to the goals.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from attain.split.calc import Axis, Lock, Shares, split
from attain.split.rounding import controlled_round, largest_remainder


def best_of(runs: int, action: Callable[[], object]) -> float:
    """The fastest of `runs` wall-clock timings of `action`, in seconds."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def rounding_2d(reps: int = 10_000, months: int = 12) -> float:
    """Controlled rounding of a fitted reps x months table (units of 100 yuan)."""
    rng = np.random.default_rng(7)
    rep_targets = largest_remainder(120_000_000, rng.gamma(2.0, 1.0, reps), 1)
    month_targets = largest_remainder(120_000_000, rng.uniform(0.5, 1.5, months), 1)
    seed = rng.gamma(2.0, 1.0, (reps, months))
    for _ in range(100):
        seed *= (month_targets / seed.sum(axis=0))[None, :]
        seed *= (rep_targets / seed.sum(axis=1))[:, None]
    rounded = controlled_round(seed, rep_targets, month_targets)
    assert (rounded.sum(axis=1) == rep_targets).all() and (rounded.sum(axis=0) == month_targets).all()
    return best_of(5, lambda: controlled_round(seed, rep_targets, month_targets))


def split_2d(reps: int = 10_000, months: int = 12) -> float:
    """Full split of reps x months with a history prior: margins, IPF, rounding."""
    rng = np.random.default_rng(5)
    axes = [
        Axis("rep", tuple(f"rep{i:05d}" for i in range(reps)), Shares.WEIGHTS, tuple(rng.gamma(2.0, 1.0, reps))),
        Axis("month", tuple(f"2026-{m + 1:02d}" for m in range(months)), Shares.HISTORY),
    ]
    prior = rng.gamma(2.0, 1.0, (reps, months))
    return best_of(5, lambda: split(12_000_000_000, 100, axes, prior=prior))


def ipf_and_rounding_3d(reps: int = 5_000, months: int = 12, products: int = 50) -> tuple[float, int]:
    """Full split: history prior raked to three margins, then rounded with exact margins."""
    rng = np.random.default_rng(11)
    axes = [
        Axis("rep", tuple(f"rep{i:05d}" for i in range(reps)), Shares.WEIGHTS, tuple(rng.gamma(2.0, 1.0, reps))),
        Axis("month", tuple(f"2026-{m + 1:02d}" for m in range(months)), Shares.HISTORY),
        Axis("product", tuple(f"p{p:03d}" for p in range(products)), Shares.WEIGHTS, tuple(rng.uniform(0.1, 1, products))),
    ]
    prior = rng.gamma(1.5, 1.0, (reps, months, products))
    result = split(12_000_000_000, 100, axes, prior=prior)
    assert result.cells.sum() == 12_000_000_000
    return best_of(3, lambda: split(12_000_000_000, 100, axes, prior=prior)), result.iterations


def locks_3d(reps: int = 5_000, months: int = 12, products: int = 50) -> float:
    """Full split without history but with a month lock and 200 cell locks (IPF on the product)."""
    rng = np.random.default_rng(13)
    axes = [
        Axis("rep", tuple(f"rep{i:05d}" for i in range(reps)), Shares.WEIGHTS, tuple(rng.gamma(2.0, 1.0, reps))),
        Axis("month", tuple(f"2026-{m + 1:02d}" for m in range(months))),
        Axis("product", tuple(f"p{p:03d}" for p in range(products)), Shares.WEIGHTS, tuple(rng.uniform(0.1, 1, products))),
    ]
    locks = [Lock.of({"month": "2026-12"}, 2_000_000_000)] + [
        Lock.of({"rep": f"rep{i:05d}", "month": "2026-01", "product": "p001"}, 100 * int(rng.integers(0, 100)))
        for i in range(200)
    ]
    return best_of(3, lambda: split(12_000_000_000, 100, axes, locks=locks))


def main() -> None:
    seconds = rounding_2d()
    print(f"2-D controlled rounding, 10,000 reps x 12 months:           {seconds:6.3f} s  (goal < 1 s)")
    seconds = split_2d()
    print(f"Full split with history, 10,000 reps x 12 months:          {seconds:6.3f} s")
    seconds, iterations = ipf_and_rounding_3d()
    print(f"IPF + rounding, 5,000 x 12 x 50 = 3,000,000 cells ({iterations} it): {seconds:6.3f} s  (goal < 3 s)")
    seconds = locks_3d()
    print(f"Same size, no history, 201 locks:                            {seconds:6.3f} s")


if __name__ == "__main__":
    main()
