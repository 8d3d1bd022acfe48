"""Every URL pattern of the project, for every role: who gets in, who is sent away, nobody gets a 5xx.

The patterns are walked from the resolver, so a new pattern the table below does not classify fails
`test_every_url_pattern_is_classified` until someone decides who may use it.
"""
import re
import time
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from forum_helper.intake.models import Delivery, Post, PostVersion
from forum_helper.library.models import Passage
from forum_helper.library.services import document_import, pin_create
from forum_helper.moderation.services import queue_item_sync_for_finding
from forum_helper.rules import services as rule_services
from forum_helper.rules.models import Backtest
from forum_helper.rules.selectors import ruleset_cache_clear
from tests.intake.conftest import discourse_headers, fixture_bytes, standard_headers
from tests.moderation.factories import finding_create, user_create
from tests.reliability.conftest import case_record
from tests.rules.conftest import ZAPWAND_RULE

pytestmark = pytest.mark.django_db

# area: who may use it. kind: "page" (anonymous -> login redirect) or "api" (anonymous -> 401/403).
# action: "read" (GET answers 200 to those let in) or "write" (POST; those let in get no 401/403/5xx).
PUBLIC, WEBHOOK, TOKEN, SCHEMA, MODERATION, LIBRARY_READ, ADMIN_ONLY, DJANGO_ADMIN = (
    "public", "webhook", "token", "schema", "moderation", "library_read", "admin_only", "django_admin"
)


@dataclass(frozen=True)
class Route:
    area: str
    kind: str
    actions: tuple[str, ...]


PAGE_READ, PAGE_WRITE, API_READ, API_WRITE = ("page", ("read",)), ("page", ("write",)), ("api", ("read",)), ("api", ("write",))
ROUTES: dict[str, Route] = {
    "accounts/login/": Route(PUBLIC, "page", ("read",)),
    "accounts/logout/": Route(PUBLIC, "page", ("write",)),
    "api/schema/": Route(SCHEMA, "api", ("read",)),
    "api/docs/": Route(SCHEMA, "api", ("read",)),
    "webhooks/discourse/<slug:source_slug>/": Route(WEBHOOK, "api", ("write",)),
    "webhooks/standard/<slug:source_slug>/": Route(WEBHOOK, "api", ("write",)),
    "api/token/": Route(TOKEN, "api", ("write",)),
    # moderation
    "": Route(MODERATION, *PAGE_READ),
    "queue/": Route(MODERATION, "page", ("read", "write")),
    "queue/<int:item_id>/": Route(MODERATION, *PAGE_READ),
    "queue/<int:item_id>/claim/": Route(MODERATION, *PAGE_WRITE),
    "queue/<int:item_id>/decide/": Route(MODERATION, *PAGE_WRITE),
    "queue/<int:item_id>/undo/": Route(MODERATION, *PAGE_WRITE),
    "queue/<int:item_id>/notes/": Route(MODERATION, *PAGE_WRITE),
    "dashboard/": Route(MODERATION, *PAGE_READ),
    "api/queue/": Route(MODERATION, *API_READ),
    "api/queue/counts/": Route(MODERATION, *API_READ),
    "api/queue/<int:item_id>/": Route(MODERATION, *API_READ),
    "api/queue/<int:item_id>/claim/": Route(MODERATION, *API_WRITE),
    "api/queue/<int:item_id>/decide/": Route(MODERATION, *API_WRITE),
    "api/queue/<int:item_id>/undo/": Route(MODERATION, *API_WRITE),
    "api/queue/<int:item_id>/notes/": Route(MODERATION, "api", ("read", "write")),
    # library: moderators read the pages; writes and the API are for admins (README: "APIs for admins")
    "library/": Route(LIBRARY_READ, *PAGE_READ),
    "library/documents/<int:document_id>/": Route(LIBRARY_READ, *PAGE_READ),
    "library/import/": Route(ADMIN_ONLY, "page", ("read", "write")),
    "library/passages/<int:passage_id>/pin/": Route(ADMIN_ONLY, *PAGE_WRITE),
    "library/pins/<int:pin_id>/delete/": Route(ADMIN_ONLY, *PAGE_WRITE),
    "library/api/documents/": Route(ADMIN_ONLY, *API_READ),
    "library/api/documents/<int:document_id>/": Route(ADMIN_ONLY, *API_READ),
    "library/api/pins/": Route(ADMIN_ONLY, "api", ("read", "write")),
    "library/api/pins/<int:pin_id>/": Route(ADMIN_ONLY, "api", ("delete",)),
    # rules: admins only
    "rules/": Route(ADMIN_ONLY, "page", ("read", "write")),
    "rules/new/": Route(ADMIN_ONLY, "page", ("read", "write")),
    "rules/versions/diff/": Route(ADMIN_ONLY, *PAGE_READ),
    "rules/backtests/<int:backtest_id>/": Route(ADMIN_ONLY, *PAGE_READ),
    "rules/backtests/<int:backtest_id>/status/": Route(ADMIN_ONLY, *PAGE_READ),
    "rules/api/rules/": Route(ADMIN_ONLY, "api", ("read", "write")),
    "rules/api/rules/<str:rule_id>/": Route(ADMIN_ONLY, "api", ("read", "write")),
    "rules/api/rules/<str:rule_id>/revisions/": Route(ADMIN_ONLY, *API_READ),
    "rules/api/backtests/": Route(ADMIN_ONLY, *API_WRITE),
    "rules/api/backtests/<int:backtest_id>/": Route(ADMIN_ONLY, *API_READ),
    "rules/<str:rule_id>/": Route(ADMIN_ONLY, "page", ("read", "write")),
    "rules/<str:rule_id>/diff/": Route(ADMIN_ONLY, *PAGE_READ),
    "rules/<str:rule_id>/rollback/": Route(ADMIN_ONLY, *PAGE_WRITE),
}
# Read pages whose 200 needs query parameters: without them a role that is let in gets this instead.
READ_WITHOUT_PARAMS = {"": (302,), "rules/versions/diff/": (200, 400, 404), "rules/<str:rule_id>/diff/": (200, 400, 404),
                       "api/docs/": (200,)}
