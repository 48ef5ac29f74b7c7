"""docs/rewards.md stays true: its category table is the code's, its worked example is what
docs/examples/rewards_example.py prints today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rltf.feedback import category_table_markdown

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "rewards.md"
EXAMPLE = ROOT / "docs" / "examples" / "rewards_example.py"


def test_docs_embed_the_category_table() -> None:
    assert category_table_markdown() in DOCS.read_text(encoding="utf-8"), (
        "docs/rewards.md is out of date: paste `python docs/examples/rewards_example.py --table`"
    )


def test_docs_worked_example_is_reproducible() -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, check=True
    )
    assert "`IndexError: list index out of range` at line 3, category `line`" in run.stdout
    assert run.stdout in DOCS.read_text(encoding="utf-8"), (
        "docs/rewards.md is out of date: paste `python docs/examples/rewards_example.py`"
    )
