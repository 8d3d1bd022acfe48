"""Parse a topic as an SMF-style board prints it ("Print" view, copied as plain text).

The printed layout, as in fixtures/threads/sample-thread.txt::

    <board notice>
    Author Topic: <topic title>  (Read 9451 times)

      • Forum member            <- member group: Administrator, Moderator, Global Moderator -> staff
      • *                       <- rank stars
      • Posts: 2
      • Medical journalist      <- optional author title (personal text)
    Re: <post title>
    « Reply #1 on: April 10, 2013, 07:33:35 AM »     <- "« on: ... »" for the opener
    <body>
    « Last Edit: April 10, 2013, 03:32:08 PM by SarahVaughter »   <- optional

Choices this format forces (documented in the README):

* The print has no author names. An author is identified by their header block (group,
  stars, post count, title); the name is, in order: the name SMF printed when someone quoted
  one of their posts ("Quote from: NAME on <that post's date>"); the name of a "Last Edit ...
  by NAME" line on their posts, when that name edits only this author's posts; otherwise a
  stable label "<group> (<n> posts)", e.g. "Administrator (2275 posts)".
* Dates have no time zone; they are read as UTC.
* Position: the opener is 1, "Reply #n" is n + 1. A reply answers the opener (position 1)
  unless it quotes an earlier post of the thread by its date, which then is its parent.
* The body is the exact text between the date line and the next author block (or the
  "Last Edit" line), without leading and trailing blank lines.
"""
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from forum_helper.intake.importers.types import ParsedAuthor, ParsedPost, ParsedThread, ThreadParseError

STAFF_GROUPS = frozenset({"administrator", "moderator", "global moderator"})

_BULLET = re.compile(r"^\s*•\s*(?P<content>.*?)\s*$")
_POSTS = re.compile(r"^Posts:\s*(?P<count>\d[\d,.]*)$", re.IGNORECASE)
_STARS = re.compile(r"^\*+$")
_TOPIC = re.compile(r"^\s*Author\s+Topic:\s*(?P<title>.*?)\s*(?:\(Read\s+[\d,.]+\s+times?\))?\s*$", re.IGNORECASE)
_DATE_LINE = re.compile(r"^\s*«\s*(?:Reply\s+#(?P<reply>\d+)\s+)?on:\s*(?P<date>.*?)\s*»\s*$", re.IGNORECASE)
_LAST_EDIT = re.compile(r"^\s*«\s*Last\s+Edit:\s*(?P<date>.*?)(?:\s+by\s+(?P<name>.+?))?\s*»\s*$", re.IGNORECASE)
_QUOTE = re.compile(r"^\s*Quote\s+from:\s*(?P<name>.+?)\s+on\s+(?P<date>.+?)\s*$", re.IGNORECASE)
_DATE = re.compile(
    r"^(?P<month>[A-Za-z]+)\.?\s+(?P<day>\d{1,2}),\s*(?P<year>\d{4}),?\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?$"
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")],
        start=1,
    )
    for name in names
}
DATE_EXAMPLE = "April 08, 2013, 06:35:55 PM"


def parse_smf_thread(text: str) -> ParsedThread:
    """Parse a printed SMF topic; raises ThreadParseError naming the line of the first problem."""
    lines = _lines(text)
    if not any(line.strip() for line in lines):
        raise ThreadParseError(1, "the file is empty")

    headers = _headers_find(lines)
    if not headers:
        last_line = len(lines) - 1 if len(lines) > 1 and lines[-1] == "" else len(lines)
        raise ThreadParseError(
            last_line,
            "no posts found: expected author blocks ('  • Forum member', '  • Posts: 2') followed by a "
            f"post title and a date line like '« on: {DATE_EXAMPLE} »'",
        )
    topic_title = _topic_title(lines, before=headers[0].start)

    raw_posts = []
    for index, header in enumerate(headers):
        end = headers[index + 1].start if index + 1 < len(headers) else len(lines)
        raw_posts.append(_raw_post(lines, header, end))
    _positions_check(raw_posts)

    if not topic_title:
        opener_title = raw_posts[0].title
        topic_title = re.sub(r"^Re:\s*", "", opener_title, flags=re.IGNORECASE)
    names = _author_names(raw_posts)
    posts = tuple(_parsed_post(raw, raw_posts, names) for raw in raw_posts)
    return ParsedThread(title=topic_title, posts=posts, format="smf")