ROLES = ("anonymous", "nobody", "moderator", "admin", "superuser")
ALLOWED = {
    SCHEMA: {"moderator", "admin", "superuser"},  # refusals: test_openapi_schema_and_docs_refuse_visitors_without_a_role
    MODERATION: {"moderator", "admin", "superuser"},
    LIBRARY_READ: {"moderator", "admin", "superuser"},
    ADMIN_ONLY: {"admin", "superuser"},
    DJANGO_ADMIN: {"superuser"},  # the stock admin site: is_staff, which only the demo's superuser admin has
}


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> list[tuple[str, str | None, URLPattern]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if entry.namespace and namespace else entry.namespace or namespace
            found += _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        else:
            name = f"{namespace}:{entry.name}" if entry.name and namespace else entry.name
            found.append((prefix + str(entry.pattern), name, entry))
    return found


def all_patterns() -> list[tuple[str, str | None, URLPattern]]:
    return _walk(get_resolver().url_patterns)


# Logging out ends the session the rest of the matrix runs in: these go last.
LOGOUTS = {"accounts/logout/", "admin/logout/"}


def route_of(pattern: str) -> Route | None:
    if pattern == "admin/login/":
        return Route(PUBLIC, "page", ("read",))
    if pattern == "admin/logout/":
        return Route(PUBLIC, "page", ("write",))
    if pattern.startswith("admin/"):
        return Route(DJANGO_ADMIN, "page", ("read",))
    return ROUTES.get(pattern)


def test_every_url_pattern_is_classified() -> None:
    unclassified = [pattern for pattern, _, _ in all_patterns() if route_of(pattern) is None]
    assert not unclassified, f"add these to ROUTES in {__file__}: {unclassified}"
    stale = set(ROUTES) - {pattern for pattern, _, _ in all_patterns()}
    assert not stale, f"ROUTES lists patterns that no longer exist: {stale}"


@pytest.fixture
def objects(db: None) -> dict[str, object]:
    """One real object behind every kind of path parameter."""
    ruleset_cache_clear()
    owner = user_create("owner", "admins")
    item = queue_item_sync_for_finding(finding=finding_create())
    rule = rule_services.rule_create(actor=owner, record=ZAPWAND_RULE, reason="matrix").rule
    backtest = Backtest.objects.create(params={"rule_id": rule.rule_id}, created_by=owner)
    document = document_import(title="Microneedling at home", url="https://ref.example/needling",
                               text="Home microneedling devices can cause infection.\n\nSee a dermatologist.", actor=owner)
    passage = Passage.objects.filter(document=document).first()
    pin = pin_create(passage=passage, actor=owner, category="home_needling")
    user_ct = ContentType.objects.get_for_model(User)
    yield {"item_id": item.pk, "rule_id": rule.rule_id, "backtest_id": backtest.pk, "document_id": document.pk,
           "passage_id": passage.pk, "pin_id": pin.pk, "source_slug": "glow", "object_id": owner.pk,
           "content_type_id": user_ct.pk, "app_label": "auth", "url": "no-such-admin-page/"}
    ruleset_cache_clear()


def url_for(pattern: str, name: str | None, entry: URLPattern, objects: dict[str, object]) -> str:
    # Custom admin views (ModelAdmin.get_urls) may name their ids anything: an existing row's pk will do.
    values = {**objects, "id": objects["object_id"]} if pattern.startswith("admin/") else objects
    kwargs = {key: values[key] for key in entry.pattern.regex.groupindex}
    if name:
        return reverse(name, kwargs=kwargs)
    if set(kwargs) == {"url"}:  # the admin's unnamed catch-all regex
        return "/admin/" + str(kwargs["url"])
    assert "^" not in pattern and "(?P" not in pattern, f"no way to build a URL for {pattern!r}"
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values[match.group(1)]), pattern)


