"""Token rewards: hand-computed examples for every outcome and category in both modes, and
properties (one reward per token, ignore adds no fine term, pass vs pass baseline is zero,
a line error penalises exactly the line's tokens)."""

from __future__ import annotations

import json
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rltf.feedback import (
    ABLATIONS,
    Baseline,
    NotTrainableError,
    RewardConfig,
    TokenRewards,
    baseline_from_verdict,
    group_baseline,
    line_char_range,
    token_rewards,
)
from rltf.records import ErrorInfo, Sample, Verdict

# "a = [1]\n" is 8 characters, "b = a[5]\n" 9: with one token per character T = 17 and line 2
# holds tokens 8..16.
PROGRAM = "a = [1]\nb = a[5]\n"
T, LINE2 = 17, (8, 16)


def char_sample(text: str = PROGRAM, truncated: bool = False, prefix: str = "") -> Sample:
    n = len(text)
    offsets = tuple((i, i + 1) for i in range(n))
    return Sample(
        "p", (), tuple(range(n)), text, offsets, (0.0,) * n, truncated, 0, program_prefix=prefix
    )


def V(outcome: str, passed: int = 0, total: int = 4, err: ErrorInfo | None = None) -> Verdict:
    return Verdict(outcome, passed=passed, total=total, error=err)  # type: ignore[arg-type]


INDEX_ERR = ErrorInfo("IndexError", "list index out of range", 2, "line")
SYNTAX_LINE = ErrorInfo("SyntaxError", "invalid syntax", 2, "line")
NEVER_CLOSED = ErrorInfo("SyntaxError", "'(' was never closed", 1, "global")
INDENT = ErrorInfo("IndentationError", "unexpected indent", 2, "ignore")
RECURSION = ErrorInfo("RecursionError", "maximum recursion depth exceeded", 2, "global")

# The greedy baseline failed 2 of 4 tests: R_coarse = −0.3, R_adaptive = −0.3 + 1.3·0.5 = 0.35.
GREEDY = V("failed", passed=2)
# The paper's formulas verbatim (uncapped α, no fine baseline): the hand-computed cases below.
PaperConfig = partial(RewardConfig, fine_alpha_cap=None, fine_baseline=False)
FULL = PaperConfig()
OFFICIAL = RewardConfig(mode="official")


def rewards(verdict: Verdict, config: RewardConfig = FULL, **kw: object) -> TokenRewards:
    base = baseline_from_verdict(GREEDY, None, config) if config.baseline == "greedy" else None
    return token_rewards(kw.pop("sample", char_sample()), verdict, base, config, **kw)  # type: ignore[arg-type]


def only(values: tuple[float, ...], inside: float, outside: float, span: tuple[int, int]) -> None:
    for t, v in enumerate(values):
        assert v == pytest.approx(inside if span[0] <= t <= span[1] else outside), t


# ------------------------------------------------------------------ paper mode, hand computed


def test_paper_passed() -> None:
    # Δcoarse = 1 − (−0.3) = 1.3; Δadaptive = 1 − 0.35 = 0.65; no fine term.
    r = rewards(V("passed", passed=4))
    assert r.rewards == pytest.approx((1.95,) * T)
    assert r.category == "ignore" and r.span is None and r.alpha == 0.0


def test_paper_failed() -> None:
    # Δcoarse = −0.3 − (−0.3) = 0; R_adaptive = −0.3 + 1.3·0.25 = 0.025; Δadaptive = −0.325.
    r = rewards(V("failed", passed=1))
    assert r.coarse == pytest.approx((0.0,) * T)
    assert r.rewards == pytest.approx((-0.325,) * T)
    assert r.fine == (0.0,) * T


def test_paper_runtime_error_on_a_line() -> None:
    # Δcoarse = −0.6 + 0.3 = −0.3; Δadaptive = −0.3 − 0.35 = −0.65; α = 17/9 on line 2.
    r = rewards(V("runtime_error", err=INDEX_ERR))
    assert r.category == "line" and r.span == LINE2
    assert r.alpha == pytest.approx(17 / 9)
    only(r.fine, -0.3 * 17 / 9, 0.0, LINE2)
    only(r.rewards, -0.95 - 0.3 * 17 / 9, -0.95, LINE2)
    # α·|span| = T: a one-line penalty weighs as much as a whole-program one.
    assert sum(r.fine) == pytest.approx(-0.3 * T)


