"""Suite-wide settings.

One intra-op thread per process: the suite runs sandbox workers, tiny-model training and
generation side by side on 2-core CI machines, where torch's default (one thread per core)
oversubscribes the CPU and makes small-model steps 10x slower. Set before torch is imported;
subprocesses (the `rltf` CLI under test) inherit it.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
