"""`rltf sft`: the supervised warm start learns, checkpoints, resumes exactly and exports."""

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from rltf.cli import main
from rltf.config import from_dict
from rltf.policy import load_policy
from rltf.training.config import SFTConfig
from rltf.training.sft import run_sft

PROBLEMS = Path(__file__).parent / "fixtures" / "training" / "problems.jsonl"


def make_config(tmp_path: Path, name: str, steps: int, lr: float = 3e-3) -> SFTConfig:
    return from_dict(
        SFTConfig,
        {
            "run_dir": str(tmp_path / name),
            "policy": {"model": "tiny"},
            "tiny": {"n_layer": 1, "n_embd": 32, "n_head": 2, "vocab_size": 300},
            "data": {"train": f"jsonl:{PROBLEMS}"},
            "optim": {"lr": lr},
            "sft": {"steps": steps, "batch_size": 3, "torch_threads": 1},
            "checkpoint": {"every": 3},
            "metrics": {"tensorboard": False},
            "deterministic": True,
        },
    )


def losses(run: Path) -> list[float]:
    return [json.loads(line)["loss/sl"] for line in (run / "metrics.jsonl").open()]


def test_sft_learns_and_exports_a_loadable_model(tmp_path):
    assert run_sft(make_config(tmp_path, "run", 16, lr=1e-2)) == 0
    curve = losses(tmp_path / "run")
    assert len(curve) == 16
    assert sum(curve[-4:]) / 4 < 0.75 * sum(curve[:4]) / 4  # it learns the references
    policy = load_policy(str(tmp_path / "run" / "final"))
    assert policy.version == 16


def test_sft_resume_continues_exactly(tmp_path):
    assert run_sft(make_config(tmp_path, "whole", 6)) == 0
    assert run_sft(make_config(tmp_path, "split", 3)) == 0  # stops after ckpt-3
    assert run_sft(make_config(tmp_path, "split", 6), resume=True) == 0
    a = load_file(str(tmp_path / "whole/checkpoints/ckpt-00000006/model.safetensors"))
    b = load_file(str(tmp_path / "split/checkpoints/ckpt-00000006/model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert losses(tmp_path / "whole") == losses(tmp_path / "split")


def test_sft_cli(tmp_path):
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(
        f"run_dir: {tmp_path / 'cli'}\npolicy: {{model: tiny}}\n"
        f"tiny: {{n_layer: 1, n_embd: 32, n_head: 2, vocab_size: 300}}\n"
        f"data: {{train: 'jsonl:{PROBLEMS}'}}\nsft: {{steps: 2, batch_size: 2}}\n"
        "metrics: {tensorboard: false}\n"
    )
    assert main(["sft", "--config", str(cfg), "--set", "optim.lr=1.0e-3"]) == 0
    assert (tmp_path / "cli" / "checkpoints" / "ckpt-00000002").is_dir()
    assert main(["sft", "--config", str(cfg)]) == 2  # exists: needs --resume or --overwrite
