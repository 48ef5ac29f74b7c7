"""Adversarial suite: every attack gets no pass, does no harm, gets a verdict in bounded time, and
leaves the pool alive. The attacks (tests/fixtures/execution/attacks.py) run inside a throwaway PID
namespace (``unshare --pid --fork --mount-proc``), so that a sandbox failure could only reach
processes of that namespace; this module reads the runner's report."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RUNNER = Path(__file__).parent / "fixtures" / "execution" / "attacks.py"
_spec = importlib.util.spec_from_file_location("rltf_test_execution_attacks", RUNNER)
assert _spec is not None and _spec.loader is not None
attacks = importlib.util.module_from_spec(_spec)  # the attack and control definitions
_spec.loader.exec_module(attacks)

needs_root_linux = pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="the adversarial suite needs Linux, root (setuid sandbox) and unshare(1)",
)
ATTACKS = list(attacks.attacks("/t", "/t/s", "/t/a", 1))
# Outcomes each attack may get (never "passed"); the rest only needs "not passed".
EXPECTED: dict[str, set[str]] = {
    "infinite_loop": {"timeout"},
    "ignore_signals": {"timeout"},
    "sleep_forever": {"timeout"},
    "non_daemon_thread": {"timeout"},
    "memory_bomb": {"runtime_error"},
    "memory_bomb_touched": {"runtime_error", "timeout"},
    "numpy_memory_bomb": {"runtime_error"},
    "recursion_bomb": {"runtime_error"},
    "segfault": {"runtime_error"},
    "abort": {"runtime_error"},
    "write_outside": {"runtime_error"},
    "delete_file": {"runtime_error"},
    "read_answer_file": {"runtime_error"},
    "read_answer_call": {"runtime_error"},
    "read_proc_environ": {"runtime_error"},
    "read_proc_mem": {"runtime_error"},
    "process_vm_readv": {"runtime_error"},
    "ptrace_attach": {"runtime_error"},
    "user_namespace": {"runtime_error"},
    "setuid_root": {"runtime_error"},
    "network_loopback": {"runtime_error"},
    "network_raw_socket": {"runtime_error"},
    "list_dataset_dir": {"runtime_error"},
    "read_root_home": {"runtime_error"},
    "eq_override_call": {"failed"},
    "eq_override_assert": {"failed"},
}


# Attacks whose exact outcome depends on Landlock (world-readable/writable files outside).
LANDLOCK_DEPENDENT = {
    "write_outside",
    "delete_file",
    "read_answer_file",
    "read_answer_call",
    "list_dataset_dir",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("attacks") / "report.json"
    cmd = ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, str(RUNNER), str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


@needs_root_linux
@pytest.mark.parametrize("name", ATTACKS)
def test_attack_gets_no_pass_in_bounded_time(report: dict[str, Any], name: str) -> None:
    verdict = report["attacks"][name]
    assert verdict["outcome"] != "passed"
    assert verdict["passed"] == 0
    if "landlock" in report["isolation"] or name not in LANDLOCK_DEPENDENT:
        assert verdict["outcome"] in EXPECTED.get(name, {verdict["outcome"]}), verdict
    assert verdict["outcome"] != "sandbox_error", verdict
    cfg = attacks.CONFIG
    assert sum(t["seconds"] for t in verdict["tests"]) <= cfg.timeout_per_program + 1.0
    text = json.dumps(verdict)
    assert report["answer"] not in text and report["secret_env"] not in text


@needs_root_linux
def test_attacks_finish_in_bounded_time_on_a_living_pool(report: dict[str, Any]) -> None:
    # 2 workers; only the timeouts take long, each at most the program budget.
    assert report["attack_seconds"] < report["attack_count"] / 2 * 1.0 + 60
    assert not report["workers_replaced"]  # no attack crashed a worker
    for name, verdict in report["controls"].items():
        assert verdict["outcome"] == "passed", (name, verdict)


@needs_root_linux
def test_attacks_do_no_harm(report: dict[str, Any]) -> None:
    if "landlock" not in report["isolation"]:
        pytest.skip("without Landlock, world-writable files outside the sandbox are writable")
    assert report["sentinel"] == "precious" and report["sentinel_mode"] == "0o666"
    assert report["files_in_tmp"] == ["answers.txt", "keep.txt"]  # no daemon.txt, no pwned.txt
    assert not report["pwned_in_tmp_root"]
    assert report["connections"] == []  # the loopback listener was never reached


@needs_root_linux
def test_no_process_outlives_its_verdict(report: dict[str, Any]) -> None:
    assert report["stray_after_attacks"] == []  # daemons, fork storms, subprocesses: all reaped
    assert report["stray_after_close"] == []
    assert report["others_in_namespace"] == []  # workers and zygotes gone after close()


def kernel_offers_seccomp() -> bool:
    """Seccomp filtering is compiled into this kernel (``Seccomp:`` in /proc/self/status)."""
    try:
        with open("/proc/self/status") as f:
            return any(line.startswith("Seccomp:") for line in f)
    except OSError:
        return False


@needs_root_linux
def test_isolation_as_root(report: dict[str, Any]) -> None:
    """Every mechanism the machine offers must be active: a missing one is dropped with only a
    warning at start-up (seccomp without ``pyseccomp``, say), which this test turns into a
    failure. Root under ``unshare`` always offers setuid and network namespaces."""
    from rltf.execution.isolation import landlock_abi

    wanted = ["setuid", "rlimits", "netns", "uid-sweep", "tmpfs"]
    wanted += ["landlock"] if landlock_abi() > 0 else []
    wanted += ["seccomp"] if kernel_offers_seccomp() else []
    missing = [m for m in wanted if m not in report["isolation"]]
    hint = " (seccomp needs pyseccomp: pip install 'rltf[sandbox]')" if "seccomp" in missing else ""
    assert not missing, f"isolation {report['isolation']} lacks {missing}{hint}"