def client_for(role: str) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    group = {"nobody": None, "moderator": "moderators", "admin": "admins", "superuser": "admins"}[role]
    user = user_create(f"matrix-{role}", group)
    if role == "superuser":
        user.is_staff = user.is_superuser = True
        user.save()
    client.force_login(user)
    return client


def _denied(route: Route, role: str, pattern: str, response) -> str | None:
    """None when the answer is a proper refusal for this role, else why not."""
    status = response.status_code
    location = response.get("Location", "")
    if route.area == DJANGO_ADMIN:
        ok = status == 302 and location.startswith("/admin/login/") or status == 403
        return None if ok else f"expected a redirect to /admin/login/ or 403, got {status} {location}"
    if role == "anonymous":
        if route.kind == "page":
            ok = status == 302 and location.startswith("/accounts/login/")
            return None if ok else f"expected a redirect to /accounts/login/, got {status} {location}"
        return None if status in (401, 403) else f"expected 401/403, got {status}"
    return None if status == 403 else f"expected 403, got {status} {location}"


def _let_in(route: Route, action: str, pattern: str, response) -> str | None:
    status = response.status_code
    location = response.get("Location", "")
    if route.area == DJANGO_ADMIN and status == 403 and re.search(r"(add/|delete/|autocomplete/)$", pattern):
        return None  # read-only model admins (audit log, revisions, deliveries) refuse add/delete even to superusers
    if route.area == DJANGO_ADMIN and status == 404 and pattern.startswith("admin/r/"):
        return None  # view-on-site for a model without get_absolute_url
    if status >= 500 or status in (401, 403) or (status == 302 and "/login/" in location):
        return f"expected to be let in, got {status} {location}"
    if action == "read" and status not in READ_WITHOUT_PARAMS.get(pattern, (200,)):
        if route.area == DJANGO_ADMIN and status == 302:
            return None  # e.g. the change page of an object of another model: back to the admin index
        if route.area == DJANGO_ADMIN and status == 404 and "url" in pattern:
            return None  # the catch-all answers 404 to unknown admin pages
        return f"expected {READ_WITHOUT_PARAMS.get(pattern, (200,))} on GET, got {status} {location}"
    return None


