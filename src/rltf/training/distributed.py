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

With ``cluster.fsdp: true`` the learner's model is sharded instead (PyTorch's FSDP2,
``fully_shard`` per transformer block, then the root): each rank keeps 1/N of the parameters,
gradients and AdamW state, parameters are all-gathered block by block for each forward and
backward, and gradients are reduce-scattered (averaged) in the backward itself. Every rank must
then run the same sequence of forwards and backwards, so the learner pads each step to the
largest micro-batch count of any rank (zero-loss micro-batches), and the full weights (for the
actor's weight sync, checkpoints and the final model) are gathered by every rank together. The
actor keeps its own full, unsharded copy: generation lengths differ by rank, so generating
through the sharded model would deadlock.

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
    """The process group of a data-parallel run (accelerate's ``Accelerator`` underneath);
    ``fsdp``: the learner's model is sharded across it (module docstring)."""

    def __init__(self, fsdp: bool = False) -> None:
        from accelerate import Accelerator

        self.fsdp = fsdp
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

    def shard(self, model: torch.nn.Module) -> None:
        """FSDP2: shard every transformer block (the classes the model names in
        ``_no_split_modules``, as accelerate's auto-wrap does), then the root (embeddings, the
        final norm and a tied head). In place: ``model`` keeps its identity."""
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        device = next(model.parameters()).device.type
        mesh = init_device_mesh(device, (self.world_size,))
        blocks = next((_no_split(m) for m in model.modules() if _no_split(m)), set[str]())
        for module in model.modules():
            if type(module).__name__ in blocks:
                fully_shard(module, mesh=mesh)
        fully_shard(model, mesh=mesh)

    def sum(self, value: float) -> float:
        """``value`` summed over ranks (e.g. the squares of each rank's gradient shard)."""
        from accelerate.utils import reduce

        return float(reduce(torch.tensor([value], dtype=torch.float64), reduction="sum")[0])

    def max(self, values: Sequence[int]) -> list[int]:
        """The element-wise maximum of ``values`` over ranks."""
        return [max(col) for col in zip(*self.gather(list(values)), strict=True)]

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


def data_parallel(fsdp: bool = False) -> DataParallel | None:
    """The process group when launched with more than one process, else None."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        if fsdp:
            raise ValueError(
                "cluster.fsdp: true shards the learner across processes: launch with "
                "`torchrun --nproc_per_node N -m rltf.cli train ...` (N >= 2), or set it false"
            )
        return None
    return DataParallel(fsdp)


def _no_split(module: torch.nn.Module) -> set[str]:
    """The block classes a Hugging Face model says must stay whole (its FSDP units)."""
    return set(getattr(module, "_no_split_modules", None) or ())


def local(t: torch.Tensor) -> torch.Tensor:
    """This rank's shard of an FSDP parameter or gradient (a DTensor); a plain tensor as is."""
    from torch.distributed.tensor import DTensor

    return t.to_local() if isinstance(t, DTensor) else t


def copy_full_into(param: torch.Tensor, value: torch.Tensor) -> None:
    """Copy a whole tensor into ``param``: into this rank's shard when it is sharded (no
    communication: every rank holds ``value``)."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    if isinstance(param, DTensor):
        value = distribute_tensor(
            value.to(param.dtype), param.device_mesh, param.placements, src_data_rank=None
        )
    param.copy_(value)
