"""The drain stores consecutive new posts of a batch together (a run): the database must end
exactly as if each delivery had been stored alone, in order."""
import itertools
import json
from typing import Any

import pytest
from django.db import IntegrityError
from django.test import Client

from forum_helper.intake import drain, services
from forum_helper.intake.models import Delivery, ForumSource, Post, PostVersion, Thread
from tests.intake.conftest import DISCOURSE_INSTANCE, DISCOURSE_SECRET, discourse_headers, fixture_json

pytestmark = pytest.mark.django_db
_event_ids = itertools.count(1)


def _post(post_id: int, topic: int, number: int, *, reply_to: int | None = None, title: str | None = None,
          version: int = 1, text: str | None = None, staff: bool = False) -> tuple[str, dict[str, Any]]:
    payload = fixture_json("discourse", "post_created__opener.json")
    payload["post"].update(
        id=post_id, topic_id=topic, post_number=number, reply_to_post_number=reply_to, version=version,
        topic_title=f"Topic {topic}" if title is None else title, staff=staff,
        raw=text or f"Post {post_id} v{version}: I roll 1mm on my cheeks every week.",
    )
    return ("post_edited" if version > 1 else "post_created"), payload


def _topic(topic: int, title: str) -> tuple[str, dict[str, Any]]:
    payload = fixture_json("discourse", "topic_created__basic.json")
    payload["topic"].update(id=topic, title=title, slug=f"topic-{topic}")
    return "topic_created", payload


BEFORE = [_post(300, 3, 1), _post(301, 3, 2, reply_to=1)]  # a thread stored before the batch
BATCH = [
    _topic(1, "Topic one from its topic event"),
    _post(100, 1, 1, title="Topic one renamed by its opener"),
    _post(101, 1, 2, reply_to=1),  # answers a post of the same run
    _post(102, 1, 3, reply_to=2),
    _post(200, 2, 1),  # a new thread between replies of another
    _post(101, 1, 2, reply_to=1),  # a repeat in the same batch: a duplicate
    _post(103, 1, 4, reply_to=1, staff=True),
    _post(100, 1, 1, version=2, text="Post 100 edited: now 1.5mm"),  # an edit of a post stored in this batch
    _post(302, 3, 3, reply_to=1),  # answers a post stored before the batch
    _post(303, 3, 4, reply_to=9),  # answers a post that was never delivered
    _post(201, 2, 2, reply_to=1, title="Topic two, new title"),
    _topic(2, "Topic two from its topic event"),
    _post(202, 2, 3, title=""),
    _post(304, 3, 5, reply_to=3),  # answers a reply of this batch in a thread stored before
]


def _deliver(client: Client, slug: str, deliveries: list[tuple[str, dict[str, Any]]]) -> None:
    for event, payload in deliveries:
        body = json.dumps(payload).encode()
        response = client.post(f"/webhooks/discourse/{slug}/", data=body, content_type="application/json",
                               headers=discourse_headers(body, event, event_id=str(next(_event_ids))))
        assert response.status_code == 202, response.content


def _state(source: ForumSource) -> dict[str, Any]:
    """What the drain left for one source, without ids that differ between sources."""
    threads = {t.external_id: (t.title, t.url, t.created_at) for t in Thread.objects.filter(source=source)}
    posts = {
        p.external_id: (p.thread.external_id, p.parent.external_id if p.parent else None, p.position,
                        p.reply_to_position, p.current_version, p.author_role, p.author_name, p.created_at, p.edited_at)
        for p in Post.objects.filter(source=source).select_related("thread", "parent")
    }
    versions = sorted(
        (v.post.external_id, v.version, v.raw_text, v.text_sha256, v.edited_at)
        for v in PostVersion.objects.filter(post__source=source).select_related("post")
    )
    deliveries = [
        (d.event, d.outcome, d.error, (d.post_version.post.external_id, d.post_version.version) if d.post_version else None)
        for d in Delivery.objects.filter(source=source).select_related("post_version__post").order_by("pk")
    ]
    return {"threads": threads, "posts": posts, "versions": versions, "deliveries": deliveries}


@pytest.fixture
def sources(db: None) -> tuple[ForumSource, ForumSource]:
    return tuple(
        ForumSource.objects.create(slug=slug, kind=ForumSource.Kind.DISCOURSE, secrets=[DISCOURSE_SECRET],
                                   instance_url=DISCOURSE_INSTANCE)
        for slug in ("alone", "runs")
    )


def test_a_batch_stored_in_runs_leaves_what_one_delivery_at_a_time_leaves(
    client: Client, sources: tuple[ForumSource, ForumSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    alone, runs = sources
    with monkeypatch.context() as patch:
        patch.setattr(services.NewPostRun, "admits", lambda *args: False)  # every delivery stored alone
        _deliver(client, alone.slug, BEFORE)
        drain.intake_drain()
        _deliver(client, alone.slug, BATCH)
        drain.intake_drain()

    _deliver(client, runs.slug, BEFORE)
    drain.intake_drain()
    _deliver(client, runs.slug, BATCH)
    stored_runs = []
    real_ingest = services.new_posts_ingest

    def spy(*, run, lookup):
        stored_runs.append([incoming.post_external_id for _source, incoming in run.items])
        return real_ingest(run=run, lookup=lookup)

    monkeypatch.setattr(drain, "new_posts_ingest", spy)
    drain.intake_drain()

    assert _state(runs) == _state(alone)
    # Runs really formed, and broke where a post depends on one before it.
    assert stored_runs == [["100"], ["101"], ["102", "200"], ["103"], ["302", "303", "201"], ["202", "304"]]
    assert _state(runs)["threads"]["2"][0] == "Topic two from its topic event"  # a post without a title kept it
    assert _state(runs)["posts"]["304"][1] == "302"


def test_a_run_the_database_refuses_is_stored_one_post_at_a_time(
    client: Client, sources: tuple[ForumSource, ForumSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    _alone, runs = sources
    _deliver(client, runs.slug, [_post(100, 1, 1), _post(200, 2, 1), _post(201, 2, 2, reply_to=1)])
    real_bulk_create = Post.objects.bulk_create
    refused = []

    def refuse_the_first_run(objs, *args, **kwargs):
        # As when a concurrent drain committed one of these posts after this batch looked.
        if not refused:
            refused.append([post.external_id for post in objs])
            raise IntegrityError('duplicate key value violates unique constraint "post_unique_per_source"')
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(Post.objects, "bulk_create", refuse_the_first_run)
    assert drain.intake_drain() == 3

    assert refused == [["100", "200"]]  # 201 answers 200: it waits for the next run
    outcomes = list(Delivery.objects.filter(source=runs).order_by("pk").values_list("outcome", flat=True))
    assert outcomes == ["accepted", "accepted", "accepted"]
    # The run's thread 2, rolled back with it, was created again, not taken from the batch's copy.
    assert sorted(Thread.objects.filter(source=runs).values_list("external_id", flat=True)) == ["1", "2"]
    assert Post.objects.get(source=runs, external_id="201").parent.external_id == "200"
    assert PostVersion.objects.filter(post__source=runs).count() == 3
