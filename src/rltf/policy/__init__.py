"""The policy: Hugging Face models behind one interface (generation with log-probs and offsets)."""
