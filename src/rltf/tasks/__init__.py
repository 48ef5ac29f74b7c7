"""Problems and their tests: dataset loaders, prompt formats, built-in benchmark.

problems = load_dataset("humaneval")            # or jsonl:/apps:/mbpp:/hf:/builtin: specs
prompt = format_prompt(problems[0])             # style picked from the problem's source
"""

from rltf.tasks.loaders import FORMATS, builtin_catalog, load_dataset
from rltf.tasks.prompts import STYLES, Prompt, code_span, format_prompt

__all__ = [
    "FORMATS",
    "STYLES",
    "Prompt",
    "builtin_catalog",
    "code_span",
    "format_prompt",
    "load_dataset",
]
