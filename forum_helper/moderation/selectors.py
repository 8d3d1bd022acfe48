"""Reads for the moderation queue, item pages and dashboard."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Any
from urllib.parse import quote

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import BooleanField, Count, F, Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.expressions import RawSQL
from django.utils import timezone

from forum_helper.intake.models import Post, PostVersion
from forum_helper.moderation.highlight import highlight_html
from forum_helper.moderation.models import Decision, QueueItem
from forum_helper.moderation.text_diff import WordDiff, word_diff
from forum_helper.moderation.visible_text import invisible_stripped
from forum_helper.screening.models import Finding

PAGE_SIZE = 50
TABS = ("open", "mine", "escalated", "resolved", "low")
TAB_LABELS = {"open": "Open", "mine": "Claimed by me", "escalated": "Escalated", "resolved": "Resolved",
              "low": "Low / context"}
SORTS = {
    "priority": ("-priority", "-created_at", "-id"),
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
}
CATEGORIES = ("home_needling", "cell_transfer", "uv_combination", "drug_into_wounds", "isotretinoin_window",
              "wound_care_risk", "diy_ablation", "koebner_risk")
CATEGORY_LABELS = {
    "home_needling": "Home needling", "cell_transfer": "Cell transfer", "uv_combination": "UV combination",
    "drug_into_wounds": "Drug into wounds", "isotretinoin_window": "Isotretinoin window",
    "wound_care_risk": "Wound care risk", "diy_ablation": "DIY ablation", "koebner_risk": "Koebner risk",
}
SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class QueueFilters:
    tab: str = "open"
    severity: str = ""
    category: str = ""
    source: str = ""
    staff: str = ""  # "yes" | "no" | ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "priority"

    @classmethod
    def from_params(cls, params: Any) -> "QueueFilters":
        def as_date(value: str | None) -> date | None:
            try:
                return date.fromisoformat(value) if value else None
            except ValueError:
                return None

        tab = params.get("tab") or "open"
        sort = params.get("sort") or "priority"
        return cls(
            tab=tab if tab in TABS else "open",
            severity=params.get("severity") or "",
            category=params.get("category") or "",
            source=params.get("source") or "",
            staff=params.get("staff") or "",
            date_from=as_date(params.get("date_from")),
            date_to=as_date(params.get("date_to")),
            sort=sort if sort in SORTS else "priority",
        )

    def query_params(self) -> dict[str, str]:
        values = {"tab": self.tab, "severity": self.severity, "category": self.category, "source": self.source,
                  "staff": self.staff, "date_from": self.date_from.isoformat() if self.date_from else "",
                  "date_to": self.date_to.isoformat() if self.date_to else "", "sort": self.sort}
        return {key: value for key, value in values.items() if value}


_UNRESOLVED = [QueueItem.Status.OPEN, QueueItem.Status.CLAIMED, QueueItem.Status.ESCALATED]


def _tab_q(tab: str, user: AbstractBaseUser) -> Q:
    # Conditions are spelled as equalities/IN lists over the (lane, status) index columns ("not
    # resolved" as the other statuses, "resolved" in either lane) so every tab is an index range.
    risk = Q(lane=QueueItem.Lane.RISK)
    if tab == "mine":
        return risk & Q(claimed_by=user) & Q(status__in=_UNRESOLVED)
    if tab == "escalated":
        return risk & Q(status=QueueItem.Status.ESCALATED)
    if tab == "resolved":
        return Q(lane__in=QueueItem.Lane.values, status=QueueItem.Status.RESOLVED)
    if tab == "low":
        return Q(lane=QueueItem.Lane.LOW) & Q(status__in=_UNRESOLVED)
    # "open": unresolved, not escalated risky items, claimed or not (claimed ones show who has them).
    return risk & Q(status__in=[QueueItem.Status.OPEN, QueueItem.Status.CLAIMED])


def queue_tab_counts(*, user: AbstractBaseUser) -> dict[str, int]:
    """Every tab's exact count in one aggregate query (reads every row: see queue_tab_counts_capped)."""
    return QueueItem.objects.aggregate(**{tab: Count("pk", filter=_tab_q(tab, user)) for tab in TABS})


TAB_COUNT_CAP = 1000


class TabCount(int):
    """A tab's count, at most the cap; `more` is True when the tab holds more items than that."""

    more: bool

    def __new__(cls, count: int, *, more: bool = False) -> "TabCount":
        value = super().__new__(cls, count)
        value.more = more
        return value