def test_paper_timeout_is_a_global_runtime_error() -> None:
    r = rewards(V("timeout"))
    assert r.r_coarse == -0.6 and r.category == "global" and r.span == (0, T - 1)
    assert r.alpha == 1.0
    assert r.rewards == pytest.approx((-0.3 - 0.65 - 0.3,) * T)


def test_paper_recursion_error_is_global() -> None:
    r = rewards(V("runtime_error", err=RECURSION))
    assert r.category == "global" and r.rewards == pytest.approx((-1.25,) * T)


def test_paper_compile_error_on_a_line() -> None:
    # Δcoarse = −1 + 0.3 = −0.7; Δadaptive = −0.65.
    r = rewards(V("compile_error", err=SYNTAX_LINE))
    only(r.rewards, -1.35 - 0.3 * 17 / 9, -1.35, LINE2)


def test_paper_compile_error_global_and_truncated() -> None:
    r = rewards(V("compile_error", err=NEVER_CLOSED))
    assert r.category == "global" and r.rewards == pytest.approx((-1.65,) * T)
    # An ordinary syntax error of a sample that hit the length limit is global too.
    r = rewards(V("compile_error", err=SYNTAX_LINE), sample=char_sample(truncated=True))
    assert r.category == "global" and r.rewards == pytest.approx((-1.65,) * T)


def test_paper_ignored_errors_get_no_fine_term() -> None:
    r = rewards(V("compile_error", err=INDENT))
    assert r.category == "ignore" and r.fine == (0.0,) * T and r.r_fine == 0.0
    assert r.rewards == pytest.approx((-1.35,) * T)
    r = rewards(V("runtime_error"))  # a crash without a traceback
    assert r.category == "ignore" and r.rewards == pytest.approx((-0.95,) * T)


def test_one_token_line_alpha_is_finite() -> None:
    # The paper's α = T/(E−S) divides by zero for a one-token line; rltf uses E−S+1.
    s = Sample("p", (), (0, 1, 2), "a\nb\n", ((0, 2), (2, 3), (3, 4)), (0.0,) * 3, False, 0)
    err = ErrorInfo("NameError", "name 'b' is not defined", 2, "line")
    r = token_rewards(s, V("runtime_error", err=err), None, PaperConfig(baseline="none"))
    assert r.span == (1, 2) and r.alpha == pytest.approx(3 / 2)
    s1 = Sample("p", (), (0, 1), "a\nb", ((0, 2), (2, 3)), (0.0,) * 2, False, 0)
    r = token_rewards(s1, V("runtime_error", err=err), None, PaperConfig(baseline="none"))
    assert r.span == (1, 1) and r.alpha == pytest.approx(2.0)


def test_error_line_in_the_prefix_has_no_fine_term() -> None:
    prefix = "def f(a):\n    x = g(a)\n"  # line 2 lies in the HumanEval prompt
    err = ErrorInfo("TypeError", "bad operand", 2, "line")
    s = char_sample("    return x\n", prefix=prefix)
    r = token_rewards(s, V("runtime_error", err=err), None, PaperConfig(baseline="none"))
    assert r.category == "line" and r.span is None and r.alpha == 0.0
    assert r.r_fine == -0.3 and r.fine == (0.0,) * len(s.token_ids)
    assert r.rewards == pytest.approx((-0.6 - 0.3,) * len(s.token_ids))


def test_no_baseline() -> None:
    r = token_rewards(char_sample(), V("passed", 4), None, PaperConfig(baseline="none"))
    assert r.rewards == pytest.approx((2.0,) * T)  # R_coarse + R_adaptive


