"""Shared fixtures for the engine tests: the default ruleset with the learned reading, as the
product runs it, compiled once per session."""

from __future__ import annotations

import pytest

from forum_helper.analysis import CompiledRuleset, compile_ruleset, load_ruleset_document
from forum_helper.analysis.learned import load_learned_model


@pytest.fixture(scope="session")
def ruleset() -> CompiledRuleset:
    document = load_ruleset_document()
    return compile_ruleset(document["rules"], version=document["version"], learned=load_learned_model())