def queue_tab_counts_capped(*, user: AbstractBaseUser, cap: int | None = None) -> dict[str, TabCount]:
    """Every tab's count up to `cap`, in one statement of index range scans that stop after cap + 1 rows.

    An exact count reads every matching row (a 100,000-item backlog costs tens of milliseconds);
    past the cap a moderator needs "1000+", not the number.
    """
    cap = TAB_COUNT_CAP if cap is None else cap
    parts, params = [], []
    for tab in TABS:
        sql, tab_params = QueueItem.objects.filter(_tab_q(tab, user)).order_by().values("pk")[: cap + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS {tab}_rows)")
        params.extend(tab_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {tab: TabCount(min(n, cap), more=n > cap) for tab, n in zip(TABS, row)}


def queue_items_list(*, user: AbstractBaseUser, filters: QueueFilters) -> QuerySet[QueueItem]:
    items = QueueItem.objects.filter(_tab_q(filters.tab, user))
    if filters.severity:
        items = items.filter(severity=filters.severity)
    if filters.category:
        items = items.filter(category_keys__contains=f",{filters.category},")
    if filters.source:
        items = items.filter(post__source__slug=filters.source)
    if filters.staff == "yes":
        items = items.filter(is_staff_author=True)
    elif filters.staff == "no":
        items = items.filter(is_staff_author=False)
    tz = timezone.get_current_timezone()
    if filters.date_from:
        items = items.filter(created_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=tz))
    if filters.date_to:
        items = items.filter(created_at__lt=datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=tz))
    return items.order_by(*SORTS[filters.sort])


@dataclass
class Page:
    items: list[QueueItem]
    number: int
    has_next: bool
    has_previous: bool
    # Keyset cursors (QueueCursor tokens) of the page's last and first rows, for the Next/Previous links.
    next_cursor: str = ""
    previous_cursor: str = ""


# What a queue row (page and API) shows of an item's post and finding.
_ROW_POST_FIELDS = ("external_id", "author_name", "author_role", "created_at", "current_version",
                    "source__slug", "thread__external_id", "thread__title")
_ROW_FINDING_FIELDS = ("post_version__post_id", "post_version__version", "post_version__raw_text",
                       *(f"post_version__post__{name}" for name in _ROW_POST_FIELDS))
MAX_PAGE = 1_000_000  # beyond any real backlog; keeps OFFSET inside a bigint whatever the URL says
_EPOCH = datetime(1970, 1, 1, tzinfo=dt_timezone.utc)


@dataclass(frozen=True)
class QueueCursor:
    """A row's position in a sort order: (priority, created_at, id) for "priority", (created_at, id) otherwise.

    Its token (for URLs) is those values as integers joined by "." (created_at as microseconds
    since the epoch), e.g. "1045.1763793630123456.812"; anything else parses to None.
    """

    sort: str
    priority: int | None
    created_at: datetime
    id: int

    @classmethod
    def of(cls, item: QueueItem, sort: str) -> "QueueCursor":
        return cls(sort=sort, priority=item.priority if sort == "priority" else None, created_at=item.created_at,
                   id=item.pk)

    @classmethod
    def parse(cls, token: str, sort: str) -> "QueueCursor | None":
        parts = (token or "").split(".")
        expected = 3 if sort == "priority" else 2
        if len(parts) != expected or not all(part.lstrip("-").isdigit() and len(part) <= 20 for part in parts):
            return None
        numbers = [int(part) for part in parts]
        try:
            created_at = _EPOCH + timedelta(microseconds=numbers[-2])
        except OverflowError:
            return None
        if not (-(2**31) <= numbers[0] < 2**31) or not (0 < numbers[-1] < 2**63):
            return None
        return cls(sort=sort, priority=numbers[0] if sort == "priority" else None, created_at=created_at,
                   id=numbers[-1])

    def token(self) -> str:
        micros = (self.created_at - _EPOCH) // timedelta(microseconds=1)
        values = ([self.priority] if self.sort == "priority" else []) + [micros, self.id]
        return ".".join(str(value) for value in values)

    def beyond(self, *, forward: bool) -> RawSQL:
        """Rows after this one in the sort order (forward) or before it, as one row-value comparison.

        (priority, created_at, id) < (%s, %s, %s) is an index condition on the matching sort index
        (every column runs the same direction), so a deep page starts where the last one ended
        instead of reading and skipping every row before it, as OFFSET does.
        """
        names = ["priority", "created_at", "id"] if self.sort == "priority" else ["created_at", "id"]
        values = ([self.priority] if self.sort == "priority" else []) + [self.created_at, self.id]
        descending = self.sort != "oldest"
        operator = "<" if descending == forward else ">"
        table = connection.ops.quote_name(QueueItem._meta.db_table)
        fields = [QueueItem._meta.get_field(name) for name in names]
        columns = ", ".join(f"{table}.{connection.ops.quote_name(f.column)}" for f in fields)
        params = [f.get_db_prep_value(value, connection) for f, value in zip(fields, values)]
        placeholders = ", ".join(["%s"] * len(params))
        return RawSQL(f"({columns}) {operator} ({placeholders})", params, output_field=BooleanField())


