"""RewardConfig: which reward terms are on, which formula, which baseline, and the values.

A frozen dataclass that :func:`rltf.config.load_config` builds from YAML (nested in the training
config), so each row of the paper's ablation (Liu et al. 2023) is a config:

    ABLATIONS["sl"]                    no RL reward (every r_t = 0): supervised learning only
    ABLATIONS["coarse"]                + coarse-grained feedback (CodeRL's reward with a baseline)
    ABLATIONS["coarse+fine"]           + fine-grained feedback (error-line penalties)
    ABLATIONS["coarse+fine+adaptive"]  + adaptive feedback (pass-ratio reward): full RLTF
    GRPO                               scalar pass/fail reward, group-normalised (the control)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal

Mode = Literal["paper", "official"]
BaselineKind = Literal["greedy", "group", "loo", "none"]
Normalize = Literal["none", "group"]


@dataclass(frozen=True, kw_only=True)
class RewardConfig:
    coarse: bool = True
    fine: bool = True
    adaptive: bool = True
    # "paper": the losses of the paper (each term added, baselines subtracted, α = T/(E−S+1)).
    # "official": the official code's variant (adaptive replaces the −0.3 of failed programs,
    # the fine penalty sits inside the baseline bracket, α = 1, optional critic weights).
    mode: Mode = "paper"
    # Ŵ_b: the greedy decode of the same problem (official code), the mean over the k samples
    # of the problem (no extra generation; the sample itself included, as GRPO), the mean over
    # the *other* k-1 samples (leave-one-out, RLOO: unbiased), or none (a zero baseline).
    baseline: BaselineKind = "greedy"
    # Outcome advantages (coarse + adaptive) divided by the std of the problem's sample rewards
    # (GRPO; at least `normalize_min_std`, so a group of equal rewards is not blown up). A
    # positive scale: it shapes variance and never changes a sign. The fine term is not scaled.
    normalize: Normalize = "none"
    normalize_min_std: float = 0.1
    # α of the fine term, paper mode: min(T/(E−S+1), fine_alpha_cap). The paper's α (null: no
    # cap) puts ~T/|line| times the coarse per-token value on each error-line token (~-6 per
    # token for a 2-token line in a 40-token program) and swamps the outcome terms; a cap of 1
    # gives each error-line token the fine penalty itself, on the scale of a coarse token reward.
    fine_alpha_cap: float | None = 1.0
    # Subtract the baseline's fine reward (group/loo: the mean R_fine of the problem's samples;
    # greedy: the greedy decode's), so a problem whose samples all hit the same kind of error is
    # not pushed down on its error lines regardless (paper: no fine baseline).
    fine_baseline: bool = True
    # R_coarse (CodeRL = paper = official code). Timeouts count as runtime errors.
    reward_pass: float = 1.0
    reward_fail: float = -0.3
    reward_runtime: float = -0.6
    reward_compile: float = -1.0
    # R_fine for global and line errors (before α).
    fine_penalty: float = -0.3

    def validate(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{f.name} must be a finite number, got {value}")
        if self.mode not in ("paper", "official"):
            raise ValueError(f"mode must be 'paper' or 'official', got {self.mode!r}")
        if self.baseline not in ("greedy", "group", "loo", "none"):
            raise ValueError(
                f"baseline must be 'greedy', 'group', 'loo' or 'none', got {self.baseline!r}"
            )
        if self.normalize not in ("none", "group"):
            raise ValueError(f"normalize must be 'none' or 'group', got {self.normalize!r}")
        if self.normalize == "group" and self.baseline in ("greedy", "none"):
            raise ValueError("normalize: group needs a group or loo baseline (k samples a problem)")
        if not self.normalize_min_std > 0:
            raise ValueError(f"normalize_min_std must be > 0, got {self.normalize_min_std}")
        if self.fine_alpha_cap is not None and not self.fine_alpha_cap > 0:
            raise ValueError(f"fine_alpha_cap must be > 0 or null, got {self.fine_alpha_cap}")
        if self.mode == "official" and not self.coarse:
            # The official code has no switch for it: its sample reward is always the table's.
            raise ValueError("mode 'official' always uses the coarse reward: set coarse: true")

    @property
    def any_reward(self) -> bool:
        """False for the "SL only" row: every token reward is 0, the RL loss can be skipped."""
        return self.coarse or self.fine or self.adaptive


ABLATIONS: dict[str, RewardConfig] = {
    "sl": RewardConfig(coarse=False, fine=False, adaptive=False),
    "coarse": RewardConfig(coarse=True, fine=False, adaptive=False),
    "coarse+fine": RewardConfig(coarse=True, fine=True, adaptive=False),
    "coarse+fine+adaptive": RewardConfig(coarse=True, fine=True, adaptive=True),
}

# A scalar-reward GRPO control (Shao et al. 2024): one outcome reward per program (1 if every
# test passes, else 0), group mean baseline, group std normalisation; no error-type, line or
# pass-ratio information. What RLTF's rewards add is measured against it.
GRPO = RewardConfig(
    coarse=True,
    fine=False,
    adaptive=False,
    baseline="group",
    normalize="group",
    reward_pass=1.0,
    reward_fail=0.0,
    reward_runtime=0.0,
    reward_compile=0.0,
)
