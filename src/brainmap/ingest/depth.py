"""Bit depth and display window of ingested images, from their full-resolution histograms.

The rule (docs/ingest.md, "Bit depth"): 8-bit data is recorded as 8; 16-bit data as 12 when
every sample fits 0..4095, else 16. An image's scale is 4095 up to 12 bits and 65535 at 16.
An Equalization is computed only above 8 bits: the 0.1 / 99.9 percentiles of each channel over
the data set's new deep images, on their scale, so that applying it as ``range`` stretches the
data as a percentile stretch would.
"""

from __future__ import annotations

import numpy as np

SIXTEEN_BIT_SCALE = 65535
PER_MILLE = (1, 999)  # the 0.1 and 99.9 percentiles


def largest_sample(histogram: np.ndarray) -> int:
    """The largest value with a count in a bins x channels histogram (0 when empty)."""
    used = np.flatnonzero(histogram.sum(axis=1))
    return int(used[-1]) if used.size else 0


def _percentile_bounds(counts: np.ndarray, scale: int) -> tuple[int, int]:
    cumulative = np.cumsum(counts)
    total = int(cumulative[-1])
    # The smallest value whose cumulative count reaches the fraction (numpy's inverted_cdf),
    # in whole numbers so no rounding moves a bound.
    low, high = np.searchsorted(cumulative, [-(-total * p // 1000) for p in PER_MILLE])
    low = min(int(low), scale - 1)
    return low, min(max(int(high), low + 1), scale)


def _column(histogram: np.ndarray, channel: int) -> np.ndarray | None:
    """The counts standing for display channel `channel` (grey stands for all three)."""
    if channel < histogram.shape[1]:
        return histogram[:, channel]
    return histogram[:, 0] if histogram.shape[1] == 1 else None


class ChannelCounts:
    """Running counts of each display channel's values over deep (16-bit) images, so that a
    batch's Equalization needs no image's histogram kept. A one-channel image counts for all
    three channels."""

    def __init__(self) -> None:
        self.counts = np.zeros((SIXTEEN_BIT_SCALE + 1, 3), dtype=np.int64)

    def add(self, histogram: np.ndarray) -> None:
        """Add a 65536 x channels histogram."""
        for channel in range(3):
            column = _column(histogram, channel)
            if column is not None:
                self.counts[:, channel] += column

    def window(self, scale: int) -> tuple[int, ...]:
        """rl,ru,gl,gu,bl,bu: per-channel percentile bounds; a channel no image has is
        0..scale."""
        bounds: list[int] = []
        for channel in range(3):
            total = self.counts[:, channel]
            bounds += _percentile_bounds(total, scale) if total.any() else (0, scale)
        return tuple(bounds)
