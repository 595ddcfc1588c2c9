"""Small-sample statistics for conversion rates: Wilson intervals and a two-proportion z-test.

Pure Python (math.erfc), so no scipy at run time. Definitions are in docs/summary.md.
"""

from __future__ import annotations

import math

from funnelcli.outputs.summary import Interval

Z_95 = 1.959963984540054  # the standard normal's 97.5% quantile


def wilson_interval(successes: int, n: int, z: float = Z_95) -> Interval | None:
    """The Wilson score interval for successes/n; None when n is 0.

    centre = (p + z²/2n) / (1 + z²/n), half width = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²).
    """
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At 0% (100%) the bound is exactly 0 (1); floating point would leave a tiny residue.
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return Interval(low=low, high=high)


def two_proportion_p_value(successes_a: int, n_a: int, successes_b: int, n_b: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test; None when either n is 0.

    p̂ = (x_a + x_b) / (n_a + n_b), SE = √(p̂(1−p̂)(1/n_a + 1/n_b)), z = (x_a/n_a − x_b/n_b) / SE,
    p = erfc(|z|/√2). When SE is 0 (both rates 0% or both 100%) the rates are equal: p = 1.
    """
    if n_a <= 0 or n_b <= 0:
        return None
    pooled = (successes_a + successes_b) / (n_a + n_b)
    variance = pooled * (1 - pooled) * (1 / n_a + 1 / n_b)
    if variance <= 0:
        return 1.0
    z = (successes_a / n_a - successes_b / n_b) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))