def test_ablation_rows() -> None:
    v = V("runtime_error", err=INDEX_ERR)
    s = char_sample()

    def run(name: str) -> TokenRewards:
        cfg = ABLATIONS[name]
        return token_rewards(s, v, baseline_from_verdict(GREEDY, None, cfg), cfg)

    assert run("sl").rewards == (0.0,) * T and not ABLATIONS["sl"].any_reward
    assert run("coarse").rewards == pytest.approx((-0.3,) * T)
    # the rows use rltf's defaults: α capped at 1, fine reward baselined (the greedy decode
    # failed without an error, so its R_fine is 0)
    only(run("coarse+fine").rewards, -0.3 - 0.3, -0.3, LINE2)
    only(run("coarse+fine+adaptive").rewards, -0.95 - 0.3, -0.95, LINE2)


def test_fine_alpha_cap_bounds_the_line_penalty() -> None:
    v = V("runtime_error", err=INDEX_ERR)
    for cap, alpha in ((None, 17 / 9), (1.0, 1.0), (1.5, 1.5), (5.0, 17 / 9)):
        cfg = PaperConfig(baseline="none", coarse=False, adaptive=False, fine_alpha_cap=cap)
        r = token_rewards(char_sample(), v, None, cfg)
        assert r.alpha == pytest.approx(alpha)
        only(r.rewards, -0.3 * alpha, 0.0, LINE2)


def test_fine_baseline_cancels_when_the_baseline_errs_alike() -> None:
    """The greedy decode also hit a line error: R_fine − F_b = 0, no line is singled out; a
    group where half the samples err gets half the penalty on the erring sample's line."""
    err = V("runtime_error", err=INDEX_ERR)
    cfg = RewardConfig(baseline="greedy", coarse=False, adaptive=False)
    base = baseline_from_verdict(err, char_sample(), cfg)
    assert base.fine == pytest.approx(-0.3)
    assert token_rewards(char_sample(), err, base, cfg).rewards == (0.0,) * T
    group_cfg = RewardConfig(baseline="group", coarse=False, adaptive=False)
    group = group_baseline([err, V("failed")], group_cfg, [char_sample(), char_sample()])
    assert group.fine == pytest.approx(-0.15)
    only(token_rewards(char_sample(), err, group, group_cfg).rewards, -0.15, 0.0, LINE2)
    paper = PaperConfig(baseline="greedy", coarse=False, adaptive=False)  # no fine baseline
    only(token_rewards(char_sample(), err, base, paper).rewards, -0.3 * 17 / 9, 0.0, LINE2)


def test_outcome_scale_multiplies_only_the_outcome_terms() -> None:
    v = V("runtime_error", err=INDEX_ERR)
    cfg = RewardConfig(baseline="none", fine_alpha_cap=1.0)
    plain = token_rewards(char_sample(), v, None, cfg)
    scaled = token_rewards(char_sample(), v, None, cfg, outcome_scale=2.0)
    assert scaled.coarse == pytest.approx(tuple(2 * c for c in plain.coarse))
    assert scaled.adaptive == pytest.approx(tuple(2 * a for a in plain.adaptive))
    assert scaled.fine == plain.fine and scaled.outcome_scale == 2.0
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="outcome_scale"):
            token_rewards(char_sample(), v, None, cfg, outcome_scale=bad)


# --------------------------------------------------------------- official mode, hand computed
# Baseline sample reward R(Ŵ_b) = R_adaptive = 0.35 (it failed: adaptive replaces −0.3).


def test_official_passed_and_failed() -> None:
    r = rewards(V("passed", passed=4), OFFICIAL)
    assert r.rewards == pytest.approx((1 - 0.35,) * T)
    # components: coarse 1 − (−0.3) = 1.3; adaptive 0 − (0.35 − (−0.3)) = −0.65.
    assert r.coarse == pytest.approx((1.3,) * T) and r.adaptive == pytest.approx((-0.65,) * T)
    r = rewards(V("failed", passed=1), OFFICIAL)
    assert r.rewards == pytest.approx((0.025 - 0.35,) * T)


def test_official_line_error_alpha_one_inside_the_bracket() -> None:
    r = rewards(V("runtime_error", err=INDEX_ERR), OFFICIAL)
    assert r.alpha == 1.0 and r.span == LINE2
    only(r.rewards, -0.6 - 0.3 - 0.35, -0.6 - 0.35, LINE2)


