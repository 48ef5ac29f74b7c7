"""Data-parallel training on accelerate with 2 CPU processes (gloo): the averaged gradient is
DDP's (the mean of the ranks' gradients, equal to one process on the union of equal-sized
batches), the ranks stay identical, FSDP's sharded update equals DDP's even when the ranks have
different numbers of micro-batches, and a whole `rltf train` run under `torchrun` (replicated or
sharded) resumes exactly from a checkpoint written by both ranks."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file

from rltf.config import dump_yaml, to_dict
from rltf.training.checkpoint import trainable_state
from rltf.training.config import LearnerConfig
from rltf.training.data import SLExample
from rltf.training.distributed import DataParallel
from rltf.training.learner import Learner
from test_training_learner import policy as tiny_policy
from test_training_learner import rl_batch
from test_training_loop import make_config

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def batches() -> list[list[SLExample]]:
    """Two ranks' SL batches with the same token count (so the union's token mean is the mean
    of the two ranks' token means)."""

    def ex(seed: int) -> SLExample:
        g = torch.Generator().manual_seed(seed)
        ids = torch.randint(3, 30, (9,), generator=g).tolist()
        return SLExample("p", tuple(ids[:4]), tuple(ids[4:]))

    return [[ex(0), ex(1)], [ex(2), ex(3)]]


def _join(rank: int, world: int, port: int) -> DataParallel:
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
    )
    from rltf.training.distributed import data_parallel

    dp = data_parallel()
    assert dp is not None and dp.world_size == world
    return dp


def one_step(rank: int, world: int, port: int, out: str) -> None:
    dp = _join(rank, world, port)
    torch.manual_seed(100 + rank)  # different on purpose: the broadcast must make them equal
    pol = tiny_policy()
    if rank == 1:
        with torch.no_grad():
            next(pol.model.parameters()).add_(1.0)  # a rank that starts elsewhere
    dp.broadcast_model(pol.model)
    torch.save(_step_grads(Learner(pol, _optim(), 10, dp=dp), batches()[rank]), f"{out}/{rank}.pt")
    dp.wait()


def _optim():
    from rltf.training.config import OptimConfig

    return OptimConfig(lr=1e-3)


def _step_grads(learner: Learner, batch: list[SLExample]) -> dict:
    """Run one train_step; return the gradient it applied and the weights after it."""
    seen: dict = {}
    apply = learner._apply

    def spy():
        seen["grads"] = [p.grad.detach().clone() for p in learner._params()]
        return apply()

    learner._apply = spy  # type: ignore[method-assign]
    learner.train_step(batch, [])
    seen["weights"] = [p.detach().clone() for p in learner._params()]
    return seen


def test_two_ranks_apply_the_mean_gradient_and_stay_identical(tmp_path: Path) -> None:
    mp.spawn(one_step, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"{r}.pt") for r in (0, 1))
    torch.manual_seed(100)
    single = _step_grads(Learner(tiny_policy(), _optim(), 10), [*batches()[0], *batches()[1]])
    for a, b, c in zip(r0["grads"], r1["grads"], single["grads"], strict=True):
        assert torch.equal(a, b)  # one all-reduce: the very same gradient on both ranks
        assert torch.allclose(a, c, atol=1e-6, rtol=1e-5)  # = one process on the union
    for a, b in zip(r0["weights"], r1["weights"], strict=True):
        assert torch.equal(a, b)


def replicated_and_sharded(rank: int, world: int, port: int, out: str) -> None:
    """Two steps of the same learner, replicated (DDP) and sharded (FSDP), on the same data:
    rank 0 has 3 RL samples and rank 1 one, in micro-batches of 1 (FSDP pads rank 1 with two
    zero-loss micro-batches so the ranks' collectives pair up)."""
    dp = _join(rank, world, port)
    results = {}
    for fsdp in (False, True):
        dp.fsdp = fsdp
        learner = Learner(
            tiny_policy(),
            _optim(),
            10,
            LearnerConfig(micro_batch_size=1),
            dp=dp,
        )
        rl = rl_batch()[: 3 if rank == 0 else 1]
        stats = [learner.train_step(batches()[rank], rl) for _ in range(2)]
        state = learner.state_dict()  # FSDP: gathered from both ranks
        results[fsdp] = {
            "weights": trainable_state(learner.policy.model),
            "stats": stats,
            "adam": {k: v for k, v in state["optimizer"]["state"].items()},
        }
    torch.save(results, f"{out}/{rank}.pt")
    dp.wait()


