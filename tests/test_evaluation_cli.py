"""`rltf generate` and `rltf evaluate` end to end on a tiny fixture dataset and a tiny model."""

import json
from pathlib import Path

import pytest

from rltf.cli import main
from rltf.evaluation import evaluate, read_programs
from rltf.tasks import load_dataset

FIXTURES = Path(__file__).parent / "fixtures" / "evaluation"
DATASET = f"jsonl:{FIXTURES / 'tiny.jsonl'}"
PROGRAMS = FIXTURES / "programs.jsonl"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from rltf.policy import build_tiny_model

    problems = load_dataset(DATASET)
    corpus = [p.prompt for p in problems] + [s for p in problems for s in p.solutions]
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), corpus, n_layer=1, n_embd=32)


def gen_args(model: Path, out: Path, *extra: str) -> list[str]:
    return [
        "generate", "-q", "--model", str(model), "--dataset", DATASET, "--n", "3",
        "--temperature", "1.0", "--max-new-tokens", "16", "--out", str(out), *extra,
    ]  # fmt: skip


def test_generate_writes_programs_file(tiny_model, tmp_path):
    out = tmp_path / "progs.jsonl"
    assert main(gen_args(tiny_model, out)) == 0
    rows = read_programs(out, ["add", "double", "is_even"])
    assert sorted(r.key for r in rows) == [
        (p, i) for p in ("add", "double", "is_even") for i in range(3)
    ]
    assert all(r.policy_version == 0 for r in rows)
    # same seed -> same programs
    again = tmp_path / "again.jsonl"
    assert main(gen_args(tiny_model, again)) == 0
    assert read_programs(again) == rows


def test_generate_refuses_to_clobber_then_resumes(tiny_model, tmp_path, capsys):
    out = tmp_path / "progs.jsonl"
    assert main([*gen_args(tiny_model, out), "--limit", "1"]) == 0
    assert main(gen_args(tiny_model, out)) == 2
    assert "--resume" in capsys.readouterr().err
    lines_before = out.read_text().splitlines()
    assert main([*gen_args(tiny_model, out), "--resume"]) == 0
    lines_after = out.read_text().splitlines()
    assert lines_after[: len(lines_before)] == lines_before and len(lines_after) == 9
    assert main([*gen_args(tiny_model, out), "--overwrite", "--n", "1"]) == 0
    assert len(out.read_text().splitlines()) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--programs", "nope.jsonl"], "programs file not found"),
        ([], "exactly one of --model, --programs or --samples"),
        (["--programs", str(PROGRAMS), "--k", "1,x"], "--k"),
        (["--programs", str(PROGRAMS), "--n", "0"], "--n"),
        (["--model", "m", "--programs", str(PROGRAMS)], "exactly one"),
    ],
)
def test_evaluate_bad_input(tmp_path, capsys, args, message):
    assert main(["evaluate", "-q", "--dataset", DATASET, "--out-dir", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_evaluate_unknown_problem_id_names_file_and_line(tmp_path, capsys):
    progs = tmp_path / "p.jsonl"
    progs.write_text(PROGRAMS.read_text() + '{"problem_id": "ghost", "index": 0, "program": "x"}\n')
    code = main(
        [
            "evaluate",
            "-q",
            "--programs",
            str(progs),
            "--dataset",
            DATASET,
            "--out-dir",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert f"{progs}:7: field 'problem_id': unknown problem id 'ghost'" in capsys.readouterr().err


def test_evaluate_policy_resumes_generation(tiny_model, tmp_path):
    """With a fake pool: the second run neither generates nor executes anything."""
    from rltf.policy import GenerationConfig, load_policy
    from test_evaluation_resume import FakePool

    policy = load_policy(str(tiny_model))
    calls = []
    real_generate = policy.generate

    def counting_generate(*a, **kw):
        calls.append(a[1])
        return real_generate(*a, **kw)

    policy.generate = counting_generate  # type: ignore[method-assign]
    problems = load_dataset(DATASET)
    gen = GenerationConfig(max_new_tokens=8, batch_size=4)
    kw = dict(
        out_dir=tmp_path, n=2, ks=[1, 2], dataset=DATASET, policy=policy, gen=gen, model="tiny"
    )
    pool = FakePool()
    rep = evaluate(problems, pool=pool, **kw)
    assert len(pool.submitted) == 6 and calls == [["add", "double"], ["is_even"]]
    assert rep.num_samples == 6 and rep.sampling["max_new_tokens"] == 8
    calls.clear()
    pool2 = FakePool()

    def must_not_load():
        raise AssertionError("the model was loaded although every sample exists")

    rep2 = evaluate(problems, pool=pool2, **{**kw, "policy": must_not_load})
    assert calls == [] and pool2.submitted == []
    assert rep2.outcomes == rep.outcomes
    # changing the sampling settings in the same directory is refused
    with pytest.raises(ValueError, match="sampling"):
        evaluate(problems, pool=FakePool(), **{**kw, "gen": GenerationConfig(max_new_tokens=9)})
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["model"] == "tiny" and report["n"] == 2


def test_evaluate_policy_in_memory(tiny_model, tmp_path, monkeypatch):
    from rltf.evaluation import evaluate_policy
    from rltf.policy import GenerationConfig, load_policy
    from test_evaluation_resume import FakePool

    monkeypatch.chdir(tmp_path)
    problems = load_dataset(DATASET)
    pool = FakePool()
    gen = GenerationConfig(max_new_tokens=8)
    rep = evaluate_policy(
        load_policy(str(tiny_model)), problems, 3, [1, 3], gen, pool, dataset="tiny"
    )
    assert rep.num_samples == 9 and len(pool.submitted) == 9 and set(rep.pass_at_k) == {1, 3}
    assert all(mode == "eval" for *_, mode in pool.submitted)
    assert rep.sampling["temperature"] == 1.0 and rep.timings["generation"] > 0
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_generation_config_from_flags_config_and_overrides(tmp_path):
    from rltf.cli import build_parser
    from rltf.cli.generate import generation_config

    cfg = tmp_path / "gen.yaml"
    cfg.write_text('top_p: 0.5\nstop: ["\\nif"]\nmax_new_tokens: 99\n')
    base = ["generate", "--model", "m", "--dataset", DATASET, "--out", "x", "--config", str(cfg)]
    args = build_parser().parse_args(
        [*base, "--set", "max_prompt_tokens=7", "--max-new-tokens", "5"]
    )
    gen = generation_config(args)
    assert (gen.top_p, gen.stop, gen.max_prompt_tokens, gen.max_new_tokens) == (
        0.5,
        ("\nif",),
        7,
        5,
    )
    assert gen.do_sample and gen.temperature == 1.0
    greedy = generation_config(build_parser().parse_args([*base, "--temperature", "0"]))
    assert not greedy.do_sample
    with pytest.raises(ValueError, match="top_p"):
        generation_config(build_parser().parse_args([*base, "--top-p", "1.5"]))
    with pytest.raises(ValueError, match="unknown"):
        generation_config(build_parser().parse_args([*base, "--set", "nope=1"]))
