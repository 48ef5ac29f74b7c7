"""rltf's sandboxed unit-test rewards inside the trainers people already use.

* :mod:`rltf.integrations.trl` — ``CodeReward`` / ``AsyncCodeReward`` for TRL's ``GRPOTrainer``
  and ``to_dataset`` (the columns they read); ``pip install 'rltf[trl]'``.
* :mod:`rltf.integrations.verl` — ``compute_score`` for veRL's ``custom_reward_function`` and
  ``write_parquet`` (veRL's data layout).
* :mod:`rltf.integrations.token_rewards` — RLTF's per-token rewards (coarse + fine + adaptive)
  aligned to a completion's token ids, for trainers with per-token reward tensors.

Submodules are imported explicitly (``from rltf.integrations.trl import CodeReward``), so
importing this package pulls in neither TRL nor veRL. docs/integrations/ has one page each.
"""
