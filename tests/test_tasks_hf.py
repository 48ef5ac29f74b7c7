"""hf: loader through datasets.load_dataset, on local data only (no hub here)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rltf.records import RecordError
from rltf.tasks import load_dataset

datasets = pytest.importorskip("datasets")  # an optional extra (rltf[hf]); installed in dev

FIX = Path(__file__).parent / "fixtures" / "tasks"


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # datasets writes an Arrow cache; keep it out of the user's ~/.cache
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def test_local_dir_with_split_files_mbpp_schema(tmp_path: Path) -> None:
    d = tmp_path / "mbpp"
    d.mkdir()
    rows = [json.loads(line) for line in (FIX / "mbpp.jsonl").read_text().splitlines()]
    # every column needs one Arrow type across the split files: no all-empty lists
    rows[4]["challenge_test_list"] = ["assert rev_list([1, 2, 3]) == [3, 2, 1]"]
    (d / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[4:]))
    (d / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[1:3]))
    same = {p.id: p for p in load_dataset(f"mbpp:{FIX / 'mbpp.jsonl'}")}
    test = load_dataset(f"hf:{d}:test")
    assert [p.id for p in test] == ["mbpp/11", "mbpp/12"]
    assert test == [same["mbpp/11"], same["mbpp/12"]]  # the same converter as mbpp:
    # without a split, every split is read
    assert sorted(p.id for p in load_dataset(f"hf:{d}")) == ["mbpp/11", "mbpp/12", "mbpp/601"]


def test_rows_that_do_not_unify_are_a_clear_error(tmp_path: Path) -> None:
    # one split's column is all-empty lists (Arrow type null), the other's holds strings
    row = '{"id": "%s", "prompt": "p", "solutions": %s, "tests": "{}"}\n'
    (tmp_path / "train.jsonl").write_text(row % ("a", "[]"))
    (tmp_path / "test.jsonl").write_text(row % ("b", '["x"]'))
    with pytest.raises(RecordError, match="datasets could not read the rows"):
        load_dataset(f"hf:{tmp_path}")


def test_local_file_humaneval_schema() -> None:
    problems = load_dataset(f"hf:{FIX / 'humaneval.jsonl'}")
    assert problems == load_dataset(f"humaneval:{FIX / 'humaneval.jsonl'}")


def test_local_file_apps_export_schema(tmp_path: Path) -> None:
    f = tmp_path / "apps_test.jsonl"
    shutil.copy(FIX / "apps_export" / "test.jsonl", f)
    problems = load_dataset(f"hf:{f}:train")  # a bare data file is split "train" to datasets
    assert [p.id for p in problems] == ["apps/train/0000", "apps/train/0002"]
    assert problems[1].tests.fn_name == "double"  # type: ignore[union-attr]


def test_native_schema_with_mixed_test_kinds(tmp_path: Path) -> None:
    native = load_dataset(f"jsonl:{FIX / 'native.jsonl'}")
    # mixed test kinds do not unify into one Arrow struct: store tests as a JSON string
    rows = [{**p.to_dict(), "tests": json.dumps(p.tests.to_dict())} for p in native]
    f = tmp_path / "native.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert load_dataset(f"hf:{f}") == native
    # same-kind tests as nested objects: Arrow fills missing keys with None, which is undone
    g = tmp_path / "nested.jsonl"
    g.write_text((FIX / "native.jsonl").read_text().splitlines()[0] + "\n")
    assert load_dataset(f"hf:{g}") == native[:1]


def test_unknown_schema_and_missing_dataset(tmp_path: Path) -> None:
    f = tmp_path / "other.jsonl"
    f.write_text('{"a": 1}\n')
    with pytest.raises(RecordError, match="unrecognised schema"):
        load_dataset(f"hf:{f}")
    with pytest.raises(FileNotFoundError, match="could not load"):
        load_dataset(f"hf:{tmp_path / 'nope'}")
    with pytest.raises(ValueError, match="hf:NAME"):
        load_dataset("hf:a:b:c:d")
