"""A web process keeps the forum sources it has read for FORUM_SOURCE_CACHE_SECONDS: a delivery
then costs one INSERT. Changes made in this process apply at once; changes made elsewhere
apply within that time; a source deleted elsewhere gets a 404, never a 500."""
import time

import pytest
from django.db import connection
from django.test import Client, override_settings

from forum_helper.intake.models import Delivery, ForumSource
from forum_helper.intake.services import forum_source_upsert
from tests.intake.conftest import DISCOURSE_SECRET, discourse_headers, fixture_bytes

URL = "/webhooks/discourse/glow/"
NEW_SECRET = "a_brand_new_secret_for_the_hook"
BODY = fixture_bytes("discourse", "post_created__opener.json")


def deliver(client: Client, *, secret: str = DISCOURSE_SECRET, event_id: str = "1"):
    return client.post(URL, data=BODY, content_type="application/json",
                       headers=discourse_headers(BODY, "post_created", secret=secret, event_id=event_id))


@pytest.fixture(autouse=True)
def screening_left_to_a_worker(monkeypatch) -> None:
    from forum_helper.intake import webhooks

    monkeypatch.setattr(webhooks, "intake_drain_schedule", lambda: None)  # deliveries stay queued


def _update_behind_the_cache(sql: str, params: list) -> None:
    # Raw SQL sends no signals: this is how another process's change looks to this one.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_a_known_source_costs_later_deliveries_only_their_insert(
    client: Client, discourse_source: ForumSource, django_assert_num_queries
) -> None:
    with django_assert_num_queries(2):
        assert deliver(client, event_id="1").status_code == 202
    with django_assert_num_queries(1):
        assert deliver(client, event_id="2").status_code == 202


@pytest.mark.django_db
def test_a_secret_rotated_in_this_process_applies_to_the_next_delivery(client: Client, discourse_source: ForumSource) -> None:
    assert deliver(client).status_code == 202

    forum_source_upsert(slug="glow", kind=ForumSource.Kind.DISCOURSE, secrets=[NEW_SECRET])

    assert deliver(client).status_code == 401
    assert deliver(client, secret=NEW_SECRET).status_code == 202


@pytest.mark.django_db
@override_settings(FORUM_SOURCE_CACHE_SECONDS=0.3)
def test_a_secret_changed_by_another_process_applies_within_the_cache_time(
    client: Client, discourse_source: ForumSource
) -> None:
    assert deliver(client).status_code == 202
    _update_behind_the_cache("UPDATE intake_forumsource SET secrets = %s WHERE id = %s", [f'["{NEW_SECRET}"]', discourse_source.pk])

    time.sleep(0.35)

    assert deliver(client, secret=NEW_SECRET).status_code == 202
    assert deliver(client).status_code == 401


@pytest.mark.django_db
@override_settings(FORUM_SOURCE_CACHE_SECONDS=0)
def test_with_no_cache_time_every_delivery_reads_its_source(
    client: Client, discourse_source: ForumSource, django_assert_num_queries
) -> None:
    assert deliver(client, event_id="1").status_code == 202
    with django_assert_num_queries(2):
        assert deliver(client, event_id="2").status_code == 202


# serialized_rollback: like the other committing tests, it leaves the migrated rows for the next.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_source_deleted_by_another_process_gets_a_404_not_a_500(client: Client) -> None:
    # Committed for real: the delivery's foreign key is checked when its INSERT commits.
    source = ForumSource.objects.create(
        slug="glow", kind=ForumSource.Kind.DISCOURSE, secrets=[DISCOURSE_SECRET], instance_url="https://forum.example"
    )
    assert deliver(client).status_code == 202
    _update_behind_the_cache("UPDATE intake_delivery SET source_id = NULL WHERE source_id = %s", [source.pk])
    _update_behind_the_cache("DELETE FROM intake_forumsource WHERE id = %s", [source.pk])

    response = deliver(client, event_id="2")

    assert response.status_code == 404, response.content
    assert "No forum source 'glow'" in response.json()["message"]
    rejected = Delivery.objects.get(outcome=Delivery.Outcome.REJECTED)
    assert (rejected.source_id, rejected.status_code, rejected.source_slug) == (None, 404, "glow")
