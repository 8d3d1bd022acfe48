from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from forum_helper.core.roles import ADMINS, MODERATORS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "library"



def _root_urlconf_imports(name: str) -> bool:
    try:
        import_module(name)
    except ImportError:
        return False
    return True


@pytest.fixture(autouse=True)
def _library_urls(settings) -> None:
    """The project's URLconf when it imports; else the library's own mount (tests.library.urls)."""
    if not _root_urlconf_imports(settings.ROOT_URLCONF):
        settings.ROOT_URLCONF = "tests.library.urls"


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
