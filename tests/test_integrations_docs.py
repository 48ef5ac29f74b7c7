"""docs/integrations/*.md run as written: every ```python block of a page is executed in order,
in one namespace, in a temporary directory, and the objects it leaves are checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs" / "integrations"


def run_page(name: str) -> dict[str, object]:
    text = (DOCS / name).read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)
    assert blocks, f"{name} has no ```python block"
    ns: dict[str, object] = {"__name__": f"docs_{name}"}
    for i, code in enumerate(blocks):
        exec(compile(code, f"{DOCS / name}:block{i}", "exec"), ns)
    return ns


def test_trl_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("trl", reason="the 'trl' extra is not installed (pip install 'rltf[trl]')")
    monkeypatch.chdir(tmp_path)
    ns = run_page("trl.md")
    trainer = ns["trainer"]
    assert trainer.state.global_step == 1  # type: ignore[attr-defined]
    mean = trainer.state.log_history[0]["rewards/rltf_coarse/mean"]  # type: ignore[attr-defined]
    assert -1.0 <= mean <= 1.0


def test_verl_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rltf.integrations.verl import close_pool

    monkeypatch.chdir(tmp_path)
    try:
        ns = run_page("verl.md")
    finally:
        close_pool()
    assert (tmp_path / "data" / "basic" / "train.parquet").is_file()
    assert ns["score"] == {**ns["score"], "score": -0.3, "outcome": "failed"}  # type: ignore[dict-item]
    results = ns["results"]
    assert [r.verdict.outcome for r in results] == ["passed", "runtime_error"]  # type: ignore[attr-defined]
    assert ns["rewards"].shape == (2, ns["width"])  # type: ignore[attr-defined]
    assert ns["trainable"].tolist() == [True, True]  # type: ignore[attr-defined]
