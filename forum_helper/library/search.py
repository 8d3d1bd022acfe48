"""Full-text search over passages, by database vendor.

PostgreSQL: ``to_tsvector('english', heading || text)`` ranked with ``ts_rank`` (computed per
query; the library is a few hundred passages). SQLite: an FTS5 table ``library_passage_fts``
(rowid = passage id) created by migration 0002 and kept in sync by the library services
(``index_passages`` / ``unindex_passages``), never by signals. Other vendors: no full-text
search (pins only).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import reduce
from operator import or_

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

FTS_TABLE = "library_passage_fts"
CREATE_FTS_SQL = f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(heading, text, tokenize='porter unicode61')"
DROP_FTS_SQL = f"DROP TABLE IF EXISTS {FTS_TABLE}"


def uses_fts5(connection: BaseDatabaseWrapper = default_connection) -> bool:
    return connection.vendor == "sqlite"


def index_passages(rows: Iterable[tuple[int, str, str]], *, connection: BaseDatabaseWrapper = default_connection) -> None:
    """(Re)index passages given as (id, heading, text); a no-op off SQLite."""
    if not uses_fts5(connection):
        return
    rows = list(rows)
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(pk,) for pk, _, _ in rows])
        cursor.executemany(f"INSERT INTO {FTS_TABLE} (rowid, heading, text) VALUES (%s, %s, %s)", rows)


def unindex_passages(ids: Iterable[int], *, connection: BaseDatabaseWrapper = default_connection) -> None:
    if not uses_fts5(connection):
        return
    ids = list(ids)
    if ids:
        with connection.cursor() as cursor:
            cursor.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(pk,) for pk in ids])


def rebuild_index(rows: Iterable[tuple[int, str, str]], *, connection: BaseDatabaseWrapper = default_connection) -> None:
    if not uses_fts5(connection):
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE}")
    index_passages(rows, connection=connection)


def _fts5_query(terms: Sequence[str]) -> str:
    # Each term is quoted (a phrase to FTS5), so user text cannot inject query syntax.
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


def search_passage_ids(
    terms: Sequence[str], *, limit: int, exclude_ids: Iterable[int] = ()
) -> list[int]:
    """Ids of the passages best matching any of ``terms``, best first."""
    terms = [t for t in terms if t.strip()]
    if not terms or limit <= 0:
        return []
    exclude = set(exclude_ids)
    if default_connection.vendor == "postgresql":
        return _search_postgresql(terms, limit=limit, exclude=exclude)
    if uses_fts5():
        return _search_fts5(terms, limit=limit, exclude=exclude)
    return []


def _search_fts5(terms: Sequence[str], *, limit: int, exclude: set[int]) -> list[int]:
    from forum_helper.library.models import Passage

    with default_connection.cursor() as cursor:
        # bm25: lower is better; a heading hit weighs twice a body hit.
        cursor.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "
            f"ORDER BY bm25({FTS_TABLE}, 2.0, 1.0), rowid LIMIT %s",
            [_fts5_query(terms), limit + len(exclude) + 20],
        )
        candidates = [row[0] for row in cursor.fetchall() if row[0] not in exclude]
    # The FTS table is not a Django model: a flushed or hand-edited database can leave
    # stale rows, so keep only passages that exist.
    existing = set(Passage.objects.filter(pk__in=candidates).values_list("pk", flat=True))
    return [pk for pk in candidates if pk in existing][:limit]


def _search_postgresql(terms: Sequence[str], *, limit: int, exclude: set[int]) -> list[int]:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
    from django.db.models import Value

    from forum_helper.library.models import Passage

    vector = SearchVector("heading", weight="A", config="english") + SearchVector("text", weight="B", config="english")
    query = reduce(
        or_,
        [SearchQuery(t, config="english", search_type="phrase" if " " in t.strip() else "plain") for t in terms],
    )
    # normalization 1: divide the rank by 1 + log(length) so long tables don't win on size.
    ranked = (
        Passage.objects.annotate(rank=SearchRank(vector, query, normalization=Value(1)))
        .filter(rank__gt=0)
        .exclude(pk__in=exclude)
        .order_by("-rank", "pk")
        .values_list("pk", flat=True)
    )
    return list(ranked[:limit])
