"""Django-free detection engine: rules (data) -> compiled RE2 scanner -> Analysis per post.

Entry points: compile_ruleset(rules, version) once, then analyze(post, context, ruleset), or
analyze_many(pairs, ruleset) for a batch whose posts share thread texts.
"""

from forum_helper.analysis.engine import analyze, analyze_many, shared_thread_readings
from forum_helper.analysis.model import (
    AUTHOR_ROLES,
    CATEGORIES,
    MODIFIERS,
    SEVERITIES,
    STANCES,
    Analysis,
    Evidence,
    Measures,
    PostContext,
    PostInput,
)
from forum_helper.analysis.ruleset import (
    DEFAULT_RULESET_PATH,
    CompiledRuleset,
    RulesetError,
    compile_ruleset,
    load_default_rules,
    load_ruleset_document,
)

__all__ = [
    "AUTHOR_ROLES",
    "CATEGORIES",
    "DEFAULT_RULESET_PATH",
    "MODIFIERS",
    "SEVERITIES",
    "STANCES",
    "Analysis",
    "CompiledRuleset",
    "Evidence",
    "Measures",
    "PostContext",
    "PostInput",
    "RulesetError",
    "analyze",
    "analyze_many",
    "compile_ruleset",
    "load_default_rules",
    "load_ruleset_document",
    "shared_thread_readings",
]
