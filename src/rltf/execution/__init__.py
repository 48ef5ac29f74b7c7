"""Sandboxed execution of untrusted programs against unit tests, returning Verdicts."""
