"""Problems and their tests: the Problem record, dataset loaders, prompt formats, built-in benchmark."""
