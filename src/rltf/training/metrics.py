"""Metrics: every value goes to a JSONL file (for scripts) and to TensorBoard (for eyes).

    run_dir/metrics.jsonl   one object per logged step: {"step": s, "time": t, "loss/sl": ...}
    run_dir/samples.jsonl   every few steps, a few generated programs with their verdicts, so
                            reward hacking (programs that game the checker) is visible
    run_dir/tb/             TensorBoard event files (scalars; programs as text)

On resume, entries after the checkpoint's step are removed from the JSONL files and TensorBoard
is told to purge them, so a killed-and-resumed run's logs read like an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def _truncate_jsonl(path: Path, last_step: int) -> None:
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if int(json.loads(line)["step"]) <= last_step:
                kept.append(line)
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by a kill mid-write
    path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN/inf; keep them visible rather than dropping
    return value


class MetricsLogger:
    def __init__(
        self, run_dir: str | Path, *, tensorboard: bool = True, resume_step: int | None = None
    ) -> None:
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.metrics_path = self.dir / "metrics.jsonl"
        self.samples_path = self.dir / "samples.jsonl"
        if resume_step is not None:
            _truncate_jsonl(self.metrics_path, resume_step)
            _truncate_jsonl(self.samples_path, resume_step)
        elif self.metrics_path.exists() or self.samples_path.exists():
            self.metrics_path.unlink(missing_ok=True)
            self.samples_path.unlink(missing_ok=True)
        self._metrics = open(self.metrics_path, "a", encoding="utf-8")  # noqa: SIM115
        self._samples = open(self.samples_path, "a", encoding="utf-8")  # noqa: SIM115
        self._tb: Any = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            purge = None if resume_step is None else resume_step + 1
            self._tb = SummaryWriter(str(self.dir / "tb"), purge_step=purge)

    def log(self, step: int, metrics: Mapping[str, float | int | str | None]) -> None:
        row = {"step": step, "time": round(time.time(), 3)}
        row.update({k: _jsonable(v) for k, v in metrics.items()})
        self._metrics.write(json.dumps(row) + "\n")
        self._metrics.flush()
        if self._tb is not None:
            for key, value in metrics.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self._tb.add_scalar(key, value, step)

    def log_samples(self, step: int, samples: Sequence[Mapping[str, Any]]) -> None:
        """``samples``: plain dicts, e.g. {"problem_id", "program", "outcome", "reward", ...}."""
        for s in samples:
            self._samples.write(json.dumps({"step": step, **s}) + "\n")
        self._samples.flush()
        if self._tb is not None and samples:
            text = "\n\n".join(
                f"**{s.get('problem_id')}** — {s.get('outcome')} "
                f"(reward {s.get('reward')})\n\n```python\n{s.get('program', '')}\n```"
                for s in samples
            )
            self._tb.add_text("samples", text, step)

    def flush(self) -> None:
        self._metrics.flush()
        self._samples.flush()
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        self._metrics.close()
        self._samples.close()
        if self._tb is not None:
            self._tb.close()

    def __enter__(self) -> MetricsLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
