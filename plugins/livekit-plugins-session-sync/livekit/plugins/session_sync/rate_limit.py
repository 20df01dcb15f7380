"""Per-sender token buckets, so one chatty client cannot starve the session."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        *,
        rate_per_second: float,
        burst: int,
        max_senders: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate_per_second
        self._burst = float(burst)
        self._clock = clock
        self._max_senders = max_senders
        # sender -> (tokens, last refill); bounded LRU so identities cannot grow it without limit
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, sender: str) -> bool:
        now = self._clock()
        tokens, last = self._buckets.pop(sender, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        allowed = tokens >= 1.0
        self._buckets[sender] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self._max_senders:
            self._buckets.popitem(last=False)
        return allowed
