"""README.md's Python tour runs as written: the first ```python block under "## Quick tour" is
executed (in a temporary directory: it builds a tiny model under runs/) and its objects checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rltf.feedback import TokenRewards
from rltf.records import Sample, Verdict

README = Path(__file__).resolve().parents[1] / "README.md"


def quick_tour_code() -> str:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Quick tour\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README.md has no '## Quick tour' section"
    block = re.search(r"^```python\n(.*?)^```", section.group(1), re.S | re.M)
    assert block, "README.md's Quick tour has no ```python block"
    return block.group(1)


def test_quick_tour_python_block_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    ns: dict[str, object] = {"__name__": "readme_quick_tour"}
    exec(compile(quick_tour_code(), f"{README}:Quick tour", "exec"), ns)

    samples, verdicts, rewards = ns["samples"], ns["verdicts"], ns["rewards"]
    assert isinstance(samples, list) and isinstance(verdicts, list) and isinstance(rewards, list)
    assert len(samples) == len(verdicts) == len(rewards) >= 2
    assert all(isinstance(s, Sample) and s.token_ids for s in samples)
    assert all(isinstance(v, Verdict) and v.outcome != "sandbox_error" for v in verdicts)
    for s, r in zip(samples, rewards, strict=True):
        assert isinstance(r, TokenRewards)
        assert len(r.rewards) == len(s.token_ids) == len(s.logprobs)  # one r_t per token
    passed = sum(v.outcome == "passed" for v in verdicts)
    printed = capsys.readouterr().out.splitlines()
    assert float(printed[-1]) == pytest.approx(passed / len(verdicts))  # pass@1 = c / n
    assert (tmp_path / "runs" / "tiny" / "config.json").is_file()  # built in the temp dir