def test_official_timeout_and_compile_errors() -> None:
    assert rewards(V("timeout"), OFFICIAL).rewards == pytest.approx((-0.6 - 0.3 - 0.35,) * T)
    r = rewards(V("compile_error", err=INDENT), OFFICIAL)
    assert r.rewards == pytest.approx((-1 - 0.35,) * T)
    r = rewards(V("compile_error", err=NEVER_CLOSED), OFFICIAL)
    assert r.rewards == pytest.approx((-1 - 0.3 - 0.35,) * T)


def test_official_without_adaptive_keeps_the_failed_reward() -> None:
    cfg = PaperConfig(mode="official", adaptive=False)
    r = rewards(V("passed", passed=4), cfg)
    assert r.rewards == pytest.approx((1.3,) * T) and r.adaptive == (0.0,) * T


def test_official_critic_weights_multiply_every_component() -> None:
    w = [0.5] * 8 + [2.0] * 9
    r = rewards(V("runtime_error", err=INDEX_ERR), OFFICIAL, critic_weights=w)
    assert r.critic_weighted
    expected = [0.5 * -0.95] * 8 + [2.0 * -1.25] * 9
    assert r.rewards == pytest.approx(tuple(expected))
    with pytest.raises(ValueError, match="critic_weights has 3 values for 17"):
        rewards(V("passed", 4), OFFICIAL, critic_weights=[1.0, 1.0, 1.0])


def test_official_mode_needs_the_coarse_reward() -> None:
    with pytest.raises(ValueError, match="coarse"):
        cfg = PaperConfig(mode="official", coarse=False, baseline="none")
        token_rewards(char_sample(), V("passed", 4), None, cfg)


# --------------------------------------------------------------------- baselines and refusal


def test_group_baseline_excludes_sandbox_errors() -> None:
    vs = [V("passed", 4), V("failed", 2), V("runtime_error"), V("sandbox_error")]
    b = group_baseline(vs, PaperConfig(baseline="group"))
    assert b.kind == "group" and b.n == 3
    assert b.coarse == pytest.approx((1 - 0.3 - 0.6) / 3)
    assert b.adaptive == pytest.approx((1 + 0.35 - 0.3) / 3)
    assert b.official == pytest.approx((1 + 0.35 - 0.6) / 3)
    assert group_baseline([V("sandbox_error")]) == Baseline("group", n=0)


def test_sandbox_errors_never_become_rewards() -> None:
    with pytest.raises(NotTrainableError, match="sandbox_error"):
        rewards(V("sandbox_error"))
    with pytest.raises(NotTrainableError):
        baseline_from_verdict(V("sandbox_error"))


def test_baseline_must_match_the_config() -> None:
    s, v = char_sample(), V("passed", 4)
    with pytest.raises(ValueError, match="no baseline was passed"):
        token_rewards(s, v, None, FULL)
    with pytest.raises(ValueError, match="'group' baseline"):
        token_rewards(s, v, group_baseline([v]), FULL)
    with pytest.raises(ValueError, match="'none'"):
        token_rewards(s, v, baseline_from_verdict(v), PaperConfig(baseline="none"))


def test_custom_reward_values() -> None:
    cfg = PaperConfig(reward_pass=2.0, reward_fail=0.0, fine_penalty=-1.0, baseline="none")
    r = token_rewards(char_sample(), V("failed", passed=1), None, cfg)
    assert r.rewards == pytest.approx((0.0 + 0.5,) * T)  # R_adaptive = 0 + 2·0.25
    r = token_rewards(char_sample(), V("timeout"), None, cfg)
    assert r.fine == pytest.approx((-1.0,) * T)


