"""From Verdicts to token-level rewards: error categories, line spans, coarse/fine/adaptive rewards.

    category = categorize_verdict(verdict, sample)              # global / line / ignore
    span     = error_token_span(sample, verdict.error.line)     # (S, E) generated token indices
    base     = baseline_from_verdict(greedy_verdict, greedy_sample, config)  # or group_baseline
    rec      = token_rewards(sample, verdict, base, config)     # rec.rewards: one r_t per token
    scored   = score_round(samples, verdicts, config, greedy)   # a whole round, any baseline

docs/rewards.md has the formulas, the category table and a worked example. torch is imported only
by :func:`pad_rewards`, so the execution workers can import the category table cheaply.
"""

from rltf.feedback.advantages import ScoredRound, score_round
from rltf.feedback.batch import batch_token_rewards, pad_rewards
from rltf.feedback.categories import (
    CATEGORY_TABLE,
    MEMORY_LIMIT,
    SIGNAL,
    TIMEOUT,
    WRONG_ANSWER,
    CategoryRule,
    categorize,
    categorize_verdict,
    category_table_markdown,
    count_lines,
    find_rule,
)
from rltf.feedback.config import ABLATIONS, GRPO, RewardConfig
from rltf.feedback.record import Baseline, TokenRewards
from rltf.feedback.rewards import (
    NotTrainableError,
    adaptive_reward,
    baseline_from_verdict,
    coarse_reward,
    fine_reward,
    fine_span,
    group_baseline,
    is_trainable,
    official_reward,
    token_rewards,
)
from rltf.feedback.spans import (
    error_token_span,
    line_char_range,
    program_token_span,
    tokens_overlapping,
)

__all__ = [
    "ABLATIONS",
    "CATEGORY_TABLE",
    "GRPO",
    "MEMORY_LIMIT",
    "SIGNAL",
    "TIMEOUT",
    "WRONG_ANSWER",
    "Baseline",
    "CategoryRule",
    "NotTrainableError",
    "RewardConfig",
    "ScoredRound",
    "TokenRewards",
    "adaptive_reward",
    "baseline_from_verdict",
    "batch_token_rewards",
    "categorize",
    "categorize_verdict",
    "category_table_markdown",
    "coarse_reward",
    "count_lines",
    "error_token_span",
    "find_rule",
    "fine_reward",
    "fine_span",
    "group_baseline",
    "is_trainable",
    "line_char_range",
    "official_reward",
    "pad_rewards",
    "program_token_span",
    "score_round",
    "token_rewards",
    "tokens_overlapping",
]
