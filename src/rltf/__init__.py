"""rltf: reinforcement learning from unit-test feedback."""

__version__ = "0.1.0"
