"""The records passed between pipeline stages (DESIGN.md §2).

    Problem ──► Sample ──► Verdict ──► TokenRewards (rltf.feedback)

Every record is a frozen dataclass with ``to_dict`` / ``from_dict`` for a JSON round trip.
``from_dict`` validates and raises :class:`RecordError` naming the place (file and line, when the
caller passes ``where``) and the field, so a malformed dataset row is never silently accepted.

One module per record: ``problem`` (Problem and its tests), ``sample`` (Sample), ``verdict``
(Verdict, outcomes, test results, errors); ``_validation`` holds ``RecordError``, the ``JSON``
alias and the shared ``from_dict`` helpers.
"""

from rltf.records._validation import JSON as JSON
from rltf.records._validation import RecordError
from rltf.records.problem import (
    AssertTests,
    CallCase,
    CallTests,
    Problem,
    StdioCase,
    StdioTests,
    Tests,
    tests_from_dict,
)
from rltf.records.problem import TestKind as TestKind
from rltf.records.sample import Sample
from rltf.records.verdict import (
    CATEGORIES,
    OUTCOMES,
    TEST_OUTCOMES,
    Category,
    ErrorInfo,
    Outcome,
    TestOutcome,
    TestResult,
    Verdict,
    is_plain_data,
)

__all__ = [
    "CATEGORIES",
    "OUTCOMES",
    "TEST_OUTCOMES",
    "AssertTests",
    "CallCase",
    "CallTests",
    "Category",
    "ErrorInfo",
    "Outcome",
    "Problem",
    "RecordError",
    "Sample",
    "StdioCase",
    "StdioTests",
    "TestOutcome",
    "TestResult",
    "Tests",
    "Verdict",
    "is_plain_data",
    "tests_from_dict",
]
