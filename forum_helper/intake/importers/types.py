"""What every thread parser returns: plain frozen dataclasses, no Django."""
from dataclasses import dataclass
from datetime import datetime


class ThreadParseError(ValueError):
    """A thread file that cannot be imported; `line` (1-based) or `path` (JSON) says where."""

    def __init__(self, line: int | None, message: str, *, path: str = "") -> None:
        self.line = line
        self.path = path
        self.message = message
        where = f"line {line}: " if line is not None else ""
        where += f"{path}: " if path else ""
        super().__init__(f"{where}{message}")


@dataclass(frozen=True)
class ParsedAuthor:
    name: str
    role: str  # "member" or "staff"
    title: str = ""
    external_id: str = ""
    trust_level: int | None = None
    # What the file printed about the author's rank (SMF member group), kept for display.
    group: str = ""


@dataclass(frozen=True)
class ParsedPost:
    author: ParsedAuthor
    text: str
    created_at: datetime
    # None: the format has no post ids (SMF prints); the importer derives `<thread>-<position>`.
    external_id: str | None = None
    title: str = ""
    position: int | None = None
    reply_to_position: int | None = None
    reply_to_external_id: str = ""
    edited_at: datetime | None = None
    edited_by: str = ""
    html: str = ""
    line: int | None = None  # where the post starts in the file (SMF)


@dataclass(frozen=True)
class ParsedThread:
    title: str
    posts: tuple[ParsedPost, ...]
    # None: the format has no thread id (SMF prints); the importer derives a stable one.
    external_id: str | None = None
    url: str = ""
    format: str = ""
