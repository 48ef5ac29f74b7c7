"""Checkpoints: atomic directories, exact round trip of weights / optimizer / RNG, no pickles."""

import random

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from rltf.training.checkpoint import (
    CheckpointManager,
    capture_rng,
    load_trainable_state,
    restore_rng,
    trainable_state,
)


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return GPT2LMHeadModel(GPT2Config(vocab_size=40, n_positions=16, n_embd=8, n_layer=1, n_head=2))


def one_step(model, opt):
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    model(input_ids=ids, labels=ids).loss.backward()
    opt.step()
    opt.zero_grad()


def test_round_trip_restores_weights_optimizer_and_continues_identically(tmp_path):
    model = tiny_model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1 + s))
    one_step(model, opt)
    sched.step()
    rng_t, rng_p = capture_rng()
    mgr = CheckpointManager(tmp_path / "ck", keep_last=2)
    path = mgr.save(
        1,
        weights=trainable_state(model),
        trainer={"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "rng": rng_t},
        state={"counters": {"x": 3}, "rng": rng_p},
        buffer={"items": [1, 2]},
    )
    assert mgr.latest() == path
    # continue the original
    expected_draw = torch.rand(3)
    one_step(model, opt)
    expected = trainable_state(model)

    ck = CheckpointManager.load(path)
    assert ck.step == 1 and ck.state["counters"] == {"x": 3} and ck.buffer == {"items": [1, 2]}
    other = tiny_model(seed=1)
    load_trainable_state(other, ck.weights)
    opt2 = torch.optim.AdamW(other.parameters(), lr=1e-2)
    sched2 = torch.optim.lr_scheduler.LambdaLR(opt2, lambda s: 1.0 / (1 + s))
    opt2.load_state_dict(ck.trainer["optimizer"])
    sched2.load_state_dict(ck.trainer["scheduler"])
    restore_rng(ck.trainer["rng"], ck.state["rng"])
    assert torch.equal(torch.rand(3), expected_draw)
    one_step(other, opt2)
    got = trainable_state(other)
    assert got.keys() == expected.keys()
    assert all(torch.equal(got[k], expected[k]) for k in got)
    assert sched2.get_last_lr() == sched.get_last_lr()


def test_python_and_numpy_rng_round_trip():
    random.seed(1)
    np.random.seed(2)
    t, p = capture_rng()
    a = (random.random(), np.random.rand())
    restore_rng(t, p)
    assert (random.random(), np.random.rand()) == a


def test_keep_last_and_partial_writes_are_never_listed(tmp_path):
    mgr = CheckpointManager(tmp_path, keep_last=2)
    w = {"w": torch.zeros(2)}
    for step in (5, 10, 15):
        mgr.save(step, weights=w, trainer={}, state={})
    assert [s for s, _ in mgr.list()] == [10, 15]
    # a run killed mid-save leaves a temporary directory: ignored, then cleaned up
    (tmp_path / ".tmp-ckpt-00000020-999").mkdir()
    assert mgr.latest().name == "ckpt-00000015"
    mgr.save(15, weights={"w": torch.ones(2)}, trainer={}, state={})  # re-save replaces
    assert not (tmp_path / ".tmp-ckpt-00000020-999").exists()
    assert torch.equal(CheckpointManager.load(mgr.latest()).weights["w"], torch.ones(2))


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_trainer_state_is_loaded_without_unpickling_objects(tmp_path):
    mgr = CheckpointManager(tmp_path)
    path = mgr.save(1, weights={"w": torch.zeros(1)}, trainer={"x": Evil()}, state={})
    with pytest.raises(Exception, match=r"[Ww]eights only load failed|Unsupported"):
        CheckpointManager.load(path)


def test_mismatched_weights_are_an_error():
    model = tiny_model()
    state = trainable_state(model)
    state.pop(next(iter(state)))
    with pytest.raises(ValueError, match="missing"):
        load_trainable_state(model, state)


def test_not_a_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a checkpoint"):
        CheckpointManager.load(tmp_path)
