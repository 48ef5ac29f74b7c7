"""Evaluation: unbiased pass@k, reports (JSON + markdown), plots (DESIGN.md §3).

Heavy dependencies (torch, the sandbox) are imported only when a policy is sampled or programs
are executed, so ``from rltf.evaluation import pass_at_k`` is cheap.
"""

from rltf.evaluation.evaluate import (
    PROGRAMS_FILE,
    RESULTS_FILE,
    evaluate,
    evaluate_policy,
    execute_programs,
)
from rltf.evaluation.generation import generate_programs, sampling_settings
from rltf.evaluation.passk import PassAtK, parse_ks, pass_at_k, pass_at_k_table
from rltf.evaluation.records import (
    ProgramRow,
    ResultRow,
    read_programs,
    read_results,
    write_programs,
)
from rltf.evaluation.report import (
    EvalReport,
    GroupPassAtK,
    ProblemResult,
    build_report,
    write_report,
)

__all__ = [
    "PROGRAMS_FILE",
    "RESULTS_FILE",
    "EvalReport",
    "GroupPassAtK",
    "PassAtK",
    "ProblemResult",
    "ProgramRow",
    "ResultRow",
    "build_report",
    "evaluate",
    "evaluate_policy",
    "execute_programs",
    "generate_programs",
    "parse_ks",
    "pass_at_k",
    "pass_at_k_table",
    "read_programs",
    "read_results",
    "sampling_settings",
    "write_programs",
    "write_report",
]
