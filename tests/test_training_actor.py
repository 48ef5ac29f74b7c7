"""The actor's scoring of a round: each problem's own greedy baseline, fallbacks, sandbox errors
and worker failures (what the loop trains on), against hand-computed rewards."""

from concurrent.futures import Future

import pytest

from rltf.feedback import RewardConfig
from rltf.policy import GenerationConfig
from rltf.records import Problem, Sample, Verdict
from rltf.training.actor import Actor, Round, check_sandbox_errors
from rltf.training.run import StageClock

COARSE = RewardConfig(coarse=True, fine=False, adaptive=False)


def problem(pid: str) -> Problem:
    return Problem.from_dict(
        {"id": pid, "prompt": "p", "tests": {"type": "assert", "asserts": ["assert f() == 1"]}}
    )


def sample(pid: str, index: int = 0, greedy: bool = False) -> Sample:
    return Sample(pid, (1,), (5, 6), "ab", ((0, 1), (1, 2)), (-0.5, -0.5), False, 0, index, greedy)


def done(v: Verdict | Exception) -> Future:
    f: Future = Future()
    if isinstance(v, Exception):
        f.set_exception(v)
    else:
        f.set_result(v)
    return f


def actor(config: RewardConfig) -> Actor:
    # no policy or pool: these tests hand finish_round a Round of finished futures
    return Actor(None, None, {}, GenerationConfig(), 2, config, StageClock())  # type: ignore[arg-type]


PASS, FAIL = Verdict("passed", passed=1, total=1), Verdict("failed", passed=0, total=1)


def test_each_problem_is_scored_against_its_own_greedy_decode():
    rnd = Round(
        [problem("a"), problem("b")],
        [sample("a", 0), sample("a", 1), sample("b", 0), sample("b", 1)],
        [done(PASS), done(FAIL), done(PASS), done(FAIL)],
        {"a": (sample("a", greedy=True), done(FAIL)), "b": (sample("b", greedy=True), done(PASS))},
    )
    report = actor(COARSE).finish_round(rnd)
    got = [
        (s.sample.problem_id, s.sample.sample_index, s.rewards.rewards[0]) for s in report.scored
    ]
    # a's greedy failed (−0.3): pass +1.3, fail 0; b's greedy passed (+1): pass 0, fail −1.3
    assert got == [("a", 0, pytest.approx(1.3)), ("a", 1, pytest.approx(0.0)),
                   ("b", 0, pytest.approx(0.0)), ("b", 1, pytest.approx(-1.3))]  # fmt: skip
    assert report.baseline_fallbacks == 0 and report.programs == 4


def test_sandbox_errors_and_worker_failures_never_train_and_the_greedy_falls_back():
    rnd = Round(
        [problem("a")],
        [sample("a", 0), sample("a", 1), sample("a", 2)],
        [done(PASS), done(Verdict("sandbox_error")), done(RuntimeError("worker died"))],
        {"a": (sample("a", greedy=True), done(RuntimeError("worker died")))},
    )
    report = actor(COARSE).finish_round(rnd)
    assert [s.sample.sample_index for s in report.scored] == [0]
    assert report.scored[0].rewards.rewards[0] == pytest.approx(0.0)  # group mean = itself
    assert report.baseline_fallbacks == 1 and report.exec_failures == 1
    assert report.outcomes["sandbox_error"] == 1


def test_sandbox_error_share_check():
    check_sandbox_errors({"passed": 8, "sandbox_error": 2}, 0.2, "a round")  # 20%: allowed
    with pytest.raises(RuntimeError, match=r"3 of 10 programs \(30%\)"):
        check_sandbox_errors({"passed": 7, "sandbox_error": 3}, 0.2, "a round")
    check_sandbox_errors({}, 0.0, "an empty round")
