"""Problems and their tests: dataset loaders, prompt formats, built-in benchmark.

problems = load_dataset("humaneval")            # or jsonl:/apps:/mbpp:/hf:/builtin: specs
prompt = format_prompt(problems[0])             # style picked from the problem's source
"""

from rltf.tasks.loaders import FORMATS, builtin_catalog, load_dataset
from rltf.tasks.prompts import STYLES, Prompt, format_prompt, resolve_style
from rltf.tasks.sanitize import fenced_code_span, humaneval_program

__all__ = [
    "FORMATS",
    "STYLES",
    "Prompt",
    "builtin_catalog",
    "fenced_code_span",
    "format_prompt",
    "humaneval_program",
    "load_dataset",
    "resolve_style",
]