def test_fsdp_applies_ddps_update_with_uneven_micro_batches(tmp_path: Path) -> None:
    mp.spawn(replicated_and_sharded, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"{r}.pt") for r in (0, 1))
    ddp, fsdp = r0[False], r0[True]
    start = trainable_state(tiny_policy().model)
    assert r0[True]["weights"].keys() == ddp["weights"].keys()
    for name, w in fsdp["weights"].items():
        assert torch.equal(w, r1[True]["weights"][name])  # both ranks gather the same model
        assert torch.allclose(w, ddp["weights"][name], atol=1e-6, rtol=1e-5), name
        assert not torch.equal(w, start[name])  # the steps moved it
    for a, b in zip(ddp["stats"], fsdp["stats"], strict=True):
        assert a["learner/grad_norm"] == pytest.approx(b["learner/grad_norm"], rel=1e-5)
        assert "learner/skipped_nonfinite" not in b
    # the whole AdamW state, keyed by parameter name, with full-size moments
    first = next(iter(fsdp["adam"].values()))
    assert set(fsdp["adam"]) == set(fsdp["weights"])
    name = next(iter(fsdp["weights"]))
    assert fsdp["adam"][name]["exp_avg"].shape == fsdp["weights"][name].shape
    assert float(first["step"]) == 2.0


def launch(cfg_path: Path, *extra: str) -> subprocess.CompletedProcess:
    # torchrun: `accelerate launch` starts several CPU processes only through MPI.
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
        "-m", "rltf.cli", "train", "--config", str(cfg_path), *extra,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)


@pytest.mark.slow
@pytest.mark.parametrize("fsdp", [False, True], ids=["ddp", "fsdp"])
def test_a_two_process_run_resumes_exactly(tmp_path: Path, fsdp: bool) -> None:
    def config(name: str, steps: int) -> Path:
        path = tmp_path / f"{name}-{steps}.yaml"
        cfg = to_dict(make_config(tmp_path, name, steps=steps))
        cfg["cluster"]["fsdp"] = fsdp
        dump_yaml(cfg, path)
        return path

    full = launch(config("full", 4))
    assert full.returncode == 0, full.stderr[-3000:]
    half = launch(config("split", 2))
    assert half.returncode == 0, half.stderr[-3000:]
    resumed = launch(config("split", 4), "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a = load_file(tmp_path / "full" / "final" / "model.safetensors")
    b = load_file(tmp_path / "split" / "final" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # rank 1 trained on its own problems and logged its own metrics
    assert (tmp_path / "full" / "rank1" / "metrics.jsonl").is_file()
    from rltf.training.checkpoint import CheckpointManager

    ck = CheckpointManager.load(CheckpointManager(tmp_path / "full" / "checkpoints").latest())
    assert ck.trainer["learner"]["fsdp"] is fsdp  # the learner was (not) sharded
    ranks = ck.state["ranks"]
    assert len(ranks) == 2 and ranks[0]["rng"] != ranks[1]["rng"]  # each rank its own stream


def test_fsdp_without_several_processes_and_a_resume_across_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rltf.training.distributed import data_parallel

    monkeypatch.setenv("WORLD_SIZE", "1")
    with pytest.raises(ValueError, match=r"cluster\.fsdp: true .*torchrun"):
        data_parallel(fsdp=True)
    assert data_parallel(fsdp=False) is None
    learner = Learner(tiny_policy(), _optim(), 10)
    state = {**learner.state_dict(), "fsdp": True}
    with pytest.raises(ValueError, match=r"cluster\.fsdp True, this run has False"):
        learner.load_state_dict(state, 0)
