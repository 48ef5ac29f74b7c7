import subprocess
import sys
from dataclasses import dataclass, field
from typing import Literal

import pytest

from rltf.config import ConfigError, load_config


@dataclass(frozen=True)
class Optim:
    lr: float = 1e-3
    betas: tuple[float, ...] = (0.9, 0.999)


@dataclass(frozen=True)
class Cfg:
    name: str = "x"
    steps: int = 10
    mode: Literal["paper", "official"] = "paper"
    model: str | None = None
    optim: Optim = field(default_factory=Optim)

    def validate(self) -> None:
        if self.steps <= 0:
            raise ValueError("steps must be positive")


def write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


def test_yaml_and_overrides(tmp_path):
    p = write(tmp_path, "steps: 5\noptim:\n  lr: 1\n")
    cfg = load_config(Cfg, p, ["optim.betas=[0.5, 0.6]", "mode=official", "model=gpt2"])
    assert cfg == Cfg(steps=5, mode="official", model="gpt2", optim=Optim(lr=1.0, betas=(0.5, 0.6)))
    assert isinstance(cfg.optim.lr, float)
    assert load_config(Cfg, p, ["optim.lr=1e-3"]).optim.lr == 1e-3  # YAML 1.1 reads it as a str


@dataclass(frozen=True)
class Checked:
    n: int = 1

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError("n must be >= 0")


@dataclass(frozen=True)
class Outer:
    inner: Checked = field(default_factory=Checked)


def test_constructor_errors_name_the_section(tmp_path):
    with pytest.raises(ConfigError, match=r"c.yaml: inner: n must be >= 0"):
        load_config(Outer, write(tmp_path, "inner: {n: -1}\n"))


@pytest.mark.parametrize(
    ("text", "overrides", "message"),
    [
        ("stepz: 5\n", [], "c.yaml: stepz: unknown key"),
        ("optim:\n  lrr: 1\n", [], "c.yaml: optim.lrr: unknown key"),
        ("steps: five\n", [], "c.yaml: steps: expected int"),
        ("optim: {lr: fast}\n", [], "c.yaml: optim.lr: expected float, got 'fast'"),
        ("steps: true\n", [], "c.yaml: steps: expected int"),
        ("mode: other\n", [], "c.yaml: mode: 'other' is not one of"),
        ("steps: 0\n", [], "c.yaml: steps must be positive"),
        ("- a\n- b\n", [], "expected a mapping at the top level"),
        ("a: [\n", [], "invalid YAML (line"),
        ("", ["optim.nope=1"], "optim.nope: unknown key"),
        ("", ["steps"], "override must look like"),
    ],
)
def test_config_errors_name_the_key_and_file(tmp_path, text, overrides, message):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(Cfg, p, overrides)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(Cfg, tmp_path / "absent.yaml")


def test_cli_help_lists_subcommands():
    out = subprocess.run(
        [sys.executable, "-m", "rltf.cli", "--help"], capture_output=True, text=True, check=True
    )
    for cmd in ("execute", "evaluate", "generate", "sft", "train", "demo", "datasets"):
        assert cmd in out.stdout
