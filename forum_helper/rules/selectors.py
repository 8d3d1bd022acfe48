from dataclasses import dataclass, field
from functools import lru_cache

from forum_helper.analysis import CompiledRuleset, compile_ruleset, load_default_rules


@dataclass(frozen=True)
class ActiveRuleset:
    version: int
    compiled: CompiledRuleset
    # rule id -> revision id, recorded on each finding.
    rule_revisions: dict[str, int] = field(default_factory=dict)


@lru_cache(maxsize=4)
def _compiled_default() -> ActiveRuleset:
    return ActiveRuleset(version=1, compiled=compile_ruleset(load_default_rules(), version=1))


def ruleset_active() -> ActiveRuleset:
    """The ruleset screening uses now. (Placeholder: the default fixture until rules live in the DB.)"""
    return _compiled_default()
