"""Parse a thread exported as JSON (schema in the README and in fixtures/threads/*.json).

    {"thread": {"id": "t-1", "title": "...", "url": "https://..."},
     "posts": [{"id": "p-1",
                "author": {"name": "...", "role": "member" | "staff", "title": "...", "trust_level": 0-4, "id": "..."},
                "position": 1, "reply_to": "p-0",
                "created_at": "2013-04-08T18:35:55Z", "edited_at": "...",
                "text": "...", "html": "..."}]}

Optional keys: thread.url, author.title/trust_level/id, position, reply_to, edited_at, html.
Unknown keys are errors (a misspelt "edited_at" would otherwise be dropped silently).
Every error names the JSON path, e.g. `posts[2].author.role: expected "member" or "staff"`.
"""
import json
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from forum_helper.intake.importers.types import ParsedAuthor, ParsedPost, ParsedThread, ThreadParseError

_THREAD_KEYS = {"id": True, "title": True, "url": False}
_POST_KEYS = {
    "id": True, "author": True, "position": False, "reply_to": False,
    "created_at": True, "edited_at": False, "text": True, "html": False,
}
_AUTHOR_KEYS = {"name": True, "role": True, "title": False, "trust_level": False, "id": False}
ROLES = ("member", "staff")
MAX_TEXT_CHARS = 100_000


def parse_json_thread(text: str) -> ParsedThread:
    """Parse and validate a JSON thread; raises ThreadParseError naming the path of the first problem."""
    if not text.strip():
        raise ThreadParseError(1, "the file is empty")
    try:
        document = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as error:
        raise ThreadParseError(error.lineno, f"not valid JSON: {error.msg} (column {error.colno})") from None

    _object(document, "", {"thread": True, "posts": True})
    thread = _object(document["thread"], "thread", _THREAD_KEYS)
    thread_id = _id(thread["id"], "thread.id")
    title = _string(thread["title"], "thread.title", max_length=500)
    url = _string(thread.get("url", ""), "thread.url", required=False)
    if url and not url.startswith(("http://", "https://")):
        raise ThreadParseError(None, "expected an http(s) URL", path="thread.url")

    raw_posts = document["posts"]
    if not isinstance(raw_posts, list) or not raw_posts:
        raise ThreadParseError(None, "expected a non-empty list of posts", path="posts")
    with_position = sum(1 for post in raw_posts if isinstance(post, dict) and "position" in post)
    if with_position not in (0, len(raw_posts)):
        missing = next(i for i, post in enumerate(raw_posts) if not isinstance(post, dict) or "position" not in post)
        raise ThreadParseError(None, "give a position for every post or for none", path=f"posts[{missing}].position")

    posts: list[ParsedPost] = []
    seen_ids: dict[str, int] = {}
    seen_positions: dict[int, int] = {}
    for index, raw in enumerate(raw_posts):
        post = _post(raw, f"posts[{index}]", default_position=None if with_position else index + 1)
        if post.external_id in seen_ids:
            raise ThreadParseError(None, f"duplicate post id {post.external_id!r} (also posts[{seen_ids[post.external_id]}])", path=f"posts[{index}].id")
        if post.position in seen_positions:
            raise ThreadParseError(None, f"duplicate position {post.position} (also posts[{seen_positions[post.position]}])", path=f"posts[{index}].position")
        seen_ids[post.external_id] = index
        seen_positions[post.position] = index
        if post.reply_to_external_id == post.external_id:
            raise ThreadParseError(None, "a post cannot reply to itself", path=f"posts[{index}].reply_to")
        posts.append(post)

    return ParsedThread(title=title, posts=tuple(_link_replies(posts, raw_posts)), external_id=thread_id, url=url, format="json")


def _link_replies(posts: list[ParsedPost], raw_posts: list[dict]) -> list[ParsedPost]:
    """Fill reply_to_position from reply_to; a parent in the file must come before its replies."""
    index_of = {post.external_id: index for index, post in enumerate(posts)}
    linked = []
    for index, post in enumerate(posts):
        parent_index = index_of.get(post.reply_to_external_id) if post.reply_to_external_id else None
        if parent_index is not None:
            if parent_index > index:
                raise ThreadParseError(
                    None, f"{post.reply_to_external_id!r} comes later in the file: list parents before their replies",
                    path=f"posts[{index}].reply_to",
                )
            post = replace(post, reply_to_position=posts[parent_index].position)
        linked.append(post)
    return linked


