"""Running, robust z-scores: how unusual a number is for this channel.

We keep the last few minutes of a signal and measure a new value against them: how far it is
from the middle (the median), in units of the usual spread (the MAD). One loud moment hardly
moves either, so it still stands out. Until enough seconds were seen (the warm-up), the score
is 0: we do not know yet what is normal here.

Loudness needs a twist: a stream is two-sided, quiet pauses and talk. Measured from the
median, every sentence would look loud. So for loudness we measure from the usual *loud* level
(the 90th percentile) in units of the spread of the louder half: talking is normal, a roar
is not.
"""

from __future__ import annotations

from collections import deque

import numpy as np

MAD_TO_SD = 1.4826
"""MAD times this is the standard deviation, for a normal bell curve."""


class RobustZ:
    """Scores each new value against the ones before it."""

    def __init__(self, window: int = 300, warmup: int = 20, floor: float = 1e-3,
                 limit: float = 8.0, loud_side: bool = False) -> None:
        self.values: deque[float] = deque(maxlen=window)
        self.warmup = warmup
        self.floor = floor
        self.limit = limit
        self.loud_side = loud_side

    def score(self, value: float | None) -> float | None:
        """The z-score of `value` against the history, then add it. None stays None."""
        if value is None:
            return None
        z = self.peek(value)
        self.values.append(value)
        return z

    def peek(self, value: float) -> float:
        """The z-score of `value` without adding it to the history."""
        if len(self.values) < self.warmup:
            return 0.0
        history = np.fromiter(self.values, dtype=float)
        median = float(np.median(history))
        if self.loud_side:
            center = float(np.percentile(history, 90))
            history = history[history >= median]
        else:
            center = median
        middle = float(np.median(history))
        spread = max(float(np.median(np.abs(history - middle))) * MAD_TO_SD, self.floor)
        return float(np.clip((value - center) / spread, -self.limit, self.limit))
