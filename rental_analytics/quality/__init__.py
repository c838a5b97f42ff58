"""Data quality: a DQDL-subset parser (``dqdl``), its evaluators on Spark DataFrames
(``evaluate``) and on warehouse tables (``warehouse``), the verdict both share
(``verdict``), and raw_data.rejects (``rejects``).

The package itself imports no Spark: the warehouse side (the curate job) runs without it,
and the Spark evaluator is imported from ``rental_analytics.quality.evaluate``.
"""

from rental_analytics.quality.dqdl import DQDLSyntaxError, Rule, RuleKind, parse_ruleset
from rental_analytics.quality.verdict import DatasetFailure

__all__ = ["DQDLSyntaxError", "DatasetFailure", "Rule", "RuleKind", "parse_ruleset"]
