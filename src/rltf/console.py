"""Logging set-up and a progress helper for long loops (rich)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

# Diagnostics go to stderr so that stdout stays clean for tables and JSON.
stderr = Console(stderr=True)


def setup_logging(verbosity: int = 0) -> None:
    """verbosity: -1 quiet (warnings only), 0 info, 1 debug."""
    level = logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO
    handler = RichHandler(
        console=stderr, show_path=verbosity > 0, rich_tracebacks=False, markup=False
    )
    logging.basicConfig(
        level=level, format="%(message)s", datefmt="[%X]", handlers=[handler], force=True
    )
    # Third-party libraries are chatty at INFO.
    for noisy in ("transformers", "datasets", "urllib3", "filelock", "httpx", "matplotlib"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def make_progress(transient: bool = False) -> Progress:
    """A rich Progress with count, rate-free bar and ETA; disabled when stderr is not a terminal
    and logging is quiet (so CI logs are not flooded)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
        console=stderr,
        transient=transient,
        disable=not sys.stderr.isatty() and logging.getLogger().level > logging.INFO,
    )


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar: ``for x in track(xs, "executing"): ...``."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with make_progress() as progress:
        task = progress.add_task(description, total=total, status="")
        for item in items:
            yield item
            progress.advance(task)