@dataclass(frozen=True)
class _Header:
    start: int  # index of the first bullet line
    end: int  # index after the last bullet line
    group: str
    stars: str
    post_count: str
    title: str


@dataclass
class _RawPost:
    header: _Header
    line: int  # 1-based line of the author block
    title: str
    position: int
    created_at: datetime
    text: str
    edited_at: datetime | None = None
    edited_by: str = ""
    quotes: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def signature(self) -> tuple[str, str, str, str]:
        return (self.header.group, self.header.stars, self.header.post_count, self.header.title)


def _lines(text: str) -> list[str]:
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    # split("\n"), not splitlines(): form feeds and other separators inside a body stay text.
    return text.split("\n")


def _headers_find(lines: list[str]) -> list[_Header]:
    """Author blocks: runs of bullet lines with a "Posts: n" line, or followed by a date line.

    Other bullet lines are body text (a list in a post).
    """
    headers = []
    index = 0
    while index < len(lines):
        if not _BULLET.match(lines[index]):
            index += 1
            continue
        end = index
        while end < len(lines) and _BULLET.match(lines[end]):
            end += 1
        contents = [_BULLET.match(line)["content"] for line in lines[index:end]]
        posts_at = next((i for i, content in enumerate(contents) if _POSTS.match(content)), None)
        if posts_at is not None:
            # The block starts at the member group before "Posts:" (and the stars): bullet
            # lines above it are the end of the previous post's body.
            first = posts_at - 1 if posts_at > 0 and _STARS.match(contents[posts_at - 1]) else posts_at
            first = max(first - 1, 0)
            headers.append(_header_from(index + first, end, contents[first:]))
        elif any(_DATE_LINE.match(line) for line in lines[end : end + 2]):
            headers.append(_header_from(index, end, contents))  # e.g. a guest: "  • Guest" only
        index = end
    return headers


def _header_from(start: int, end: int, contents: list[str]) -> _Header:
    group = stars = post_count = ""
    titles = []
    for position, content in enumerate(contents):
        if posts := _POSTS.match(content):
            post_count = posts["count"].replace(",", "").replace(".", "")
        elif _STARS.match(content):
            stars = content
        elif position == 0:
            group = content
        elif content:
            titles.append(content)
    return _Header(start=start, end=end, group=group, stars=stars, post_count=post_count, title="; ".join(titles))


def _topic_title(lines: list[str], *, before: int) -> str:
    for line in lines[:before]:
        if match := _TOPIC.match(line):
            return match["title"]
    return ""


def _raw_post(lines: list[str], header: _Header, end: int) -> _RawPost:
    block_line = header.start + 1
    title_index = header.end
    if title_index < end and _DATE_LINE.match(lines[title_index]):
        title, date_index = "", title_index  # printed without a post title
    else:
        title = lines[title_index].strip() if title_index < end else ""
        date_index = title_index + 1
    if not (title or date_index == title_index) or date_index >= end or not _DATE_LINE.match(lines[date_index]):
        raise ThreadParseError(
            min(date_index + 1, len(lines)),
            f"the author block at line {block_line} is not followed by a post title and a date line "
            f"like '« on: {DATE_EXAMPLE} »' or '« Reply #1 on: {DATE_EXAMPLE} »'",
        )
    date_match = _DATE_LINE.match(lines[date_index])
    created_at = _date_parse(date_match["date"], line=date_index + 1)
    reply = date_match["reply"]
    position = int(reply) + 1 if reply is not None else 1

    body = lines[date_index + 1 : end]
    edited_at, edited_by = None, ""
    last = _last_non_blank(body)
    if last is not None and (edit := _LAST_EDIT.match(body[last])):
        edited_at = _date_parse(edit["date"], line=date_index + 2 + last)
        edited_by = (edit["name"] or "").strip()
        body = body[:last]
    text = "\n".join(_trim_blank_lines(body))
    if not text.strip():
        raise ThreadParseError(date_index + 1, f"the post of the author block at line {block_line} has no text")

    quotes = []
    for line in body:
        if quote := _QUOTE.match(line):
            try:
                quotes.append((quote["name"].strip(), _date_parse(quote["date"], line=0)))
            except ThreadParseError:
                continue  # a line that only looks like a quote header is body text
    return _RawPost(
        header=header, line=block_line, title=title, position=position, created_at=created_at,
        text=text, edited_at=edited_at, edited_by=edited_by, quotes=quotes,
    )