def queue_page(*, user: AbstractBaseUser, filters: QueueFilters, page: int, after: str = "",
               before: str = "") -> Page:
    """One page of the queue, without a COUNT: one extra row tells whether there is more.

    With an `after` (or `before`) cursor token the page is the 50 rows following (preceding) that
    row, read from the sort index; `page` is then only the number shown. Without a valid cursor it
    is page `page` by OFFSET (old links, the API, and the first page, where OFFSET is 0).

    The page's rows come from the queue table alone (a join of six tables cost PostgreSQL more
    to plan than to run); their findings' texts with the posts, threads and sources follow in
    one query by id, and the claimers in another, whatever the page size.
    """
    page = min(max(1, page), MAX_PAGE)
    ordered = queue_items_list(user=user, filters=filters)
    after_cursor = QueueCursor.parse(after, filters.sort)
    before_cursor = None if after_cursor else QueueCursor.parse(before, filters.sort)
    if after_cursor:
        rows = list(ordered.filter(after_cursor.beyond(forward=True))[: PAGE_SIZE + 1])
        items, has_next, has_previous = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE, True
    elif before_cursor:
        backwards = ordered.filter(before_cursor.beyond(forward=False)).order_by(*[_flip(f) for f in SORTS[filters.sort]])
        rows = list(backwards[: PAGE_SIZE + 1])
        items, has_previous = rows[:PAGE_SIZE][::-1], len(rows) > PAGE_SIZE
        has_next = bool(items) and ordered.filter(QueueCursor.of(items[-1], filters.sort).beyond(forward=True)).exists()
    else:
        offset = (page - 1) * PAGE_SIZE
        rows = list(ordered[offset : offset + PAGE_SIZE + 1])
        items, has_next, has_previous = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE, page > 1
    _row_relations_load(items)
    return Page(
        items=items, number=page, has_next=has_next, has_previous=has_previous,
        next_cursor=QueueCursor.of(items[-1], filters.sort).token() if items and has_next else "",
        previous_cursor=QueueCursor.of(items[0], filters.sort).token() if items and has_previous else "",
    )


def _row_relations_load(items: list[QueueItem]) -> None:
    """What a row shows of each item's finding, post (with source and thread) and claimer, in two queries.

    An item's post is its finding's post (screening queues the finding's post), so the post
    comes with the finding's text; a separate Post prefetch cost a third query and its ORM work.
    """
    prefetch_related_objects(
        items,
        # Only the text: a finding's JSON columns (evidence, references, ...) are for the item page.
        Prefetch("finding", queryset=Finding.objects.select_related("post_version__post__source",
                                                                    "post_version__post__thread")
                 .only(*_ROW_FINDING_FIELDS)),
        "claimed_by",
    )
    strays = []
    for item in items:
        post = item.finding.post_version.post
        if post.pk == item.post_id:
            item.post = post
        else:  # not expected; still shown right
            strays.append(item)
    if strays:
        prefetch_related_objects(
            strays, Prefetch("post", queryset=Post.objects.select_related("source", "thread").only(*_ROW_POST_FIELDS)))


