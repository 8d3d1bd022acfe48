from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from forum_helper.core.models import AuditLog
from forum_helper.intake.models import ForumSource

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("add_forum_source", *args, stdout=out)
    return out.getvalue()


def test_it_creates_a_discourse_source_and_prints_the_secret_masked() -> None:
    output = run("--kind", "discourse", "--slug", "glow", "--secret", "my_lovely_secret_for_web_hook", "--instance", "https://forum.example/", "--name", "Glow")

    source = ForumSource.objects.get(slug="glow")
    assert (source.kind, source.name, source.instance_url, source.secrets) == (
        "discourse", "Glow", "https://forum.example", ["my_lovely_secret_for_web_hook"],
    )
    assert "my_l…29 chars" in output
    assert "my_lovely_secret_for_web_hook" not in output
    assert "/webhooks/discourse/glow/" in output
    audit = AuditLog.objects.get(target_type="intake.forumsource")
    assert (audit.action, audit.target_id) == ("forum_source.created", str(source.pk))
    assert "my_lovely_secret_for_web_hook" not in str(audit.after)


def test_it_updates_an_existing_source_keeping_options_not_given() -> None:
    run("--kind", "discourse", "--slug", "glow", "--secret", "first-secret-1234", "--instance", "https://forum.example")
    output = run("--kind", "discourse", "--slug", "glow", "--secret", "second-secret-1234", "--secret", "first-secret-1234")

    source = ForumSource.objects.get()
    assert source.secrets == ["second-secret-1234", "first-secret-1234"]
    assert source.instance_url == "https://forum.example"
    assert output.startswith("Updated")
    assert list(AuditLog.objects.filter(target_type="intake.forumsource").order_by("pk").values_list("action", flat=True)) == ["forum_source.created", "forum_source.updated"]


def test_it_refuses_a_discourse_secret_shorter_than_twelve_characters() -> None:
    with pytest.raises(CommandError, match="at least 12"):
        run("--kind", "discourse", "--slug", "glow", "--secret", "short")
    assert ForumSource.objects.count() == 0
    assert not AuditLog.objects.filter(target_type="intake.forumsource").exists()


@pytest.mark.parametrize("secret", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_***not-base64***", "whsec_"])
def test_it_refuses_a_standard_secret_that_is_not_whsec_base64(secret: str) -> None:
    with pytest.raises(CommandError, match="whsec_"):
        run("--kind", "standard", "--slug", "hub", "--secret", secret)
    assert ForumSource.objects.count() == 0


def test_it_accepts_a_standard_secret_and_several_for_rotation() -> None:
    run("--kind", "standard", "--slug", "hub", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--secret", "whsec_c2Vjb25k")
    assert len(ForumSource.objects.get().secrets) == 2


def test_it_creates_an_import_source_without_secrets() -> None:
    output = run("--kind", "import", "--slug", "old-board", "--name", "Old board")
    assert ForumSource.objects.get().kind == "import"
    assert "secrets: none" in output


def test_it_refuses_an_invalid_slug_or_instance_url_with_the_field_named() -> None:
    with pytest.raises(CommandError, match="instance_url"):
        run("--kind", "discourse", "--slug", "glow", "--instance", "not a url")
    with pytest.raises(CommandError, match="slug"):
        run("--kind", "discourse", "--slug", "no spaces allowed")
    assert ForumSource.objects.count() == 0


def test_it_refuses_an_unknown_kind() -> None:
    with pytest.raises(CommandError):
        run("--kind", "nodebb", "--slug", "x")