def _check(route: Route, role: str, pattern: str, action: str, response) -> str | None:
    if response.status_code >= 500:
        return f"server error {response.status_code}"
    if route.area == PUBLIC:
        if action == "read":  # a login page sends those already logged in on (302)
            ok = response.status_code == 200 or (role != "anonymous" and response.status_code == 302)
            return None if ok else f"expected 200, got {response.status_code}"
        return None if response.status_code in (200, 302) else f"expected 200/302, got {response.status_code}"
    if route.area == SCHEMA and role not in ALLOWED[SCHEMA]:
        return None  # judged by test_openapi_schema_and_docs_refuse_visitors_without_a_role
    if route.area == TOKEN:  # obtaining a token with no credentials: a 400, whoever asks
        return None if response.status_code == 400 else f"expected 400, got {response.status_code}"
    if route.area == WEBHOOK:  # no signature: refused, whoever is logged in
        return None if response.status_code in (401, 404) else f"expected 401/404, got {response.status_code}"
    if role in ALLOWED[route.area]:
        return _let_in(route, action, pattern, response)
    return _denied(route, role, pattern, response)


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_the_matrix_says(role: str, objects: dict[str, object]) -> None:
    client = client_for(role)
    problems = []
    tried = 0
    # Writes after reads, so a deleted pin or a decided item does not turn a later read into a 404.
    plan = [(action, pattern, name, entry) for action in ("read", "write", "delete")
            for pattern, name, entry in all_patterns() if action in route_of(pattern).actions]
    plan.sort(key=lambda step: step[1] in LOGOUTS)
    for action, pattern, name, entry in plan:
        route = route_of(pattern)
        url = url_for(pattern, name, entry, objects)
        response = {"read": client.get, "write": client.post, "delete": client.delete}[action](url, {})
        tried += 1
        case_record(f"authorization matrix ({role})", response.status_code)
        problem = _check(route, role, pattern, action, response)
        if problem:
            problems.append(f"{action.upper():6} {url} [{pattern}]: {problem}")
    assert tried >= 60
    assert not problems, f"{role}: {len(problems)} of {tried} requests answered wrongly:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_a_webhook_signed_with_the_wrong_forum_secret_is_401_and_nothing_is_stored(role: str, objects) -> None:
    from forum_helper.intake.models import ForumSource
    from tests.intake.conftest import DISCOURSE_INSTANCE, DISCOURSE_SECRET, STANDARD_SECRET

    ForumSource.objects.create(slug="glow", kind=ForumSource.Kind.DISCOURSE, secrets=[DISCOURSE_SECRET],
                               instance_url=DISCOURSE_INSTANCE)
    ForumSource.objects.create(slug="skinhub", kind=ForumSource.Kind.STANDARD, secrets=[STANDARD_SECRET])
    client = client_for(role)
    posts, versions, deliveries = Post.objects.count(), PostVersion.objects.count(), Delivery.objects.count()

    body = fixture_bytes("discourse", "post_created__member_reply.json")
    headers = discourse_headers(body, "post_created", secret="a_secret_of_another_forum")
    discourse = client.post("/webhooks/discourse/glow/", data=body, content_type="application/json", headers=headers)
    body = fixture_bytes("standard", "post.created__member.json")
    headers = standard_headers(body, msg_id="msg_wrong", timestamp=int(time.time()),
                               secret="whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=")
    standard = client.post("/webhooks/standard/skinhub/", data=body, content_type="application/json", headers=headers)

    assert (discourse.status_code, standard.status_code) == (401, 401)
    assert discourse.json()["message"] and standard.json()["message"]
    assert (Post.objects.count(), PostVersion.objects.count()) == (posts, versions)
    # Each refused delivery is logged (one Delivery row, by design), with no post attached.
    assert Delivery.objects.count() == deliveries + 2


@pytest.mark.parametrize("role", ["anonymous", "nobody"])
@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_openapi_schema_and_docs_refuse_visitors_without_a_role(role: str, url: str, db: None) -> None:
    """The schema maps every admin operation; like the APIs it describes, it is for moderators and admins."""
    response = client_for(role).get(url)
    assert response.status_code in (401, 403), f"{role} got {response.status_code} from {url}"