def queue_neighbours(*, item: QueueItem, user: AbstractBaseUser, filters: QueueFilters) -> tuple[int | None, int | None]:
    """Ids of the previous and next item in the queue order (keyset comparison on the sort columns)."""
    items = queue_items_list(user=user, filters=filters)
    if filters.sort == "priority":
        after = (Q(priority__lt=item.priority) | Q(priority=item.priority, created_at__lt=item.created_at)
                 | Q(priority=item.priority, created_at=item.created_at, id__lt=item.pk))
        before = (Q(priority__gt=item.priority) | Q(priority=item.priority, created_at__gt=item.created_at)
                  | Q(priority=item.priority, created_at=item.created_at, id__gt=item.pk))
    else:
        after = Q(created_at__lt=item.created_at) | Q(created_at=item.created_at, id__lt=item.pk)
        before = Q(created_at__gt=item.created_at) | Q(created_at=item.created_at, id__gt=item.pk)
        if filters.sort == "oldest":
            after, before = before, after
    next_id = items.filter(after).values_list("pk", flat=True).first()
    previous_id = items.filter(before).order_by(*[_flip(f) for f in SORTS[filters.sort]]).values_list("pk", flat=True).first()
    return previous_id, next_id


def _flip(order: str) -> str:
    return order[1:] if order.startswith("-") else f"-{order}"


def queue_item_get(*, item_id: int) -> QueueItem | None:
    return (
        QueueItem.objects.select_related("post__source", "post__thread", "post__parent", "finding__post_version",
                                         "claimed_by", "updated_by")
        .filter(pk=item_id)
        .first()
    )


def post_text(*, post: Post) -> str:
    version = post.versions.filter(version=post.current_version).first()
    return version.raw_text if version else ""


@dataclass
class CategoryView:
    id: str
    label: str
    explanation: str
    rules: list[tuple[str, Any]]
    references: list[dict]


@dataclass(frozen=True)
class PostEdit:
    """What changed between the post's previous screened version and the one shown on the item page."""

    previous_version: int
    current_version: int
    diff: WordDiff
    # Categories of the previous finding vs the current one; None while the shown version is unscreened.
    categories_added: list[tuple[str, str]] | None
    categories_removed: list[tuple[str, str]] | None


def post_edit_get(*, post: Post, text: str, current_finding: Finding | None) -> PostEdit | None:
    """The edit that led to the shown version (`text`, the post's current version), or None for an unedited post.

    Compared with the newest earlier version that was screened (versions replaced before screening
    reached them never had a finding); `current_finding` is the shown version's finding, if any.
    """
    previous = (
        Finding.objects.filter(post_version__post=post, post_version__version__lt=post.current_version)
        .select_related("post_version").order_by("-post_version__version", "-created_at", "-id").first()
    )
    if previous is None:
        return None
    added = removed = None
    if current_finding is not None:
        before, after = list(previous.categories or []), list(current_finding.categories or [])
        added = [(c, CATEGORY_LABELS.get(c, c)) for c in after if c not in before]
        removed = [(c, CATEGORY_LABELS.get(c, c)) for c in before if c not in after]
    return PostEdit(previous_version=previous.post_version.version, current_version=post.current_version,
                    diff=word_diff(previous.post_version.raw_text, text),
                    categories_added=added, categories_removed=removed)


@dataclass
class ItemDetail:
    item: QueueItem
    finding: Finding
    text: str
    highlighted: Any
    categories: list[CategoryView]
    legend: list[tuple[str, str]]
    thread_posts: list[dict]
    parent: dict | None
    author_items: list[QueueItem]
    suggested_reply: str
    decisions: list[Decision]
    notes: list
    can_undo: bool = False
    edit: PostEdit | None = None
    extra: dict = field(default_factory=dict)


def _explanation_for(category: str, explanation: str) -> str:
    """The explanation line(s) mentioning the category; the whole explanation when none does."""
    lines = [line.strip() for line in explanation.replace(";", "\n").splitlines() if line.strip()]
    mentions = [line for line in lines if category in line or CATEGORY_LABELS.get(category, "").lower() in line.lower()]
    return " ".join(mentions) if mentions else explanation


def reference_view(reference: dict) -> dict:
    """A reference passage with its library link and DOI links (URLs built here, escaped by the template)."""
    document_id = quote(str(reference.get("document_id", "")), safe="")
    passage_id = quote(str(reference.get("passage_id", "")), safe="")
    url = str(reference.get("url") or "")
    return {
        **reference,
        "library_url": f"/library/documents/{document_id}/#passage-{passage_id}",
        "doi_links": [(doi, f"https://doi.org/{quote(str(doi), safe='/:;()._-')}") for doi in reference.get("dois") or []],
        "external_url": url if url.startswith(("https://", "http://")) else "",
    }


