"""Problems and their tests: the Problem record, dataset loaders, prompt formats, built-in benchmark."""

from rltf.tasks.loaders import FORMATS, load_dataset

__all__ = ["FORMATS", "load_dataset"]
