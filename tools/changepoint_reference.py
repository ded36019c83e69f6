#!/usr/bin/python3
"""changepoint_reference.py: an independent check of harness/analysis/changepoint.c's arithmetic.

A second implementation of the change-point search docs/trends.md describes (E-Divisive means in overlapping
windows, a Student's t-test at ten times the level to keep a split, then the weakest points merged away), written
with NumPy and SciPy instead of prefix tables and our own t distribution: the energy divergence from the full
matrix of pairwise distances, the t-test from scipy.stats.ttest_ind. It runs once over fixed generated series and
writes them with their change points to tests/fixtures/changepoints/reference.txt, which changepoint_test reads:
the C code must find the same points, with the same means and p-values.

Run by `make changepoint-fixtures` (which installs python3-numpy and python3-scipy from Debian first); never by
make test.
"""
import sys
import warnings

import numpy as np
import scipy
from scipy import stats

WINDOW = 30
MAX_P = 0.001
MIN_SEGMENT = 3


def divergence(w, a, t, k):
    """Matteson and James's Q of w[a:t] against w[t:k], alpha 1."""
    x, y = w[a:t], w[t:k]
    nx, ny = len(x), len(y)
    between = np.abs(np.subtract.outer(x, y)).mean()
    within_x = np.abs(np.subtract.outer(x, x)).sum() / (nx * (nx - 1)) if nx > 1 else 0.0
    within_y = np.abs(np.subtract.outer(y, y)).sum() / (ny * (ny - 1)) if ny > 1 else 0.0
    return nx * ny / (nx + ny) * (2 * between - within_x - within_y)


def best_split(w, a, b, min_seg):
    """The split t of w[a:b] (min_seg points a side) whose sides, against the best end k in (t, b], differ most."""
    best = None
    for t in range(a + min_seg, b - min_seg + 1):
        for k in range(t + 1, b + 1):
            q = divergence(w, a, t, k)
            if best is None or q > best[1]:
                best = (t, q)
    return best


def judge(x, a, t, b):
    """The change point at t between x[a:t] and x[t:b]: means and the two-sided Student's t-test p."""
    before, after = x[a:t], x[t:b]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant side: SciPy warns of its precision, the p is what it is
        p = stats.ttest_ind(before, after, equal_var=True).pvalue
    return {"index": t, "mean_before": float(np.mean(before)), "mean_after": float(np.mean(after)),
            "p": float(p) if np.isfinite(p) else float("nan")}


def split_window(x, s, e, min_seg, weak_p, found):
    w = x[s:e]
    bounds = [0, e - s]
    last = 0
    while True:
        best = None
        for lo, hi in zip(bounds, bounds[1:]):
            split = best_split(w, lo, hi, min_seg)
            if split and (best is None or split[1] > best[1]):
                best = (split[0], split[1], lo, hi)
        if best is None:
            break
        t, _, lo, hi = best
        if not judge(w, lo, t, hi)["p"] < weak_p:
            break
        bounds = sorted(set(bounds) | {t})
        found.add(s + t)
        last = max(last, s + t)
    return last


def magnitude(c):
    f = abs(c["mean_after"] / c["mean_before"] - 1) if c["mean_before"] else 0.0
    r = abs(c["mean_before"] / c["mean_after"] - 1) if c["mean_after"] else 0.0
    return max(f, r)


def change_points(x, window=WINDOW, max_p=MAX_P, min_change=0.0, min_seg=MIN_SEGMENT):
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 2 * min_seg:
        return []
    weak_p = max_p * 10 if max_p < 0.05 else max_p * 2 if max_p < 0.5 else max_p
    found, start, step = set(), 0, window // 2
    while start < n:
        last = split_window(x, start, min(start + window, n), min_seg, weak_p, found)
        start = last if last > start + step else start + step
    idx = sorted(found)

    def judged():
        return [judge(x, idx[i - 1] if i else 0, idx[i], idx[i + 1] if i + 1 < len(idx) else n)
                for i in range(len(idx))]

    cps = judged()
    while cps:
        weakest = 0  # the least significant (a p that is not a number first), the first of equals
        for i in range(1, len(cps)):
            if cps[i]["p"] > cps[weakest]["p"] or np.isnan(cps[i]["p"]):
                weakest = i
        if cps[weakest]["p"] < max_p:
            weakest = min(range(len(cps)), key=lambda i: (magnitude(cps[i]), i))
            if magnitude(cps[weakest]) >= min_change:
                break
        del idx[weakest]
        cps = judged()
    return cps


def series():
    """The fixed series: (name, values, min_change). Levels of 100 with normal noise at the CVs a run's point has
    here (1-3%), steps, drifts, outliers and nothing at all, 20-100 nights."""
    rng = np.random.default_rng(20261207)

    def noise(n, cv):
        return rng.normal(0.0, cv / 100.0, n)

    out = []
    for cv in (1, 2, 3):
        for step in (2, 5, 10):
            n, at = 60, 40
            level = np.where(np.arange(n) < at, 100.0, 100.0 * (1 + step / 100.0))
            out.append((f"step{step}-cv{cv}", level * (1 + noise(n, cv)), 0.0))
    n = 100
    out.append(("none-cv2-100", 100 * (1 + noise(n, 2)), 0.0))
    out.append(("none-cv3-100", 100 * (1 + noise(n, 3)), 0.0))
    out.append(("drift-1pct-a-night", 100 * (1.01 ** np.arange(40)) * (1 + noise(40, 1)), 0.0))
    v = 100 * (1 + noise(50, 2))
    v[25] *= 0.7
    out.append(("one-bad-night", v, 0.0))
    level = np.concatenate([np.full(30, 100.0), np.full(25, 110.0), np.full(25, 95.0)])
    out.append(("up-then-down", level * (1 + noise(80, 1.5)), 0.0))
    level = np.where(np.arange(80) < 31, 100.0, 94.0)
    out.append(("step-at-a-window-edge", level * (1 + noise(80, 1)), 0.0))
    level = np.where(np.arange(60) < 30, 100.0, 102.0)
    out.append(("small-step-cv02", level * (1 + noise(60, 0.2)), 0.0))
    out.append(("small-step-cv02-min5", level * (1 + noise(60, 0.2)), 5.0))
    level = np.where(np.arange(20) < 17, 100.0, 90.0)
    out.append(("newest-three", level * (1 + noise(20, 1)), 0.0))
    out.append(("constant", np.full(12, 42.0), 0.0))
    return out


def main(path):
    with open(path, "w") as f:
        f.write("# Made by tools/changepoint_reference.py (NumPy %s, SciPy %s): each series' values, then the change "
                "points an independent implementation finds (index, mean before, mean after, p), with the default "
                "window %d, level %g and side of %d runs. changepoint_test requires the same.\n"
                % (np.__version__, scipy.__version__, WINDOW, MAX_P, MIN_SEGMENT))
        for name, values, min_change in series():
            values = [float("%.10g" % v) for v in values]
            cps = change_points(values, min_change=min_change / 100.0)
            f.write("series %s %d %g\n" % (name, len(values), min_change))
            f.write("values %s\n" % " ".join("%.10g" % v for v in values))
            for c in cps:
                f.write("cp %d %.17g %.17g %.17g\n" % (c["index"], c["mean_before"], c["mean_after"], c["p"]))
            f.write("end\n")
            found = ", ".join("%d (%+.1f%%, p %.2g)" % (c["index"], 100 * (c["mean_after"] / c["mean_before"] - 1),
                                                         c["p"]) for c in cps)
            print("%-24s %3d nights: %s" % (name, len(values), found or "none"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/changepoints/reference.txt")