def _rules_for(category: str, finding: Finding) -> list[tuple[str, Any]]:
    rule_ids = {e.get("rule") for e in finding.evidence or [] if e.get("category") == category and e.get("rule")}
    rule_ids |= {rid for rid in finding.rule_ids or [] if category in str(rid)}
    return [(rid, (finding.rule_revisions or {}).get(rid, "")) for rid in sorted(rule_ids)]


REPLY_LINES = {
    "home_needling": "Needling at home breaks the skin barrier; deeper needles (0.5 mm and more) and frequent sessions raise the risk of infection, scarring and pigment changes.",
    "cell_transfer": "Moving skin or cells between sites at home is a surgical procedure; without sterile conditions it risks infection, scarring and new patches at the donor site.",
    "uv_combination": "UV light on freshly injured skin, or with medicines whose label warns against UV, can burn the skin and leave lasting pigment changes.",
    "drug_into_wounds": "Putting prescription drugs or strong actives onto needled or peeled skin lets far more of them into the body than the label assumes.",
    "isotretinoin_window": "Procedures during or within about six months after isotretinoin carry a higher risk of poor healing and scarring.",
    "wound_care_risk": "Open micro-wounds need clean, single-use tools and no occlusion; reused or unsterilised needles can cause infections.",
    "diy_ablation": "Strong peels, phenol, home lasers and similar deep treatments can cause burns and permanent scarring without a clinician.",
    "koebner_risk": "With vitiligo or psoriasis, injuring the skin can trigger new patches (the Koebner phenomenon).",
}


def suggested_reply_draft(*, author_name: str, categories: list[str], references: list[dict]) -> str:
    """A reply a moderator can edit and post, citing the reference passages by category."""
    # Our own text: the author's name loses any invisible or direction-control characters.
    lines = [f"Hi {invisible_stripped(author_name) or 'there'},", "",
             "Thanks for sharing your plan. Before you go ahead, please be aware of a few risks:"]
    for category in categories:
        lines.append(f"- {REPLY_LINES.get(category, CATEGORY_LABELS.get(category, category))}")
        for reference in [r for r in references if r.get("category") == category][:2]:
            link = next(iter(reference_view(reference)["doi_links"]), (None, ""))[1] or reference_view(reference)["library_url"]
            title = reference.get("document_title") or "reference"
            heading = f", {reference['heading']}" if reference.get("heading") else ""
            lines.append(f"  Source: {title}{heading} ({link})")
    lines += ["", "Please talk to a dermatologist before trying this at home; they can offer safer options in a clinic."]
    return "\n".join(lines)


def queue_item_detail(*, item: QueueItem, user: AbstractBaseUser) -> ItemDetail:
    finding = item.finding
    post = item.post
    is_current = finding.post_version.version == post.current_version
    text = finding.post_version.raw_text if is_current else post_text(post=post)
    evidence = finding.evidence if finding.post_version.version == post.current_version else []
    if not evidence and finding.post_version.raw_text == text:
        evidence = finding.evidence
    references = list(finding.references or [])
    categories = [
        CategoryView(
            id=category,
            label=CATEGORY_LABELS.get(category, category),
            explanation=_explanation_for(category, finding.explanation),
            rules=_rules_for(category, finding),
            references=[reference_view(r) for r in references if r.get("category") == category],
        )
        for category in finding.categories or []
    ]
    evidence_categories = {e.get("category") for e in evidence}
    legend = [(c, CATEGORY_LABELS.get(c, c)) for c in list(finding.categories or []) + sorted(
        c for c in evidence_categories if c and c not in (finding.categories or []))]

    thread_versions = (
        PostVersion.objects.filter(post__thread_id=post.thread_id, version=F("post__current_version"))
        .select_related("post")
        .order_by(F("post__position").asc(nulls_last=True), "post__created_at", "post_id")[:200]
    )
    latest_severity: dict[int, str] = {}
    for post_id, severity in (
        Finding.objects.filter(post_version__post__thread_id=post.thread_id,
                               post_version__version=F("post_version__post__current_version"))
        .order_by("created_at", "id").values_list("post_version__post_id", "severity")
    ):
        latest_severity[post_id] = severity  # the newest finding wins
    thread_posts = [
        {"post": pv.post, "text": pv.raw_text, "severity": latest_severity.get(pv.post_id, ""), "is_current": pv.post_id == post.pk}
        for pv in thread_versions
    ]
    parent_post = post.parent
    if parent_post is None and post.reply_to_position:
        parent_post = Post.objects.filter(thread_id=post.thread_id, position=post.reply_to_position).first()
    if parent_post is None and post.position and post.position > 1:
        parent_post = Post.objects.filter(thread_id=post.thread_id, position=1).first()
    parent = {"post": parent_post, "text": post_text(post=parent_post)} if parent_post else None

    author_filter = Q(post__author_external_id=post.author_external_id) if post.author_external_id else Q(
        post__author_name=post.author_name)
    author_items = list(
        QueueItem.objects.filter(author_filter, post__source_id=post.source_id).exclude(pk=item.pk)
        .select_related("post__thread").order_by("-created_at")[:20]
    ) if (post.author_external_id or post.author_name) else []

    decisions = list(item.decisions.select_related("actor", "undone_by", "finding").order_by("-created_at", "-id"))
    last_live = next((d for d in decisions if not d.undone), None)
    return ItemDetail(
        item=item, finding=finding, text=text, highlighted=highlight_html(text=text, evidence=evidence),
        categories=categories, legend=legend, thread_posts=thread_posts, parent=parent, author_items=author_items,
        suggested_reply=suggested_reply_draft(author_name=post.author_name, categories=list(finding.categories or []),
                                              references=references),
        decisions=decisions, notes=list(item.notes.select_related("author")),
        can_undo=last_live is not None,
        edit=post_edit_get(post=post, text=text, current_finding=finding if is_current else _finding_of_current_version(post)),
    )


