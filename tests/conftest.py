"""Suite-wide settings.

One intra-op thread per process: the suite runs sandbox workers, tiny-model training and
generation side by side on 2-core CI machines, where torch's default (one thread per core)
oversubscribes the CPU and makes small-model steps 10x slower. Set before torch is imported;
subprocesses (the `rltf` CLI under test) inherit it.
"""

import os

from hypothesis import HealthCheck, settings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Hypothesis: no per-example deadline and no "too slow" health check. Both measure wall-clock
# time, which on a 2-core machine shared with sandbox workers and training runs says more about
# the neighbours than about the code (issue 17: the 200 ms default flakes under load).
# Correctness is what these properties test; speed has its own benchmarks. HYPOTHESIS_PROFILE=dev
# restores Hypothesis's defaults. print_blob: a failure prints the line that replays it.
settings.register_profile(
    "loaded", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "loaded"))
