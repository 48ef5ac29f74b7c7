"""Data-parallel training across processes, on accelerate (docs/cluster.md).

Launched by ``torchrun`` (or ``accelerate launch`` on GPUs), every process runs the whole loop
on its own share of the work: its own actor, sandbox pool, problem order and SL batches (seeds
offset by rank), and its own rollouts. The learners stay identical: the same starting weights (broadcast
from rank 0), then gradients averaged across processes once per optimizer step, after the step's
SL and RL micro-batches are accumulated, so every process applies the same AdamW update. That
is DDP's arithmetic (the mean of the per-process gradients), with one all-reduce per step
instead of one per backward pass: wrapping the model in ``DistributedDataParallel`` would add a
``no_sync`` context to every micro-batch but the last and prefix every state-dict key that the
actor's weight sync and the checkpoints read with ``module.``, for no difference in the result.

Rank 0 owns the run directory (checkpoints, the final model, summary); each other rank logs its
own metrics under ``<run_dir>/rank<r>/``. A checkpoint holds every rank's RNG and sampler state,
so a resumed run continues each process where it stopped (exact in deterministic synchronous
mode). The launcher's environment (``WORLD_SIZE``, ``RANK``, ``MASTER_ADDR``) decides; with one
process nothing here runs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import torch

RANK_SEED_STRIDE = 7919  # seed offset per rank (a prime: no two ranks share a stream)


class DataParallel:
    """The process group of a data-parallel run (accelerate's ``Accelerator`` underneath)."""

    def __init__(self) -> None:
        from accelerate import Accelerator

        self.accelerator = Accelerator(cpu=not torch.cuda.is_available())
        if torch.cuda.is_available():  # policy.device "cuda" is then this process's GPU
            torch.cuda.set_device(self.accelerator.local_process_index)
        self.rank = self.accelerator.process_index
        self.world_size = self.accelerator.num_processes

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def seed(self, seed: int) -> int:
        """This rank's seed for ``seed`` (rank 0 keeps it: one process runs as before)."""
        return seed + RANK_SEED_STRIDE * self.rank

    def main_first(self) -> AbstractContextManager[Any]:
        """Rank 0 runs the block first (creates the run directory, builds a tiny model), then
        the others (which find it done)."""
        return self.accelerator.main_process_first()

    def broadcast_model(self, model: torch.nn.Module) -> None:
        """Rank 0's parameters and buffers to every rank (LoRA adapters start random)."""
        from accelerate.utils import broadcast

        with torch.no_grad():
            for t in [*model.parameters(), *model.buffers()]:
                t.copy_(broadcast(t.detach().clone(), from_process=0))

    def average_gradients(self, params: Sequence[torch.nn.Parameter]) -> None:
        """Replace every gradient by its mean over ranks (a missing one counts as zero), in one
        all-reduce of the flattened gradient."""
        from accelerate.utils import reduce

        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = reduce(torch.cat([g.reshape(-1).float() for g in grads]), reduction="mean")
        offset = 0
        for p, g in zip(params, grads, strict=True):
            n = g.numel()
            p.grad = flat[offset : offset + n].view_as(p).to(p.dtype)
            offset += n

    def all_true(self, flag: bool) -> bool:
        """Whether ``flag`` holds on every rank (a non-finite loss anywhere skips the step
        everywhere; a stop request anywhere stops everyone at the same step)."""
        return all(self.gather(flag))

    def any_true(self, flag: bool) -> bool:
        return any(self.gather(flag))

    def gather(self, obj: Any) -> list[Any]:
        """``obj`` of every rank, in rank order, on every rank."""
        from accelerate.utils import gather_object

        return list(gather_object([obj]))

    def wait(self) -> None:
        self.accelerator.wait_for_everyone()


def data_parallel() -> DataParallel | None:
    """The process group when launched with more than one process, else None."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    return DataParallel()
