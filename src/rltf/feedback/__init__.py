"""From Verdicts to token-level rewards: error categories, line spans, coarse/fine/adaptive rewards."""