def _finding_of_current_version(post: Post) -> Finding | None:
    return (Finding.objects.filter(post_version__post=post, post_version__version=post.current_version)
            .order_by("-created_at", "-id").first())


# ---- dashboard -------------------------------------------------------------------------------

def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


def dashboard_stats(*, days: int = 30, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    start_day = today - timedelta(days=days - 1)
    start = datetime.combine(start_day, time.min, tzinfo=timezone.get_current_timezone())

    per_day: dict[date, dict[str, int]] = {start_day + timedelta(days=i): defaultdict(int) for i in range(days)}
    for created_at, severity in QueueItem.objects.filter(created_at__gte=start).values_list("created_at", "severity"):
        day = timezone.localdate(created_at)
        if day in per_day:
            per_day[day][severity] += 1

    buckets = [("< 1 h", timedelta(hours=1)), ("1–24 h", timedelta(days=1)), ("1–3 d", timedelta(days=3)),
               ("3–7 d", timedelta(days=7)), ("> 7 d", None)]
    age_counts = {label: 0 for label, _ in buckets}
    open_items = QueueItem.objects.filter(status__in=[QueueItem.Status.OPEN, QueueItem.Status.CLAIMED,
                                                      QueueItem.Status.ESCALATED])
    for created_at in open_items.values_list("created_at", flat=True).iterator():
        age = now - created_at
        for label, limit in buckets:
            if limit is None or age < limit:
                age_counts[label] += 1
                break

    review_hours = [
        (reviewed - created).total_seconds() / 3600
        for created, reviewed in QueueItem.objects.filter(
            severity="high", first_reviewed_at__isnull=False, created_at__gte=start
        ).values_list("created_at", "first_reviewed_at")
    ]

    rules: dict[str, dict[str, int]] = defaultdict(lambda: {"hits": 0, "confirm": 0, "dismiss": 0, "escalate": 0})
    for rule_ids in Finding.objects.filter(queue_items__isnull=False, created_at__gte=start).values_list("rule_ids", flat=True):
        for rule_id in rule_ids or []:
            rules[rule_id]["hits"] += 1
    for kind, rule_ids in Decision.objects.filter(undone=False, created_at__gte=start).values_list("kind", "finding__rule_ids"):
        for rule_id in rule_ids or []:
            rules[rule_id][kind] += 1
    rule_rows = []
    for rule_id, counts in sorted(rules.items()):
        judged = counts["confirm"] + counts["dismiss"]
        rule_rows.append({"rule_id": rule_id, **counts,
                          "precision": round(counts["confirm"] / judged, 3) if judged else None})
    return {
        "per_day": [(day, dict(counts)) for day, counts in per_day.items()],
        "age_buckets": list(age_counts.items()),
        "review_median_hours": _quantile(review_hours, 0.5),
        "review_p90_hours": _quantile(review_hours, 0.9),
        "review_count": len(review_hours),
        "rules": rule_rows,
    }