def _post(raw: Any, path: str, *, default_position: int | None) -> ParsedPost:
    post = _object(raw, path, _POST_KEYS)
    author_raw = _object(post["author"], f"{path}.author", _AUTHOR_KEYS)
    role = author_raw["role"]
    if role not in ROLES:
        raise ThreadParseError(None, 'expected "member" or "staff"', path=f"{path}.author.role")
    trust_level = author_raw.get("trust_level")
    if trust_level is not None and (type(trust_level) is not int or not 0 <= trust_level <= 4):
        raise ThreadParseError(None, "expected a whole number from 0 to 4", path=f"{path}.author.trust_level")
    author = ParsedAuthor(
        name=_string(author_raw["name"], f"{path}.author.name", max_length=200),
        role=role,
        title=_string(author_raw.get("title", ""), f"{path}.author.title", required=False, max_length=200),
        external_id=_id(author_raw["id"], f"{path}.author.id") if "id" in author_raw else "",
        trust_level=trust_level,
    )
    position = post.get("position", default_position)
    if type(position) is not int or position < 1:
        raise ThreadParseError(None, "expected a whole number of 1 or more", path=f"{path}.position")
    reply_to = _id(post["reply_to"], f"{path}.reply_to") if post.get("reply_to") is not None else ""
    edited_at = _datetime(post["edited_at"], f"{path}.edited_at") if post.get("edited_at") is not None else None
    return ParsedPost(
        author=author,
        text=_string(post["text"], f"{path}.text", max_length=MAX_TEXT_CHARS),
        created_at=_datetime(post["created_at"], f"{path}.created_at"),
        external_id=_id(post["id"], f"{path}.id"),
        position=position,
        reply_to_position=None,
        reply_to_external_id=reply_to,
        edited_at=edited_at,
        html=_string(post.get("html", ""), f"{path}.html", required=False, max_length=MAX_TEXT_CHARS * 4),
    )


def _object(value: Any, path: str, keys: dict[str, bool]) -> dict:
    where = path or "(top level)"
    if not isinstance(value, dict):
        raise ThreadParseError(None, f"expected an object, got {_type_name(value)}", path=where)
    for key in value:
        if key not in keys:
            raise ThreadParseError(None, f"unknown key {key!r} (allowed: {', '.join(keys)})", path=where)
    for key, required in keys.items():
        if required and key not in value:
            raise ThreadParseError(None, "missing (required)", path=f"{path}.{key}" if path else key)
    return value


def _string(value: Any, path: str, *, required: bool = True, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise ThreadParseError(None, f"expected a string, got {_type_name(value)}", path=path)
    if required and not value.strip():
        raise ThreadParseError(None, "must not be empty", path=path)
    if max_length is not None and len(value) > max_length:
        raise ThreadParseError(None, f"longer than {max_length} characters", path=path)
    return value


def _id(value: Any, path: str) -> str:
    """Ids may be strings or whole numbers (forums export both); stored as strings."""
    if type(value) is int:
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ThreadParseError(None, "expected a non-empty string or a whole number", path=path)
    if len(value) > 100:
        raise ThreadParseError(None, "longer than 100 characters", path=path)
    return value.strip()


def _datetime(value: Any, path: str) -> datetime:
    example = 'an ISO 8601 date-time with a time zone, e.g. "2013-04-08T18:35:55Z"'
    if not isinstance(value, str):
        raise ThreadParseError(None, f"expected {example}, got {_type_name(value)}", path=path)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ThreadParseError(None, f"expected {example}, got {value!r}", path=path) from None
    if parsed.tzinfo is None:
        raise ThreadParseError(None, f"expected {example}: {value!r} has no time zone", path=path)
    return parsed.astimezone(timezone.utc)


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )
