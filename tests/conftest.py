import copy
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(name: str, available: bool, how_to_fix: str) -> None:
    """In CI a missing service fails the test; elsewhere it skips with the reason."""
    if available:
        return
    message = f"{name} is not available: {how_to_fix}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


TEST_PASSWORD = "pw-123456789"


def user_with_role(username: str, group: str | None = None) -> User:
    """A user in one role group (moderators, admins) or in none."""
    user = User.objects.create_user(username=username, password=TEST_PASSWORD)
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture(autouse=True)
def forum_source_cache_cleared() -> None:
    """Each test's database is reset behind the app's back (a rollback sends no signals), so no
    test may answer from a source an earlier test cached."""
    from forum_helper.intake.selectors import forum_source_cache_clear

    forum_source_cache_clear()


class _SharedCompiles:
    """compile_ruleset for the rules app's modules, sharing the compiled ruleset of records it has
    compiled before (the same records, version and options give the same ruleset).

    Nearly every test of the rules, screening and moderation apps compiles the default ruleset
    from the database (the active ruleset, the baseline of a backtest, the check of a rule edit)
    and a backtest's reference compiles what the command compiled: ~450 compiles of ~100 distinct
    rulesets, a third of the suite's time. A compiled ruleset is immutable and shared between
    threads by design (forum_helper.analysis.ruleset.CompiledRuleset); the original compiles a
    private copy of the records, so no caller's later edit can reach a shared one; failures are
    never remembered (every refused record set is compiled, and refused, again). The engine's own
    tests (tests/analysis) and every subprocess (integration, bench) compile for real.
    """

    MODULES = ("forum_helper.rules.backtest", "forum_helper.rules.selectors", "forum_helper.rules.validation")
    # The most recently used ones (each holds its RE2 DFAs: ~20 MB once warm; 16 keep the test
    # process near 700 MB).
    SIZE = 16

    def __init__(self, compile_ruleset: Callable[..., Any]) -> None:
        self.compile_ruleset = compile_ruleset
        self.compiled: OrderedDict[tuple, Any] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, rules: Iterable[Any], version: int = 0, **options: Any) -> Any:
        rules = copy.deepcopy(list(rules))
        try:
            key = (
                json.dumps(rules, sort_keys=True),
                version,
                tuple(sorted((name, value if value is None or isinstance(value, (bool, int, str)) else ("object", id(value)))
                             for name, value in options.items())),
            )
        except TypeError:  # not JSON records: nothing to key them by
            return self.compile_ruleset(rules, version, **options)
        with self.lock:
            entry = self.compiled.get(key)
            if entry is not None:
                self.compiled.move_to_end(key)
                return entry[0]
        compiled = self.compile_ruleset(rules, version, **options)
        with self.lock:
            # The options are kept with it: an object keyed by id() must outlive its entry.
            self.compiled[key] = (compiled, options)
            while len(self.compiled) > self.SIZE:
                self.compiled.popitem(last=False)
        return compiled


@pytest.fixture(scope="session", autouse=True)
def rules_compiles_shared() -> Iterator[None]:
    import importlib

    from forum_helper.analysis import ruleset

    shared = _SharedCompiles(ruleset.compile_ruleset)
    with pytest.MonkeyPatch.context() as patch:
        for name in _SharedCompiles.MODULES:
            module = importlib.import_module(name)
            assert module.compile_ruleset is ruleset.compile_ruleset, name
            patch.setattr(module, "compile_ruleset", shared)
        yield
