"""Classification: each error cluster becomes `infrastructure_error` or `code_error`.

Sources, cheapest sure one first: human overrides, the store's cache, the rule library
(`rules.yaml`), Claude (`llm.py`, when an API key is configured) and the offline model
(`offline.py`). Pure Python: no dagster here; anthropic and scikit-learn are imported only
when they are needed, so importing this package is cheap (the CI step relies on that).

`RULES_VERSION` and `PROMPT_VERSION` are computed on first access.
"""

from __future__ import annotations

from typing import Any

from error_assets.classification.classifier import (
    ClassificationInput,
    ClassificationRun,
    Classifier,
    ClassifierConfig,
    build_classifier,
    input_key,
)

__all__ = [
    "PROMPT_VERSION",
    "RULES_VERSION",
    "ClassificationInput",
    "ClassificationRun",
    "Classifier",
    "ClassifierConfig",
    "build_classifier",
    "input_key",
]


def __getattr__(name: str) -> Any:
    if name == "RULES_VERSION":
        from error_assets.classification.rules import load_rules

        return load_rules().version
    if name == "PROMPT_VERSION":
        from error_assets.classification.offline import load_training_corpus
        from error_assets.classification.prompt import prompt_version, static_system_prompt
        from error_assets.classification.rules import load_rules

        return prompt_version(static_system_prompt(load_rules(), load_training_corpus()))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