def test_record_round_trips_through_json() -> None:
    r = rewards(V("runtime_error", 1, err=INDEX_ERR), OFFICIAL, critic_weights=[0.9] * T)
    back = TokenRewards.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back == r
    bad = r.to_dict() | {"fine": [0.0]}
    with pytest.raises(ValueError, match="fine"):
        TokenRewards.from_dict(bad)
    with pytest.raises(ValueError, match="category"):
        TokenRewards.from_dict(r.to_dict() | {"category": "bogus"})
    with pytest.raises(ValueError, match=r"baseline\.n"):
        TokenRewards.from_dict(r.to_dict() | {"baseline": r.baseline.to_dict() | {"n": "one"}})


# ------------------------------------------------------------------------------- properties

OUTCOMES = ["passed", "failed", "runtime_error", "compile_error", "timeout"]
ERRORS = [None, INDEX_ERR, SYNTAX_LINE, NEVER_CLOSED, INDENT, RECURSION]


@st.composite
def cases(draw: st.DrawFn) -> tuple[Sample, Verdict, Verdict, RewardConfig]:
    body = draw(st.lists(st.sampled_from(["x = 1", "y = x[2]", "\tz()", "é = 2"]), min_size=1))
    text = "\n".join(body) + draw(st.sampled_from(["", "\n"]))
    outcome = draw(st.sampled_from(OUTCOMES))
    total = draw(st.integers(1, 6))
    passed = total if outcome == "passed" else draw(st.integers(0, total - 1))
    err = None
    if outcome in ("runtime_error", "compile_error"):
        err = draw(st.sampled_from(ERRORS))
        if err is not None:
            err = ErrorInfo(err.type, err.message, draw(st.integers(1, len(body) + 1)), "line")
    base_outcome = draw(st.sampled_from(OUTCOMES))
    bt = draw(st.integers(1, 6))
    bp = bt if base_outcome == "passed" else draw(st.integers(0, bt - 1))
    config = PaperConfig(
        coarse=draw(st.booleans()),
        fine=draw(st.booleans()),
        adaptive=draw(st.booleans()),
        mode="paper",
        baseline=draw(st.sampled_from(["greedy", "none"])),
    )
    if draw(st.booleans()):
        config = RewardConfig(**{**config.__dict__, "mode": "official", "coarse": True})
    sample = char_sample(text, truncated=draw(st.booleans()))
    return sample, V(outcome, passed, total, err), V(base_outcome, bp, bt), config


@settings(max_examples=150, deadline=None)
@given(cases())
def test_reward_properties(case: tuple[Sample, Verdict, Verdict, RewardConfig]) -> None:
    sample, verdict, base_verdict, config = case
    base = (
        baseline_from_verdict(base_verdict, None, config) if config.baseline == "greedy" else None
    )
    r = token_rewards(sample, verdict, base, config)
    n = len(sample.token_ids)
    assert len(r.rewards) == len(r.coarse) == len(r.fine) == len(r.adaptive) == n
    for t in range(n):
        assert r.rewards[t] == pytest.approx(r.coarse[t] + r.fine[t] + r.adaptive[t])
    if r.category == "ignore" or not config.fine:
        assert r.fine == (0.0,) * n and r.span is None
    if r.span is not None and config.mode == "paper":
        assert sum(r.fine) == pytest.approx(config.fine_penalty * n)
    if r.category == "line" and r.span is not None and verdict.error is not None:
        rng = line_char_range(sample.program, verdict.error.line or 0)
        assert rng is not None
        on_line = {t for t, (a, b) in enumerate(sample.offsets) if a < rng[1] and b > rng[0]}
        assert {t for t in range(n) if r.fine[t] != 0.0} == on_line


@settings(max_examples=40, deadline=None)
@given(cases(), st.integers(1, 6), st.integers(1, 6))
def test_pass_against_pass_is_zero(
    case: tuple[Sample, Verdict, Verdict, RewardConfig], total: int, base_total: int
) -> None:
    sample, _, _, config = case
    base = V("passed", base_total, base_total)
    b = baseline_from_verdict(base, None, config) if config.baseline == "greedy" else None
    if b is None:
        return  # a zero baseline keeps the pass reward: covered by test_no_baseline
    r = token_rewards(sample, V("passed", total, total), b, config)
    assert r.rewards == pytest.approx((0.0,) * len(sample.token_ids))
