"""Sandboxed execution of untrusted programs against unit tests, returning Verdicts.

    from rltf.execution import ExecutionPool
    with ExecutionPool(workers=2) as pool:
        verdict = pool.submit(problem, program).result()

See docs/execution.md for the threat model, the isolation layers and the comparison rules.
Exports are loaded lazily: the sandbox processes import submodules of this package and must stay
small (every page they map is copied at each fork).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rltf.execution.compare import call_equal, stdio_equal, values_equal
    from rltf.execution.config import ExecutionConfig
    from rltf.execution.pool import ExecutionPool

_EXPORTS = {
    "ExecutionConfig": "rltf.execution.config",
    "ExecutionPool": "rltf.execution.pool",
    "call_equal": "rltf.execution.compare",
    "stdio_equal": "rltf.execution.compare",
    "values_equal": "rltf.execution.compare",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rltf.execution' has no attribute {name!r}")


__all__ = ["ExecutionConfig", "ExecutionPool", "call_equal", "stdio_equal", "values_equal"]
