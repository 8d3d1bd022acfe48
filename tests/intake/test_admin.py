import warnings

import pytest

from forum_helper.intake.models import ForumSource

pytestmark = pytest.mark.django_db


def test_a_forum_source_added_in_the_admin_reads_a_bare_host_as_https(admin_client) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecation noise from the admin's URL fields either
        assert admin_client.get("/admin/intake/forumsource/add/").status_code == 200
        response = admin_client.post(
            "/admin/intake/forumsource/add/",
            {"slug": "bare-host", "name": "", "kind": "discourse", "instance_url": "forum.example.org",
             "outgoing_webhook_url": "", "outgoing_secret": "", "new_secret": "s3cret-s3cret"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    source = ForumSource.objects.get(slug="bare-host")
    assert source.instance_url == "https://forum.example.org"
    assert source.secrets == ["s3cret-s3cret"]


def test_the_thread_admin_change_page_renders(admin_client) -> None:
    assert admin_client.get("/admin/intake/thread/add/").status_code == 200
