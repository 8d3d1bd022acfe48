"""Thread importers: pure parsers (text -> ParsedThread) and the one import service.

The parsers import no Django; the service (`forum_helper.intake.importers.services`) stores
what they return through `post_ingest`.
"""
from forum_helper.intake.importers.types import ParsedAuthor, ParsedPost, ParsedThread, ThreadParseError

__all__ = ["ParsedAuthor", "ParsedPost", "ParsedThread", "ThreadParseError"]
