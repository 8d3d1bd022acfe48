"""Shared pieces of the reliability tests: case counters reported in pytest's terminal summary."""
from collections import Counter

import pytest

# "<label>" -> cases tried, "<label>:5xx" -> server errors seen; filled by the tests, printed at the end.
CASES: Counter[str] = Counter()


def case_record(label: str, status: int) -> None:
    CASES[label] += 1
    CASES[f"{label}:{status // 100}xx"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    labels = sorted(label for label in CASES if ":" not in label)
    if not labels:
        return
    terminalreporter.section("reliability case counts")
    for label in labels:
        terminalreporter.write_line(
            f"{label}: {CASES[label]} cases, {CASES[label + ':5xx']} server errors "
            f"({CASES[label + ':2xx']} 2xx, {CASES[label + ':3xx']} 3xx, {CASES[label + ':4xx']} 4xx)"
        )


@pytest.fixture
def discourse_source(db: None) -> "ForumSource":
    from forum_helper.intake.models import ForumSource
    from tests.intake.conftest import DISCOURSE_INSTANCE, DISCOURSE_SECRET

    return ForumSource.objects.create(
        slug="glow", kind=ForumSource.Kind.DISCOURSE, secrets=[DISCOURSE_SECRET], instance_url=DISCOURSE_INSTANCE
    )


@pytest.fixture
def standard_source(db: None) -> "ForumSource":
    from forum_helper.intake.models import ForumSource
    from tests.intake.conftest import STANDARD_SECRET

    return ForumSource.objects.create(slug="skinhub", kind=ForumSource.Kind.STANDARD, secrets=[STANDARD_SECRET])
