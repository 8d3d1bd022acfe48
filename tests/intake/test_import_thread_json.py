"""import_thread with JSON thread files: the schema's happy path and its validation messages."""
import copy
import json
from datetime import datetime, timezone
from io import StringIO
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from django.core.management import CommandError, call_command

from forum_helper.intake.importers import ThreadParseError
from forum_helper.intake.importers.json_thread import parse_json_thread
from forum_helper.intake.models import ForumSource, Post, PostVersion, Thread

THREADS = Path(__file__).resolve().parents[2] / "fixtures" / "threads"
EXAMPLE = THREADS / "example-thread.json"
BAD = THREADS / "bad"


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def import_thread(path: Path, source: str = "json-forum", **options) -> str:
    out = StringIO()
    call_command("import_thread", str(path), source=source, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_the_example_thread_imports_every_field() -> None:
    output = import_thread(EXAMPLE)

    thread = Thread.objects.get()
    assert (thread.external_id, thread.title, thread.url) == (
        "4711",
        "Retinol and a chemical peel in the same week?",
        "https://forum.example.org/t/retinol-and-peel/4711",
    )
    posts = {post.external_id: post for post in Post.objects.all()}
    assert sorted(posts) == ["4711-1", "4711-2", "4711-3"]
    opener, answer, thanks = posts["4711-1"], posts["4711-2"], posts["4711-3"]
    assert (opener.author_name, opener.author_role, opener.trust_level, opener.position) == ("mira_k", "member", 1, 1)
    assert opener.latest_version.html.startswith("<p>I use 0.5% retinol")
    assert opener.latest_version.raw_text.endswith("and for how long?")
    assert (answer.author_name, answer.author_role, answer.author_title, answer.author_external_id) == (
        "DrLena", "staff", "Dermatology nurse", "u-17",
    )
    assert answer.created_at == datetime(2024, 2, 11, 9, 2, 31, tzinfo=timezone.utc)  # +01:00 in the file
    assert answer.edited_at == datetime(2024, 2, 11, 9, 30, tzinfo=timezone.utc)
    assert (answer.parent, answer.reply_to_position) == (opener, 1)
    assert (thanks.parent, thanks.reply_to_position) == (answer, 2)
    assert "3 posts: 3 created, 0 new versions, 0 unchanged" in output
    assert "thread 4711 (json)" in output


@pytest.mark.django_db
def test_reimporting_the_json_thread_changes_nothing() -> None:
    import_thread(EXAMPLE)

    output = import_thread(EXAMPLE)

    assert PostVersion.objects.count() == 3
    assert "3 posts: 0 created, 0 new versions, 3 unchanged" in output


@pytest.mark.django_db
def test_the_format_is_detected_from_content_when_the_extension_says_nothing(tmp_path: Path) -> None:
    untyped = tmp_path / "thread.export"
    untyped.write_bytes(EXAMPLE.read_bytes())

    import_thread(untyped)

    assert Post.objects.count() == 3


def test_without_positions_the_file_order_numbers_the_posts() -> None:
    document = example()
    for post in document["posts"]:
        del post["position"]

    thread = parse_json_thread(json.dumps(document))

    assert [post.position for post in thread.posts] == [1, 2, 3]
    assert [post.reply_to_position for post in thread.posts] == [None, 1, 2]


def test_whole_number_ids_are_read_as_strings() -> None:
    document = example()
    document["thread"]["id"] = 4711
    document["posts"][0]["id"] = 1

    thread = parse_json_thread(json.dumps(document))

    assert (thread.external_id, thread.posts[0].external_id) == ("4711", "1")


def set_at(path: tuple, value: Any) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def delete_at(path: tuple) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


INVALID = [
    ("role", set_at(("posts", 2, "author", "role"), "admin"), 'posts[2].author.role: expected "member" or "staff"'),
    ("missing-thread-id", delete_at(("thread", "id")), "thread.id: missing (required)"),
    ("missing-text", delete_at(("posts", 1, "text")), "posts[1].text: missing (required)"),
    ("empty-text", set_at(("posts", 1, "text"), "  "), "posts[1].text: must not be empty"),
    ("text-not-string", set_at(("posts", 0, "text"), 42), "posts[0].text: expected a string, got a number"),
    ("author-not-object", set_at(("posts", 0, "author"), "mira_k"), "posts[0].author: expected an object, got a string"),
    ("missing-author-name", delete_at(("posts", 0, "author", "name")), "posts[0].author.name: missing (required)"),
    ("naive-date", set_at(("posts", 1, "created_at"), "2024-02-11T10:02:31"), "posts[1].created_at: expected an ISO 8601 date-time with a time zone"),
    ("bad-date", set_at(("posts", 0, "created_at"), "yesterday"), "posts[0].created_at: expected an ISO 8601 date-time with a time zone, e.g. \"2013-04-08T18:35:55Z\", got 'yesterday'"),
    ("bad-edited-at", set_at(("posts", 1, "edited_at"), 1707642000), "posts[1].edited_at: expected an ISO 8601"),
    ("trust-level", set_at(("posts", 0, "author", "trust_level"), 9), "posts[0].author.trust_level: expected a whole number from 0 to 4"),
    ("position-zero", set_at(("posts", 0, "position"), 0), "posts[0].position: expected a whole number of 1 or more"),
    ("position-some", delete_at(("posts", 1, "position")), "posts[1].position: give a position for every post or for none"),
    ("duplicate-position", set_at(("posts", 2, "position"), 2), "posts[2].position: duplicate position 2 (also posts[1])"),
    ("duplicate-id", set_at(("posts", 2, "id"), "4711-1"), "posts[2].id: duplicate post id '4711-1' (also posts[0])"),
    ("reply-later", set_at(("posts", 0, "reply_to"), "4711-3"), "posts[0].reply_to: '4711-3' comes later in the file"),
    ("reply-self", set_at(("posts", 1, "reply_to"), "4711-2"), "posts[1].reply_to: a post cannot reply to itself"),
    ("unknown-key", set_at(("posts", 1, "edited"), "2024-02-11T10:30:00Z"), "posts[1]: unknown key 'edited'"),
    ("no-posts", set_at(("posts",), []), "posts: expected a non-empty list of posts"),
    ("bad-url", set_at(("thread", "url"), "forum.example.org/t/1"), "thread.url: expected an http(s) URL"),
]


@pytest.mark.parametrize(("change", "message"), [(c, m) for _, c, m in INVALID], ids=[i for i, _, _ in INVALID])
def test_invalid_documents_name_the_json_path(change: Callable[[dict], None], message: str) -> None:
    document = copy.deepcopy(example())
    change(document)

    with pytest.raises(ThreadParseError) as raised:
        parse_json_thread(json.dumps(document))

    assert message in str(raised.value)


def test_a_top_level_list_is_rejected() -> None:
    with pytest.raises(ThreadParseError, match=r"\(top level\): expected an object, got a list"):
        parse_json_thread("[]")


BAD_FILES = [
    ("bad-role.json", 'posts[2].author.role: expected "member" or "staff"'),
    ("broken.json", "line 3: not valid JSON: Expecting property name enclosed in double quotes"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "message"), BAD_FILES, ids=[name for name, _ in BAD_FILES])
def test_a_bad_json_file_fails_and_imports_nothing(name: str, message: str) -> None:
    with pytest.raises(CommandError) as raised:
        import_thread(BAD / name, source="never-created")

    assert message in str(raised.value)
    assert not ForumSource.objects.exists()
    assert not Thread.objects.exists()
    assert not Post.objects.exists()


@pytest.mark.django_db
def test_an_smf_file_forced_to_json_fails_with_a_json_error() -> None:
    with pytest.raises(CommandError, match="not valid JSON"):
        import_thread(THREADS / "sample-thread.txt", format="json")

    assert not Post.objects.exists()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 5) | st.sampled_from(["", "x", "member", "staff", "2024-01-01T00:00:00Z"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["thread", "posts", "id", "title", "author", "name", "role", "text", "created_at", "position", "reply_to", "url"]), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_any_json_document_either_parses_or_raises_a_thread_parse_error(document: Any) -> None:
    try:
        parse_json_thread(json.dumps(document))
    except ThreadParseError as error:
        assert error.path or error.line
