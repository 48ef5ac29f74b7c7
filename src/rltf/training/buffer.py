"""The online buffer: a FIFO of scored samples shared by the actor (push) and the learner (sample).

RLTF keeps the most recent programs the actor produced (paper: 6400) and trains on batches drawn
from them. Every sample carries the policy version that generated it; samples more than
``max_staleness`` versions behind the learner are dropped (and counted) so off-policy drift stays
bounded and visible. The whole buffer is checkpointed as plain JSON data.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rltf.feedback import TokenRewards
from rltf.records import RecordError, Sample


@dataclass(frozen=True)
class ScoredSample:
    """A sample and its per-token rewards r_t (with the coarse / fine / adaptive breakdown and
    the outcome, category and baseline they came from; see :class:`rltf.feedback.TokenRewards`)."""

    sample: Sample
    rewards: TokenRewards

    def __post_init__(self) -> None:
        n = len(self.sample.token_ids)
        if len(self.rewards) != n:
            raise RecordError(
                self.sample.problem_id, "rewards", f"{len(self.rewards)} rewards for {n} tokens"
            )

    @property
    def version(self) -> int:
        return self.sample.policy_version

    def to_dict(self) -> dict[str, Any]:
        return {"sample": self.sample.to_dict(), "rewards": self.rewards.to_dict()}

    @classmethod
    def from_dict(cls, d: Any, where: str = "") -> ScoredSample:
        if not isinstance(d, Mapping) or "sample" not in d or "rewards" not in d:
            raise RecordError(where, "<scored sample>", "expected {sample, rewards}")
        return cls(
            Sample.from_dict(d["sample"], where), TokenRewards.from_dict(d["rewards"], where)
        )


class ReplayBuffer:
    """Thread-safe FIFO with a capacity: pushing into a full buffer evicts the oldest samples."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"buffer capacity must be positive, got {capacity}")
        self.capacity = capacity
        self._items: deque[ScoredSample] = deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self.pushed = 0  # samples ever pushed
        self.evicted = 0  # pushed out by the capacity limit (oldest first)
        self.dropped_stale = 0  # removed for being more than max_staleness versions old

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def push(self, items: Iterable[ScoredSample]) -> None:
        with self._not_empty:
            for item in items:
                if len(self._items) >= self.capacity:
                    self._items.popleft()
                    self.evicted += 1
                self._items.append(item)
                self.pushed += 1
            self._not_empty.notify_all()

    def drop_stale(self, current_version: int, max_staleness: int | None) -> int:
        """Remove samples with ``current_version − version > max_staleness``; returns how many."""
        if max_staleness is None:
            return 0
        with self._lock:
            keep = [s for s in self._items if current_version - s.version <= max_staleness]
            dropped = len(self._items) - len(keep)
            if dropped:
                self._items = deque(keep)
                self.dropped_stale += dropped
            return dropped

    def sample(
        self, n: int, rng: random.Random, min_version: int | None = None
    ) -> list[ScoredSample]:
        """``n`` samples drawn uniformly without replacement (all of them if fewer), of those
        with ``version >= min_version`` when given."""
        with self._lock:
            items: Sequence[ScoredSample] = self._items
            if min_version is not None:
                items = [s for s in self._items if s.version >= min_version]
            idx = sorted(rng.sample(range(len(items)), min(n, len(items))))
            return [items[i] for i in idx]

    def wait_for(self, n: int, timeout: float) -> bool:
        """Block until the buffer holds at least ``n`` samples (or ``timeout`` seconds pass)."""
        with self._not_empty:
            return self._not_empty.wait_for(lambda: len(self._items) >= n, timeout=timeout)

    def snapshot(self) -> list[ScoredSample]:
        with self._lock:
            return list(self._items)

    # checkpointing: plain data only (loads without unpickling anything)

    def state_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "capacity": self.capacity,
                "pushed": self.pushed,
                "evicted": self.evicted,
                "dropped_stale": self.dropped_stale,
                "items": [s.to_dict() for s in self._items],
            }

    def load_state_dict(self, state: Mapping[str, Any], where: str = "buffer") -> None:
        items = [
            ScoredSample.from_dict(d, f"{where}: item {i}") for i, d in enumerate(state["items"])
        ]
        with self._lock:
            # A resumed run may use a different capacity: keep the newest samples that fit.
            self._items = deque(items[-self.capacity :])
            self.pushed = int(state["pushed"])
            self.evicted = int(state["evicted"]) + max(0, len(items) - self.capacity)
            self.dropped_stale = int(state["dropped_stale"])
