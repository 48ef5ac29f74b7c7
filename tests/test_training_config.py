"""Training configs: the shipped presets load and validate; bad keys fail with one clear line."""

from pathlib import Path

import pytest

from rltf.cli import main
from rltf.config import ConfigError, from_dict, load_config
from rltf.training.config import SFTConfig, TrainConfig

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def config_class(path: Path) -> type:
    return SFTConfig if path.name.endswith("-sft.yaml") else TrainConfig


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load_and_validate(path):
    cfg = load_config(config_class(path), path)
    assert cfg.run_dir.startswith("runs/")


def test_required_presets_exist():
    names = {p.name for p in CONFIGS.glob("*.yaml")}
    assert {"demo-tiny.yaml", "demo-smollm2.yaml", "apps-codet5-770m.yaml"} <= names
    assert "mbpp-zero-shot.yaml" in names


@pytest.mark.parametrize("name", ["apps-codet5-770m.yaml", "mbpp-zero-shot.yaml"])
def test_paper_configs_carry_the_paper_settings(name):
    cfg = load_config(TrainConfig, CONFIGS / name)
    assert cfg.policy.model == "Salesforce/codet5-large-ntp-py"
    assert cfg.optim.lr == 2e-6
    assert cfg.loop.buffer_capacity == 6400
    assert cfg.loop.samples_per_problem == 20
    assert (cfg.generation.temperature, cfg.generation.top_p) == (1.0, 0.95)
    assert cfg.generation.max_new_tokens == 512
    assert cfg.learner.clip_eps is None and cfg.learner.rl_weight == 1.0  # the paper's loss
    assert cfg.rewards.fine_alpha_cap is None and not cfg.rewards.fine_baseline
    assert cfg.rewards.coarse and cfg.rewards.fine and cfg.rewards.adaptive
    assert cfg.rewards.baseline == "greedy"
    assert cfg.data.train.startswith("apps:")
    assert cfg.policy.device == "cuda"


def test_demo_configs_run_on_cpu():
    tiny = load_config(TrainConfig, CONFIGS / "demo-tiny.yaml")
    assert tiny.policy.model == "tiny" and tiny.policy.device == "cpu"
    assert not tiny.loop.synchronous  # the demo shows the overlapped loop
    smol = load_config(TrainConfig, CONFIGS / "demo-smollm2.yaml")
    assert smol.policy.lora is not None and smol.data.prompt_style == "chat"


@pytest.mark.parametrize(
    ("loop", "message"),
    [
        ({"deterministic": True}, "requires synchronous"),
        ({"sl_batch_size": -1}, "sl_batch_size"),
        ({"warm_start_steps": 3, "sl_batch_size": 0}, "warm_start_steps"),
        ({"max_sandbox_error_share": 1.5}, "max_sandbox_error_share"),
        ({"min_buffer": 10, "buffer_capacity": 5}, "min_buffer"),
        ({"max_staleness": -1}, "max_staleness"),
        ({"samples_per_problem": 0}, "samples_per_problem must be >= 1"),
    ],
)
def test_loop_validation(loop, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(TrainConfig, {"loop": loop}, "x.yaml")


def test_generation_seed_is_rejected_in_training():
    with pytest.raises(ConfigError, match=r"generation\.seed must be null"):
        from_dict(TrainConfig, {"generation": {"seed": 1}}, "x.yaml")


@pytest.mark.parametrize("command", ["train", "sft"])
def test_unknown_key_is_one_clear_line_and_exit_2(tmp_path, capsys, command):
    bad = tmp_path / "bad.yaml"
    bad.write_text("optim:\n  lr: 1.0e-4\n  learning_rate: 3\n")
    assert main([command, "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(bad) in err and "optim.learning_rate: unknown key" in err


def test_bad_override_is_exit_2(capsys):
    assert main(["train", "--config", str(CONFIGS / "demo-tiny.yaml"), "--set", "loop.k=3"]) == 2
    assert "loop.k: unknown key" in capsys.readouterr().err


def test_difficulty_filter_keeps_only_the_named_levels():
    from rltf.training.config import DataConfig
    from rltf.training.data import load_problems

    easy = load_problems(DataConfig(train="builtin:basic:train", difficulties=("easy",)))
    assert easy and {p.difficulty for p in easy} == {"easy"}
    with pytest.raises(ValueError, match="no problems"):
        load_problems(DataConfig(train="builtin:basic:train", difficulties=("impossible",)))


def test_reference_fraction_hides_a_stable_share_of_solutions():
    from rltf.training.config import DataConfig
    from rltf.training.data import load_problems

    def with_refs(fraction: float) -> set[str]:
        cfg = DataConfig(train="builtin:basic:train", reference_fraction=fraction)
        problems = load_problems(cfg)
        assert len(problems) == 978  # every problem stays for RL; only solutions are hidden
        return {p.id for p in problems if p.solutions}

    half = with_refs(0.5)
    assert 0.4 * 978 < len(half) < 0.6 * 978
    assert with_refs(0.5) == half  # the same problems in every run and stage
    assert half < with_refs(0.8)  # a larger share keeps the smaller one's problems
    assert with_refs(0.0) == set() and len(with_refs(1.0)) == 978
    with pytest.raises(ValueError, match="reference_fraction"):
        DataConfig(reference_fraction=1.5).validate()


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"learner": {"clip_eps": 0}}, "learner: clip_eps must be > 0"),
        ({"learner": {"clip_eps": -0.1}}, "learner: clip_eps must be > 0"),
        ({"learner": {"rl_weight": -1}}, "learner: rl_weight must be >= 0"),
        ({"learner": {"epochs": 0}}, "learner: epochs"),
        (
            {
                "rewards": {"coarse": False, "fine": False, "adaptive": False},
                "loop": {"sl_batch_size": 0, "warm_start_steps": 0},
            },
            "nothing to learn",
        ),
        (
            {"learner": {"rl_weight": 0}, "loop": {"sl_batch_size": 0, "warm_start_steps": 0}},
            "learner.rl_weight: no SL term",
        ),
    ],
)
def test_rl_config_that_cannot_learn_is_refused_naming_the_key(tmp_path, capsys, data, key):
    with pytest.raises(ConfigError, match=key):
        from_dict(TrainConfig, data, "x.yaml")
    # and through the CLI: one line, exit 2
    import yaml

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    assert main(["train", "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and key in err and str(bad) in err
