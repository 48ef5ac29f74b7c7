"""RewardConfig: which reward terms are on, which formula, which baseline, and the values.

A frozen dataclass that :func:`rltf.config.load_config` builds from YAML (nested in the training
config), so each row of the paper's ablation (Liu et al. 2023) is a config:

    ABLATIONS["sl"]                    no RL reward (every r_t = 0): supervised learning only
    ABLATIONS["coarse"]                + coarse-grained feedback (CodeRL's reward with a baseline)
    ABLATIONS["coarse+fine"]           + fine-grained feedback (error-line penalties)
    ABLATIONS["coarse+fine+adaptive"]  + adaptive feedback (pass-ratio reward): full RLTF
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal

Mode = Literal["paper", "official"]
BaselineKind = Literal["greedy", "group", "none"]


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
    # of the problem (no extra generation), or none (a zero baseline).
    baseline: BaselineKind = "greedy"
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
        if self.baseline not in ("greedy", "group", "none"):
            raise ValueError(f"baseline must be 'greedy', 'group' or 'none', got {self.baseline!r}")
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
