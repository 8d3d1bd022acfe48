"""Shared fixtures for the engine tests: the default ruleset, compiled once per session."""

from __future__ import annotations

import pytest

from forum_helper.analysis import CompiledRuleset, compile_ruleset, load_ruleset_document


@pytest.fixture(scope="session")
def ruleset() -> CompiledRuleset:
    document = load_ruleset_document()
    return compile_ruleset(document["rules"], version=document["version"])
