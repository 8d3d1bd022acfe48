"""The one way to import a thread file: parse it fully, then store every post in one transaction."""
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction

from forum_helper.core.exceptions import ApplicationError
from forum_helper.intake.importers.json_thread import parse_json_thread
from forum_helper.intake.importers.smf import parse_smf_thread
from forum_helper.intake.importers.types import ParsedPost, ParsedThread, ThreadParseError
from forum_helper.intake.models import Delivery, ForumSource
from forum_helper.intake.services import post_ingest
from forum_helper.intake.types import IncomingPost

FORMATS = ("smf", "json")
MAX_FILE_BYTES = 20 * 1024 * 1024
IMPORT_ENDPOINT = "import"


@dataclass(frozen=True)
class ImportedPost:
    external_id: str
    position: int | None
    author_name: str
    author_role: str
    created_at: datetime
    outcome: str  # "created", "unchanged" or "new version"
    version: int


@dataclass(frozen=True)
class ImportResult:
    source_slug: str
    source_created: bool
    format: str
    thread_external_id: str
    thread_title: str
    posts: tuple[ImportedPost, ...]

    @property
    def created_posts(self) -> int:
        return sum(1 for post in self.posts if post.outcome == "created")

    @property
    def unchanged_posts(self) -> int:
        return sum(1 for post in self.posts if post.outcome == "unchanged")

    @property
    def new_versions(self) -> int:
        return sum(1 for post in self.posts if post.outcome == "new version")


def thread_import(*, source_slug: str, path: Path, file_format: str | None = None) -> ImportResult:
    """Import a thread file (SMF print or JSON) into a source, creating the source as import-only.

    All or nothing: a file that does not parse stores no post. Re-importing an unchanged file
    stores nothing new; a post whose text changed gets its next version (and is screened again).
    Every run is logged as a Delivery (endpoint "import"), rejected runs included.
    """
    data = b""
    try:
        _slug_check(source_slug)
        data = _file_read(path)
        chosen = file_format or thread_format_detect(path=path, data=data)
        if chosen not in FORMATS:
            raise ApplicationError(f"unknown format {chosen!r}: use one of {', '.join(FORMATS)}")
        parsed = thread_parse(text=_decode(data), file_format=chosen)
    except ThreadParseError as error:
        _delivery_log_rejected(source_slug=source_slug, path=path, data=data, error=str(error))
        raise ApplicationError(f"{path}: {error}", extra={"line": error.line, "path": error.path}) from error
    except ApplicationError as error:
        _delivery_log_rejected(source_slug=source_slug, path=path, data=data, error=error.message)
        raise

    with transaction.atomic():
        source, source_created = _source_get_or_create(slug=source_slug)
        thread_id = parsed.external_id or smf_thread_external_id(source_slug=source.slug, thread=parsed)
        imported = tuple(_post_store(source=source, thread=parsed, thread_id=thread_id, post=post) for post in parsed.posts)
        result = ImportResult(
            source_slug=source.slug, source_created=source_created, format=chosen,
            thread_external_id=thread_id, thread_title=parsed.title, posts=imported,
        )
        Delivery.objects.create(
            source=source, source_slug=source.slug, endpoint=IMPORT_ENDPOINT, event=f"thread.{chosen}",
            event_id=thread_id, headers={"file": path.name}, body_sha256=hashlib.sha256(data).hexdigest(),
            body_size=len(data), status_code=200,
            outcome=Delivery.Outcome.DUPLICATE if result.unchanged_posts == len(imported) else Delivery.Outcome.ACCEPTED,
        )
    return result


def thread_parse(*, text: str, file_format: str) -> ParsedThread:
    return parse_json_thread(text) if file_format == "json" else parse_smf_thread(text)


def thread_format_detect(*, path: Path, data: bytes) -> str:
    """By extension (.json; .txt/.smf), else by content (a JSON file starts with "{")."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in {".txt", ".smf", ".text"}:
        return "smf"
    return "json" if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "smf"


def smf_thread_external_id(*, source_slug: str, thread: ParsedThread) -> str:
    """A print has no thread id: derive one from the source, the title and the opener's date.

    The opener's date keeps two topics with the same title ("Help!") apart.
    """
    opener = next((post for post in thread.posts if post.position == 1), None)
    key = "\n".join([source_slug, thread.title, opener.created_at.isoformat() if opener else ""])
    return "smf-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _post_store(*, source: ForumSource, thread: ParsedThread, thread_id: str, post: ParsedPost) -> ImportedPost:
    external_id = post.external_id or f"{thread_id}-{post.position}"
    result = post_ingest(
        source=source,
        incoming=IncomingPost(
            thread_external_id=thread_id,
            # Printed files carry no length limits: cut to the columns' sizes rather than fail.
            thread_title=thread.title[:500],
            thread_url=thread.url,
            post_external_id=external_id,
            raw_text=post.text,
            html=post.html,
            author_name=post.author.name[:200],
            author_external_id=post.author.external_id[:128],
            author_role=post.author.role,
            author_title=post.author.title[:200],
            trust_level=post.author.trust_level,
            position=post.position,
            reply_to_position=post.reply_to_position,
            parent_external_id=post.reply_to_external_id,
            created_at=post.created_at,
            edited_at=post.edited_at,
        ),
    )
    version = result.post_version.version
    outcome = "unchanged" if not result.created else ("created" if version == 1 else "new version")
    return ImportedPost(
        external_id=external_id, position=post.position, author_name=post.author.name, author_role=post.author.role,
        created_at=post.created_at, outcome=outcome, version=version,
    )


def _source_get_or_create(*, slug: str) -> tuple[ForumSource, bool]:
    source = ForumSource.objects.filter(slug=slug).first()
    if source is not None:
        return source, False
    source = ForumSource(slug=slug, name=slug, kind=ForumSource.Kind.IMPORT)
    source.full_clean()
    source.save()
    return source, True


def _slug_check(slug: str) -> None:
    try:
        validate_slug(slug)
    except ValidationError:
        raise ApplicationError(f"invalid source slug {slug!r}: use letters, digits, '-' and '_'") from None
    if len(slug) > ForumSource._meta.get_field("slug").max_length:
        raise ApplicationError(f"invalid source slug {slug!r}: at most 64 characters")


def _file_read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ApplicationError(f"{path}: {size} bytes is over the {MAX_FILE_BYTES} byte limit for a thread file")
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
        raise ApplicationError(f"cannot read {path}: {error.strerror}") from None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise ThreadParseError(
            line, f"not UTF-8 text (byte 0x{data[error.start]:02x} at column {column}): save the file as UTF-8"
        ) from None


def _delivery_log_rejected(*, source_slug: str, path: Path, data: bytes, error: str) -> None:
    Delivery.objects.create(
        source=ForumSource.objects.filter(slug=source_slug).first(),
        source_slug=source_slug[:64], endpoint=IMPORT_ENDPOINT, event="thread", headers={"file": path.name},
        body_sha256=hashlib.sha256(data).hexdigest() if data else "", body_size=len(data),
        outcome=Delivery.Outcome.REJECTED, status_code=400, error=error,
    )
