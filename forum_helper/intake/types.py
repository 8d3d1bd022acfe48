from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class IncomingPost:
    """A post as any intake path (webhook, import) hands it to post_ingest."""

    thread_external_id: str
    thread_title: str
    post_external_id: str
    raw_text: str
    author_name: str = ""
    author_external_id: str = ""
    author_role: str = "member"
    author_title: str = ""
    trust_level: int | None = None
    position: int | None = None
    reply_to_position: int | None = None
    parent_external_id: str = ""
    html: str = ""
    created_at: datetime | None = None
    edited_at: datetime | None = None
    # None: the intake path has no version numbers; a changed text makes the next version.
    version: int | None = None
    edit_reason: str = ""
    thread_url: str = ""
