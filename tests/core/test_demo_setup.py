"""demo_setup: demo users with fresh printed passwords, the sample thread imported and screened, twice."""
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from forum_helper.core.management.commands.demo_setup import demo_thread_path
from forum_helper.core.roles import is_admin, is_moderator
from forum_helper.intake.models import Delivery, ForumSource, Post, PostVersion, Thread
from forum_helper.screening.models import Finding

PASSWORD_LINE = re.compile(r"^demo (moderator|admin):\s+(demo-moderator|demo-admin) / (\S+)$", re.MULTILINE)


def demo_setup() -> tuple[str, dict[str, str]]:
    out = StringIO()
    call_command("demo_setup", stdout=out)
    output = out.getvalue()
    return output, {username: password for _, username, password in PASSWORD_LINE.findall(output)}


@pytest.mark.django_db
def test_demo_setup_creates_users_source_and_the_screened_sample_thread() -> None:
    output, passwords = demo_setup()

    users = {user.username: user for user in get_user_model().objects.all()}
    assert set(users) == {"demo-moderator", "demo-admin"}
    moderator, admin = users["demo-moderator"], users["demo-admin"]
    assert list(moderator.groups.values_list("name", flat=True)) == ["moderators"]
    assert list(admin.groups.values_list("name", flat=True)) == ["admins"]
    assert (moderator.is_staff, moderator.is_superuser) == (False, False)
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert is_moderator(moderator) and not is_admin(moderator) and is_admin(admin)
    assert moderator.check_password(passwords["demo-moderator"])
    assert admin.check_password(passwords["demo-admin"])

    assert ForumSource.objects.get().slug == "demo-forum"
    assert ForumSource.objects.get().kind == ForumSource.Kind.IMPORT
    assert Thread.objects.get().title == "Post fractional CO2 laser hypopigmentation"
    assert Post.objects.count() == 4
    # Every latest version was screened in this process.
    assert Finding.objects.values("post_version").distinct().count() == 4
    flagged = Finding.objects.filter(risky=True).values("post_version").distinct().count()
    assert f"screened 4 demo posts: {flagged} flagged for moderators" in output
    assert output.rstrip().endswith("http://127.0.0.1:8000/")


@pytest.mark.django_db
def test_demo_setup_prints_the_address_it_is_served_on() -> None:
    out = StringIO()
    call_command("demo_setup", url="http://127.0.0.1:8765/", stdout=out)
    assert out.getvalue().rstrip().endswith("open http://127.0.0.1:8765/")


@pytest.mark.django_db
def test_a_second_run_changes_nothing_but_the_passwords() -> None:
    _, first = demo_setup()
    users_before = list(get_user_model().objects.order_by("pk").values_list("pk", "username", "is_staff", "is_superuser"))
    findings_before = list(Finding.objects.order_by("pk").values_list("pk", "post_version_id", "risky"))

    output, second = demo_setup()

    assert set(second) == {"demo-moderator", "demo-admin"}
    assert first["demo-moderator"] != second["demo-moderator"]
    assert first["demo-admin"] != second["demo-admin"]
    user_model = get_user_model()
    assert user_model.objects.get(username="demo-moderator").check_password(second["demo-moderator"])
    assert not user_model.objects.get(username="demo-moderator").check_password(first["demo-moderator"])
    assert list(user_model.objects.order_by("pk").values_list("pk", "username", "is_staff", "is_superuser")) == users_before
    assert ForumSource.objects.count() == 1
    assert Post.objects.count() == 4
    assert PostVersion.objects.count() == 4
    assert list(Finding.objects.order_by("pk").values_list("pk", "post_version_id", "risky")) == findings_before
    assert "4 posts (0 new, 4 unchanged)" in output
    assert list(Delivery.objects.order_by("pk").values_list("outcome", flat=True)) == ["accepted", "duplicate"]


def test_the_demo_thread_is_the_shared_seed_or_the_fixture_copy() -> None:
    path = demo_thread_path()

    assert path.name == "sample-thread.txt"
    assert path.is_file()
