"""Data quality: a DQDL-subset parser, its evaluators on Spark DataFrames (``evaluate``) and on
warehouse tables (``warehouse``), and the verdict both share (``verdict``).

The Spark names are imported on first use, so the warehouse side (the curate job) runs
without importing Spark.
"""

from rental_analytics.quality.dqdl import DQDLSyntaxError, Rule, RuleKind, parse_ruleset
from rental_analytics.quality.verdict import DatasetFailure

_SPARK_NAMES = frozenset({"FAILURES_COLUMN", "evaluate_dataset", "with_row_failures"})

__all__ = [
    "FAILURES_COLUMN",
    "DQDLSyntaxError",
    "DatasetFailure",
    "Rule",
    "RuleKind",
    "evaluate_dataset",
    "parse_ruleset",
    "with_row_failures",
]


def __getattr__(name: str):
    if name in _SPARK_NAMES:
        from rental_analytics.quality import evaluate

        return getattr(evaluate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
