"""Small statistics shared by the analysis modules (closed forms, no fitting libraries).

Distribution functions come from ``scipy.special`` rather than ``scipy.stats``: the same
numerics, a fraction of the import time, which keeps ``stimwise response`` quick to start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special


def t_cdf(x: float, degrees_of_freedom: float) -> float:
    """Student-t cumulative distribution function."""
    return float(special.stdtr(degrees_of_freedom, x))


def t_quantile(probability: float, degrees_of_freedom: float) -> float:
    """Inverse of :func:`t_cdf`."""
    return float(special.stdtrit(degrees_of_freedom, probability))


@dataclass(frozen=True)
class LineFit:
    """Ordinary least squares ``y = intercept + slope · x`` with the slope's t-test."""

    n: int
    slope: float
    slope_se: float
    intercept: float
    p_decreasing: float
    """One-sided p-value of H0 slope ≥ 0 against slope < 0."""
    p_two_sided: float


def fit_line(x: np.ndarray, y: np.ndarray) -> LineFit | None:
    """OLS of ``y`` on ``x``; ``None`` when fewer than 4 points or ``x`` does not vary."""
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = np.asarray(x, float)[keep], np.asarray(y, float)[keep]
    n = x.size
    if n < 4:
        return None
    x_centred = x - x.mean()
    sxx = float(x_centred @ x_centred)
    if sxx <= 1e-12 * max(1.0, float(x @ x)):
        return None
    slope = float(x_centred @ (y - y.mean())) / sxx
    intercept = float(y.mean() - slope * x.mean())
    residuals = y - intercept - slope * x
    sigma2 = float(residuals @ residuals) / (n - 2)
    se = math.sqrt(sigma2 / sxx)
    if se == 0:
        p_down = 0.0 if slope < 0 else 1.0
        return LineFit(n, slope, se, intercept, p_down, 0.0 if slope != 0 else 1.0)
    t = slope / se
    return LineFit(
        n, slope, se, intercept, t_cdf(t, n - 2), 2 * t_cdf(-abs(t), n - 2)
    )


def mean_interval(values: np.ndarray, level: float = 0.90) -> tuple[float, float] | None:
    """Student-t interval of the mean; ``None`` below 2 values."""
    values = np.asarray(values, float)
    values = values[~np.isnan(values)]
    if values.size < 2:
        return None
    half = t_quantile(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(
        values.size
    )
    return float(values.mean() - half), float(values.mean() + half)
