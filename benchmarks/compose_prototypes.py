"""Benchmark (issue 7): composing the prototypes of 10 splits of an ActivityNet-sized problem
(100 unseen x 605 seen classes) with pulp/CBC, and the agreement with an optimum found another way.

Class vectors are 50-d (GloVe's size), drawn around 40 topic centres so that classes have near
neighbours as real class names do. For the variants whose rows are independent, the other optimum
is each row's best d allowed cells by sorting; for the capacity variant, whose rows are coupled,
it is scipy's MILP solver (HiGHS).

    .venv/bin/python benchmarks/compose_prototypes.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from zsar.zeroshot.metrics import unit
from zsar.zeroshot.prototypes import VARIANTS, allowed_cells, compose

N_SEEN, N_TARGET, N_UNSEEN, N_SPLITS, DIM = 605, 200, 100, 10, 50
K, EPSILON, D, CAPACITY = 5, 0.5, 3, 2


def row_optimum(S, allowed, d):
    """Independent rows: the sum of each row's d largest allowed similarities."""
    values = np.where(allowed, S, 0.0)
    if d is None:
        return values.sum()
    return np.sort(values, axis=1)[:, -d:].sum()


def highs_optimum(S, allowed, d, capacity):
    cells = np.argwhere(allowed)
    n = len(cells)
    rows = np.zeros((S.shape[0], n))
    rows[cells[:, 0], np.arange(n)] = 1
    cols = np.zeros((S.shape[1], n))
    cols[cells[:, 1], np.arange(n)] = 1
    result = milp(-S[allowed], integrality=np.ones(n), bounds=Bounds(0, 1),
                  constraints=[LinearConstraint(rows, ub=d), LinearConstraint(cols, ub=capacity)])
    return -result.fun


def main() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, DIM))
    seen_vectors = unit(centres[rng.integers(0, 40, N_SEEN)] + 0.8 * rng.normal(size=(N_SEEN, DIM)))
    target_vectors = unit(centres[rng.integers(0, 40, N_TARGET)] + 0.8 * rng.normal(size=(N_TARGET, DIM)))
    seen_prototypes = unit(rng.normal(size=(N_SEEN, 512)))
    splits = [rng.choice(N_TARGET, N_UNSEEN, replace=False) for _ in range(N_SPLITS)]
    print(f"{N_SPLITS} splits of {N_UNSEEN} unseen x {N_SEEN} seen classes; K={K}, epsilon={EPSILON}, d={D}, "
          f"capacity={CAPACITY}")
    print(f"{'variant':<26}{'CBC total (s)':>14}{'per split (s)':>15}{'max |objective gap|':>21}  other optimum")
    for variant, use in VARIANTS.items():
        elapsed, gaps = 0.0, []
        for unseen in splits:
            S = target_vectors[unseen] @ seen_vectors.T
            started = time.perf_counter()
            _, A, relaxed = compose(S, seen_prototypes, K=K, d=D, epsilon=EPSILON, variant=variant, capacity=CAPACITY)
            elapsed += time.perf_counter() - started
            allowed = allowed_cells(S, K, EPSILON, variant) & (S > 0)
            ours = (A[~relaxed] * S[~relaxed]).sum()  # relaxed rows are filled after the program
            if use["capacity"]:
                other = highs_optimum(S, allowed, D, CAPACITY)
            else:
                other = row_optimum(S, allowed, D if use["III"] else None)
            gaps.append(abs(ours - other))
        how = "scipy milp (HiGHS)" if use["capacity"] else "per-row sort"
        print(f"{variant:<26}{elapsed:>14.2f}{elapsed / N_SPLITS:>15.3f}{max(gaps):>21.2e}  {how}")


if __name__ == "__main__":
    main()
