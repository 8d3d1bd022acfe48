import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from forum_helper.core.roles import ADMINS, MODERATORS
from forum_helper.intake.models import ForumSource, Post, PostVersion, Thread
from forum_helper.rules.selectors import ruleset_cache_clear
from tests.conftest import user_with_role

_counter = itertools.count(1)

# A lexicon rule no default rule overlaps: "zapwand" is a made-up needling device.
ZAPWAND_RULE: dict[str, Any] = {
    "id": "test.zapwand",
    "kind": "lexicon",
    "category": "home_needling",
    "mode": "active",
    "description": "A made-up home needling device (tests only).",
    "data": {"concept": "needling", "terms": ["zapwand"]},
}
ZAPWAND_POST = "I'm planning to use my zapwand on my face tonight, how often should I do it?"


@pytest.fixture(autouse=True)
def _fresh_ruleset_cache():
    # Test transactions roll back ruleset versions, so a number can repeat with other rules.
    ruleset_cache_clear()
    yield
    ruleset_cache_clear()


@pytest.fixture
def admin_user(db) -> User:
    return user_with_role("ada-admin", ADMINS)


@pytest.fixture
def moderator_user(db) -> User:
    return user_with_role("mo-moderator", MODERATORS)


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def moderator_client(moderator_user) -> Client:
    client = Client()
    client.force_login(moderator_user)
    return client


@pytest.fixture
def source(db) -> ForumSource:
    return ForumSource.objects.create(slug="skinboard", kind=ForumSource.Kind.IMPORT)


def stored_post(source: ForumSource, text: str, *, thread: Thread | None = None, title: str = "Skin talk") -> PostVersion:
    number = next(_counter)
    thread = thread or Thread.objects.create(source=source, external_id=f"t{number}", title=title)
    position = thread.posts.count() + 1
    post = Post.objects.create(source=source, thread=thread, external_id=f"p{number}", position=position, current_version=1)
    return PostVersion.objects.create(post=post, version=1, raw_text=text, text_sha256=f"sha{number}")


def dev_corpus_threads(source: ForumSource, *, with_author_roles: bool = False) -> None:
    """The labelled dev corpus as threads: the parent (when given) first, then the post."""
    corpus = Path(__file__).resolve().parents[2] / "fixtures" / "analysis" / "corpus" / "dev.jsonl"
    for number, line in enumerate(corpus.read_text().splitlines()):
        case = json.loads(line)
        thread = Thread.objects.create(source=source, external_id=f"corpus{number}", title=case.get("thread_title", ""))
        if case.get("parent_text"):
            stored_post(source, case["parent_text"], thread=thread)
        version = stored_post(source, case["text"], thread=thread)
        if with_author_roles and case.get("author_role") == "staff":
            Post.objects.filter(pk=version.post_id).update(author_role="staff")
