"""The online FIFO buffer: capacity, staleness filter, sampling and a JSON round trip."""

import json
import random
import threading

import pytest

from rltf.feedback import Baseline, TokenRewards
from rltf.records import RecordError, Sample
from rltf.training.buffer import ReplayBuffer, ScoredSample


def scored(i: int, version: int = 0, n: int = 2) -> ScoredSample:
    sample = Sample(
        problem_id=f"p{i}",
        prompt_ids=(1, 2),
        token_ids=tuple(range(3, 3 + n)),
        text="x" * n,
        offsets=tuple((j, j + 1) for j in range(n)),
        logprobs=(-0.5,) * n,
        truncated=False,
        policy_version=version,
    )
    return ScoredSample(sample, rewards(n))


def rewards(n: int) -> TokenRewards:
    return TokenRewards(
        rewards=(0.25,) * n,
        coarse=(0.25,) * n,
        fine=(0.0,) * n,
        adaptive=(0.0,) * n,
        mode="paper",
        outcome="failed",
        category="ignore",
        span=None,
        alpha=0.0,
        r_coarse=-0.3,
        r_adaptive=0.35,
        r_fine=0.0,
        baseline=Baseline("greedy", coarse=-0.55, adaptive=0.35, official=0.35, n=1),
    )


def test_fifo_capacity_evicts_oldest_and_counts():
    buf = ReplayBuffer(3)
    buf.push(scored(i) for i in range(5))
    assert len(buf) == 3
    assert [s.sample.problem_id for s in buf.snapshot()] == ["p2", "p3", "p4"]
    assert (buf.pushed, buf.evicted) == (5, 2)


def test_staleness_boundary_is_inclusive():
    buf = ReplayBuffer(10)
    buf.push([scored(0, version=0), scored(1, version=3), scored(2, version=5)])
    assert buf.drop_stale(current_version=5, max_staleness=None) == 0
    # staleness = current − version: 5, 2, 0; "older than 2 versions" drops only the first
    assert buf.drop_stale(current_version=5, max_staleness=2) == 1
    assert [s.version for s in buf.snapshot()] == [3, 5]
    assert buf.dropped_stale == 1


def test_sampling_is_without_replacement_and_seeded():
    buf = ReplayBuffer(10)
    buf.push(scored(i) for i in range(6))
    a = buf.sample(4, random.Random(7))
    b = buf.sample(4, random.Random(7))
    assert [s.sample.problem_id for s in a] == [s.sample.problem_id for s in b]
    assert len({s.sample.problem_id for s in a}) == 4
    assert len(buf.sample(100, random.Random(0))) == 6


def test_state_dict_round_trips_through_json():
    buf = ReplayBuffer(4)
    buf.push(scored(i, version=i) for i in range(6))
    buf.drop_stale(5, 2)
    state = json.loads(json.dumps(buf.state_dict()))
    other = ReplayBuffer(4)
    other.load_state_dict(state)
    assert other.snapshot() == buf.snapshot()
    assert (other.pushed, other.evicted, other.dropped_stale) == (6, 2, 1)
    smaller = ReplayBuffer(2)
    smaller.load_state_dict(state)
    assert [s.version for s in smaller.snapshot()] == [4, 5]


def test_malformed_state_names_the_item():
    state = ReplayBuffer(2).state_dict()
    state["items"] = [scored(0).to_dict(), {"sample": {}, "rewards": {}}]
    with pytest.raises(RecordError, match="buffer: item 1"):
        ReplayBuffer(2).load_state_dict(state)


def test_reward_length_must_match_tokens():
    s = scored(0)
    with pytest.raises(RecordError, match="1 rewards for 2 tokens"):
        ScoredSample(s.sample, rewards(1))


def test_wait_for_wakes_on_push():
    buf = ReplayBuffer(4)
    t = threading.Timer(0.05, lambda: buf.push([scored(0), scored(1)]))
    t.start()
    assert buf.wait_for(2, timeout=5.0)
    assert not buf.wait_for(3, timeout=0.01)
    t.join()


def test_sampling_with_min_version_never_returns_an_older_sample():
    # The loop drops stale samples, then samples; a round pushed in between (generated before
    # the newest weights) must still not reach the gradient.
    buf = ReplayBuffer(16)
    buf.push([scored(i, version=i % 4) for i in range(12)])
    got = buf.sample(12, random.Random(0), min_version=2)
    assert len(got) == 6 and all(s.version >= 2 for s in got)
    assert len(buf.sample(12, random.Random(0))) == 12  # unfiltered by default
