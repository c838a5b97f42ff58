"""Data quality: a DQDL-subset parser and its evaluator on Spark DataFrames."""

from rental_analytics.quality.dqdl import DQDLSyntaxError, Rule, RuleKind, parse_ruleset
from rental_analytics.quality.evaluate import (
    FAILURES_COLUMN,
    DatasetFailure,
    evaluate_dataset,
    with_row_failures,
)

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