def _date_parse(raw: str, *, line: int) -> datetime:
    match = _DATE.match(raw.strip())
    error = ThreadParseError(line, f"cannot read the date {raw.strip()!r}: expected a date like {DATE_EXAMPLE!r}")
    if not match or match["month"].lower() not in _MONTHS:
        raise error
    hour = int(match["hour"])
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise error
        hour = hour % 12 + (12 if match["ampm"][0].lower() == "p" else 0)
    try:
        return datetime(
            int(match["year"]), _MONTHS[match["month"].lower()], int(match["day"]),
            hour, int(match["minute"]), int(match["second"] or 0), tzinfo=timezone.utc,
        )
    except ValueError:
        raise error from None


def _last_non_blank(lines: list[str]) -> int | None:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip():
            return index
    return None


def _trim_blank_lines(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _positions_check(posts: list[_RawPost]) -> None:
    seen: dict[int, int] = {}
    for post in posts:
        if post.position in seen:
            what = "opener ('« on: ... »')" if post.position == 1 else f"'Reply #{post.position - 1}'"
            raise ThreadParseError(post.line, f"a second {what}: the first one is the post at line {seen[post.position]}")
        seen[post.position] = post.line


def _author_names(posts: list[_RawPost]) -> dict[tuple[str, str, str, str], str]:
    """One name per author block signature (see the module docstring for the order)."""
    by_date = {post.created_at: post for post in posts}
    quoted: dict[tuple, set[str]] = {}
    for post in posts:
        for name, date in post.quotes:
            if (target := by_date.get(date)) is not None and target is not post:
                quoted.setdefault(target.signature, set()).add(name)
    edited: dict[tuple, set[str]] = {}
    editors_of: dict[str, set[tuple]] = {}
    for post in posts:
        if post.edited_by:
            edited.setdefault(post.signature, set()).add(post.edited_by)
            editors_of.setdefault(post.edited_by, set()).add(post.signature)

    names = {}
    for post in posts:
        signature = post.signature
        if signature in names:
            continue
        candidates = quoted.get(signature, set())
        if len(candidates) != 1:
            candidates = edited.get(signature, set())
            # A moderator who edits several authors' posts names none of them.
            if len(candidates) != 1 or len(editors_of[next(iter(candidates))]) != 1:
                candidates = set()
        names[signature] = next(iter(candidates)) if candidates else _author_label(post.header)
    return names


def _author_label(header: _Header) -> str:
    group = header.group or "Member"
    count = f" ({header.post_count} posts)" if header.post_count else ""
    title = f", {header.title}" if header.title else ""
    return f"{group}{title}{count}"


def _parsed_post(raw: _RawPost, posts: list[_RawPost], names: dict) -> ParsedPost:
    reply_to = None
    if raw.position > 1:
        reply_to = 1
        earlier = {post.created_at: post.position for post in posts if post.position < raw.position}
        for _, date in raw.quotes:
            if date in earlier:
                reply_to = earlier[date]
                break
    signature_key = "|".join(raw.signature)
    author = ParsedAuthor(
        name=names[raw.signature],
        role="staff" if raw.header.group.strip().lower() in STAFF_GROUPS else "member",
        title=raw.header.title,
        external_id="smf-" + hashlib.sha256(signature_key.encode("utf-8")).hexdigest()[:12],
        group=raw.header.group,
    )
    return ParsedPost(
        author=author,
        text=raw.text,
        created_at=raw.created_at,
        title=raw.title,
        position=raw.position,
        reply_to_position=reply_to,
        edited_at=raw.edited_at,
        edited_by=raw.edited_by,
        line=raw.line,
    )
