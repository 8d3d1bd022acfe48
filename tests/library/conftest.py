from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from forum_helper.core.roles import ADMINS, MODERATORS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "library"

def _user(username: str, group: str | None) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def admin_user(db) -> User:
    return _user("ada", ADMINS)


@pytest.fixture
def moderator(db) -> User:
    return _user("mo", MODERATORS)


@pytest.fixture
def member(db) -> User:
    return _user("mem", None)


# Stand-ins for the analysis contract (forum_helper.analysis may not exist yet).
@dataclass(frozen=True)
class StandInEvidence:
    start: int
    end: int
    text: str
    category: str
    rule: str


@dataclass(frozen=True)
class StandInAnalysis:
    categories: tuple[str, ...]
    modifiers: tuple[str, ...] = ()
    evidence: tuple[StandInEvidence, ...] = ()
    explanations: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = field(default=())
