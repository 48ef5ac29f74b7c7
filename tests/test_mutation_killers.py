"""Tests written to kill the mutants that `make mutate` (mutmut) found surviving.

Each test names the mutant it kills and says why the existing tests missed it; the verdict of every
survivor is in docs/testing.md.
"""
