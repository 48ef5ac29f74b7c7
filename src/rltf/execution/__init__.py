"""Sandboxed execution of untrusted programs against unit tests, returning Verdicts.

    from rltf.execution import ExecutionPool
    with ExecutionPool(workers=2) as pool:
        verdict = pool.submit(problem, program).result()

See docs/execution.md for the threat model, the isolation layers and the comparison rules.
"""

from rltf.execution.compare import call_equal, stdio_equal, values_equal
from rltf.execution.config import ExecutionConfig
from rltf.execution.pool import ExecutionPool

__all__ = ["ExecutionConfig", "ExecutionPool", "call_equal", "stdio_equal", "values_equal"]
