"""Which model answers a request, and which others score it (`deployment.traffic`).

- champion: `@champion` answers every request;
- canary (A/B): a request whose key hashes below `challenger_share` goes to `@challenger`. The hash
  is SHA-256 of the key (Python's `hash()` is salted per process): a customer meets the same model
  on every request, in every server process and after every restart;
- shadow: `@challenger` also scores every request, off the answer's path; `@champion` answers.

Without a loaded challenger every strategy is "champion": the server never fails a request
because the challenger is missing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..config import TrafficConfig
from ..registry import CHALLENGER, CHAMPION  # a role is the alias of the model that plays it


def bucket(key: object) -> float:
    """A key's place in [0, 1): the same for the same key everywhere, uniform over many keys."""
    digest = hashlib.sha256(str(key).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class Route:
    answer: str  # the role whose scores are returned
    shadow: str | None = None  # a role that also scores the request, after the answer


@dataclass(frozen=True)
class Router:
    strategy: str  # the strategy in force: "champion" when the challenger is not loaded
    share: float = 0.0

    @classmethod
    def of(cls, traffic: TrafficConfig, challenger_loaded: bool) -> Router:
        if not challenger_loaded:
            return cls("champion")
        return cls(traffic.strategy, traffic.challenger_share)

    @property
    def needs_key(self) -> bool:
        return self.strategy == "canary"

    def route(self, key: object | None) -> Route:
        if self.strategy == "shadow":
            return Route(CHAMPION, shadow=CHALLENGER)
        if self.strategy == "canary" and bucket(key) < self.share:
            return Route(CHALLENGER)
        return Route(CHAMPION)
