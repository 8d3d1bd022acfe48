from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from forum_helper.core.roles import ADMINS, MODERATORS
from tests.conftest import user_with_role

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "library"

@pytest.fixture
def admin_user(db) -> User:
    return user_with_role("ada", ADMINS)


@pytest.fixture
def moderator(db) -> User:
    return user_with_role("mo", MODERATORS)


@pytest.fixture
def member(db) -> User:
    return user_with_role("mem")


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


@pytest.fixture
def superuser_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    return client
