"""import_thread with SMF-style printed topics: the sample thread, re-imports, bad files, a variant."""
from datetime import datetime, timezone
from io import StringIO
from pathlib import Path

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from forum_helper.intake.importers import ThreadParseError
from forum_helper.intake.importers.smf import parse_smf_thread
from forum_helper.intake.models import Delivery, ForumSource, Post, PostVersion, Thread
from forum_helper.screening.models import Finding

THREADS = Path(__file__).resolve().parents[2] / "fixtures" / "threads"
SAMPLE = THREADS / "sample-thread.txt"
VARIANT = THREADS / "variant-thread.txt"
BAD = THREADS / "bad"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def import_thread(path: Path, source: str = "skin-forum", **options) -> str:
    out = StringIO()
    call_command("import_thread", str(path), source=source, stdout=out, **options)
    return out.getvalue()


def posts_by_position() -> dict[int, Post]:
    return {post.position: post for post in Post.objects.select_related("thread")}


def text_of(post: Post) -> str:
    return post.versions.get(version=post.current_version).raw_text


@pytest.mark.django_db
class TestSampleThread:
    def test_the_sample_imports_as_exactly_four_posts_in_one_thread(self) -> None:
        output = import_thread(SAMPLE)

        assert Thread.objects.count() == 1
        assert Thread.objects.get().title == "Post fractional CO2 laser hypopigmentation"
        assert Post.objects.count() == 4
        assert PostVersion.objects.count() == 4
        assert sorted(posts_by_position()) == [1, 2, 3, 4]
        assert "4 posts: 4 created, 0 new versions, 0 unchanged" in output
        assert output.count("-> created (v1)") == 4

    def test_roles_follow_the_member_group_of_each_author_block(self) -> None:
        import_thread(SAMPLE)

        posts = posts_by_position()
        assert [posts[n].author_role for n in (1, 2, 3, 4)] == ["member", "staff", "member", "staff"]
        assert [posts[n].author_title for n in (1, 2, 3, 4)] == ["", "Medical journalist", "", "Medical journalist"]

    def test_dates_are_aware_utc_and_reply_numbers_become_positions(self) -> None:
        import_thread(SAMPLE)

        posts = posts_by_position()
        assert posts[1].created_at == utc(2013, 4, 8, 18, 35, 55)
        assert posts[2].created_at == utc(2013, 4, 10, 7, 33, 35)
        assert posts[3].created_at == utc(2013, 4, 10, 14, 10, 27)
        # "« Reply #3 on: April 11, 2013, 05:20:09 PM »"
        assert posts[4].created_at == utc(2013, 4, 11, 17, 20, 9)
        assert [posts[n].reply_to_position for n in (1, 2, 3, 4)] == [None, 1, 1, 1]
        assert posts[2].parent == posts[1]
        assert Thread.objects.get().created_at == utc(2013, 4, 8, 18, 35, 55)

    def test_last_edit_sets_edited_at_of_reply_one_only(self) -> None:
        import_thread(SAMPLE)

        posts = posts_by_position()
        assert posts[2].edited_at == utc(2013, 4, 10, 15, 32, 8)
        assert [posts[n].edited_at for n in (1, 3, 4)] == [None, None, None]

    def test_authors_of_the_same_header_block_share_one_name_and_id(self) -> None:
        import_thread(SAMPLE)

        posts = posts_by_position()
        # The print has no names: the administrator signed her edit, the member never did.
        assert posts[2].author_name == posts[4].author_name == "SarahVaughter"
        assert posts[1].author_name == posts[3].author_name == "Forum member (2 posts)"
        assert posts[1].author_external_id == posts[3].author_external_id != posts[2].author_external_id
        assert posts[2].author_external_id == posts[4].author_external_id

    def test_bodies_are_the_exact_text_between_date_line_and_next_block(self) -> None:
        import_thread(SAMPLE)

        posts = posts_by_position()
        opener = text_of(posts[1])
        assert opener.startswith("Dear Sarah,\n\nI have type IV (Asian), combination skin.")
        assert "Since then, I\u2019ve presented with persistent redness" in opener
        assert "1. Single needling with (x) needle at the hypopigmented edges" in opener
        assert opener.endswith("9. Repeat the above needling every (x) days.\n\nYours faithfully,")

        reply_one = text_of(posts[2])
        assert reply_one.startswith("We sometimes get emails stating that laser- or IPL treatment")
        assert "or even scars.\u00a0 It doesn\u2019t happen very often" in reply_one  # the no-break space stays
        assert reply_one.endswith("I will post another reply later concerning suggested treatment.")
        assert "Last Edit" not in reply_one

        assert text_of(posts[3]).startswith("Thank you for your response.\n\n")
        assert text_of(posts[3]).endswith("look forward to receiving your recommendations.\n\nBest wishes,")

        last = text_of(posts[4])
        assert last.startswith("Oh I see, I am sorry, I did not know that tacrolimus")
        # The file ends mid-thought, without a newline: the cut-off sentence is kept as it is.
        assert last.endswith("discussed here but I cannot attest to their efficacy:")

    def test_post_ids_are_stable_thread_hash_and_position(self) -> None:
        import_thread(SAMPLE)

        thread = Thread.objects.get()
        assert thread.external_id.startswith("smf-")
        assert sorted(Post.objects.values_list("external_id", flat=True)) == [f"{thread.external_id}-{n}" for n in (1, 2, 3, 4)]

    def test_reimporting_the_same_file_changes_nothing(self) -> None:
        import_thread(SAMPLE)
        before = list(PostVersion.objects.order_by("pk").values_list("pk", "post_id", "version", "raw_text"))

        output = import_thread(SAMPLE)

        assert list(PostVersion.objects.order_by("pk").values_list("pk", "post_id", "version", "raw_text")) == before
        assert Post.objects.count() == 4 and Thread.objects.count() == 1
        assert "4 posts: 0 created, 0 new versions, 4 unchanged" in output
        assert list(Delivery.objects.order_by("pk").values_list("endpoint", "outcome")) == [
            ("import", "accepted"),
            ("import", "duplicate"),
        ]

    def test_each_post_is_screened_after_commit_and_a_reimport_screens_nothing(self, django_capture_on_commit_callbacks) -> None:
        with django_capture_on_commit_callbacks(execute=True) as first:
            import_thread(SAMPLE)
        findings = list(Finding.objects.order_by("pk").values_list("pk", "post_version__post__position", "risky"))

        with django_capture_on_commit_callbacks(execute=True) as second:
            import_thread(SAMPLE)

        assert len(first) == 4
        assert sorted(position for _, position, _ in findings) == [1, 2, 3, 4]
        assert second == []
        assert list(Finding.objects.order_by("pk").values_list("pk", "post_version__post__position", "risky")) == findings

    def test_a_changed_post_text_becomes_the_next_version_of_that_post_only(self, tmp_path: Path) -> None:
        import_thread(SAMPLE)
        edited = tmp_path / "sample-edited.txt"
        edited.write_text(SAMPLE.read_text(encoding="utf-8").replace("Best wishes,", "Kind regards,"), encoding="utf-8")

        output = import_thread(edited)

        assert "4 posts: 0 created, 1 new versions, 3 unchanged" in output
        post = posts_by_position()[3]
        assert post.current_version == 2
        assert text_of(post).endswith("Kind regards,")
        assert PostVersion.objects.count() == 5

    def test_the_same_thread_in_another_source_is_a_separate_thread(self) -> None:
        import_thread(SAMPLE, source="forum-a")
        import_thread(SAMPLE, source="forum-b")

        assert Thread.objects.count() == 2
        assert Post.objects.count() == 8

    def test_an_unknown_source_is_created_as_import_only(self) -> None:
        output = import_thread(SAMPLE, source="new-board")

        source = ForumSource.objects.get(slug="new-board")
        assert source.kind == ForumSource.Kind.IMPORT
        assert source.secrets == []
        assert "created import-only source 'new-board'" in output
        assert set(Post.objects.values_list("source__slug", flat=True)) == {"new-board"}

    def test_an_existing_source_keeps_its_kind(self) -> None:
        ForumSource.objects.create(slug="discourse-forum", kind=ForumSource.Kind.DISCOURSE, secrets=["s3cret-value"])

        output = import_thread(SAMPLE, source="discourse-forum")

        assert ForumSource.objects.get().kind == ForumSource.Kind.DISCOURSE
        assert "created import-only source" not in output
        assert Post.objects.count() == 4

    def test_windows_line_endings_and_a_byte_order_mark_import_the_same_posts(self, tmp_path: Path) -> None:
        crlf = tmp_path / "sample-crlf.txt"
        crlf.write_bytes(b"\xef\xbb\xbf" + SAMPLE.read_bytes().replace(b"\n", b"\r\n"))

        import_thread(SAMPLE)
        output = import_thread(crlf)

        assert "4 posts: 0 created, 0 new versions, 4 unchanged" in output


BAD_FILES = [
    ("empty.txt", "line 1: the file is empty"),
    ("no-posts.txt", "line 5: no posts found"),
    ("header-without-date.txt", "line 16: the author block at line 12 is not followed by a post title and a date line"),
    ("unparseable-date.txt", "line 8: cannot read the date 'Smarch 41, 2013, 06:35:55 PM'"),
    ("not-utf8.txt", "line 8: not UTF-8 text (byte 0x92 at column 2)"),
    ("duplicate-reply.txt", "line 20: a second 'Reply #1': the first one is the post at line 12"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "message"), BAD_FILES, ids=[name for name, _ in BAD_FILES])
def test_a_bad_file_fails_naming_the_line_and_imports_nothing(name: str, message: str) -> None:
    with pytest.raises(CommandError) as raised:
        import_thread(BAD / name, source="never-created", format="smf")

    assert message in str(raised.value)
    assert str(BAD / name) in str(raised.value)
    assert not ForumSource.objects.exists()
    assert not Thread.objects.exists()
    assert not Post.objects.exists()
    assert not PostVersion.objects.exists()
    rejected = Delivery.objects.get()
    assert (rejected.outcome, rejected.source, rejected.source_slug) == ("rejected", None, "never-created")
    assert message in rejected.error


@pytest.mark.django_db
def test_a_bad_file_leaves_an_earlier_import_of_the_source_untouched() -> None:
    import_thread(SAMPLE)

    with pytest.raises(CommandError):
        import_thread(BAD / "header-without-date.txt")

    assert Post.objects.count() == 4
    assert PostVersion.objects.count() == 4


@pytest.mark.django_db
def test_a_missing_file_and_an_invalid_source_slug_fail_without_writing_posts(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        import_thread(tmp_path / "nope.txt")
    with pytest.raises(CommandError, match="invalid source slug 'not a slug'"):
        import_thread(SAMPLE, source="not a slug")

    assert not ForumSource.objects.exists()
    assert not Post.objects.exists()


class TestVariantThread:
    """A hand-written print: other member groups, quotes, a moderator's edits, list bullets in a body."""

    def parse(self):
        return parse_smf_thread(VARIANT.read_text(encoding="utf-8"))

    def test_it_parses_four_posts_with_roles_from_their_member_groups(self) -> None:
        thread = self.parse()

        assert thread.title == "Home TCA peel for melasma?"
        assert [post.position for post in thread.posts] == [1, 2, 3, 4]
        assert [post.author.group for post in thread.posts] == ["Jr. Member", "Global Moderator", "Newbie", "Hero Member"]
        assert [post.author.role for post in thread.posts] == ["member", "staff", "member", "member"]
        assert [post.author.title for post in thread.posts] == ["", "Skin therapist", "", ""]

    def test_quoted_names_name_authors_and_an_editor_of_several_authors_names_none(self) -> None:
        names = [post.author.name for post in self.parse().posts]

        assert names == ["glowgirl", "Global Moderator, Skin therapist (4120 posts)", "dana", "Hero Member (1203 posts)"]

    def test_a_quote_of_an_earlier_post_makes_it_the_parent(self) -> None:
        # Reply #3 quotes "dana on March 03, 2014, 12:01:59 AM", which is Reply #2 (position 3).
        assert [post.reply_to_position for post in self.parse().posts] == [None, 1, 1, 3]

    def test_dates_edits_and_bodies(self) -> None:
        opener, moderator, newbie, hero = self.parse().posts

        assert opener.created_at == utc(2014, 3, 2, 9, 5, 0)
        assert opener.edited_at == utc(2014, 3, 2, 9, 12, 44)
        assert newbie.created_at == utc(2014, 3, 3, 0, 1, 59)  # 12:01:59 AM
        assert newbie.edited_at is None
        assert hero.created_at == utc(2014, 3, 3, 20, 30, 0)
        assert (moderator.edited_by, hero.edited_by) == ("skinmod", "skinmod")
        assert moderator.text.startswith("Quote from: glowgirl on March 02, 2014, 09:05:00 AM\nI bought 35% TCA")
        # Leading spaces and bullet lines inside a body are text, not an author block.
        assert newbie.text == (
            "   I did a 15% peel last year and this is what happened:\n"
            "  \u2022 it stung for ten minutes\n"
            "  \u2022 it peeled for a week\n\n"
            "No lasting marks, but my skin is light."
        )
        assert hero.text.endswith("Ask a dermatologist about a patch test first.")

    @pytest.mark.django_db
    def test_it_imports_through_the_command(self) -> None:
        output = import_thread(VARIANT, source="variant-board")

        posts = posts_by_position()
        assert [posts[n].author_name for n in (1, 3)] == ["glowgirl", "dana"]
        assert posts[4].parent == posts[3]
        assert posts[2].author_role == "staff"
        assert "4 posts: 4 created" in output


def test_a_print_without_a_topic_line_takes_the_title_of_the_opener() -> None:
    text = VARIANT.read_text(encoding="utf-8").replace("Author Topic: Home TCA peel for melasma?  (Read 312 times)\n", "")

    assert parse_smf_thread(text).title == "Home TCA peel for melasma?"


def test_parse_errors_carry_the_line_number() -> None:
    with pytest.raises(ThreadParseError) as raised:
        parse_smf_thread((BAD / "unparseable-date.txt").read_text(encoding="utf-8"))

    assert raised.value.line == 8


def test_a_list_at_the_end_of_a_body_stays_in_the_body_before_the_next_author_block() -> None:
    text = SAMPLE.read_text(encoding="utf-8").replace(
        "Best wishes,\n\n\n", "Best wishes,\n  \u2022 a list item\n  \u2022 another one\n"
    )

    posts = parse_smf_thread(text).posts

    assert len(posts) == 4
    assert posts[2].text.endswith("Best wishes,\n  \u2022 a list item\n  \u2022 another one")
    assert (posts[3].author.group, posts[3].author.role) == ("Administrator", "staff")


def test_a_print_with_a_guest_author_block_without_post_count() -> None:
    text = (
        "Author Topic: Guest question  (Read 1 times)\n\n\n"
        "  \u2022 Guest\n"
        "Guest question\n"
        "\u00ab on: January 05, 2015, 11:00 AM \u00bb\n"
        "Is it safe?\n"
    )

    (post,) = parse_smf_thread(text).posts

    assert (post.author.name, post.author.role, post.text) == ("Guest", "member", "Is it safe?")
    assert post.created_at == utc(2015, 1, 5, 11, 0, 0)


SMF_PIECES = st.sampled_from([
    "  \u2022 Forum member", "  \u2022 *", "  \u2022 Posts: 2", "  \u2022 Administrator", "Re: title",
    "\u00ab on: April 08, 2013, 06:35:55 PM \u00bb", "\u00ab Reply #1 on: April 10, 2013, 07:33:35 AM \u00bb",
    "\u00ab Last Edit: April 10, 2013, 03:32:08 PM by X \u00bb", "\u00ab on: Smarch 1, 2013, 1:00 PM \u00bb",
    "Author Topic: t  (Read 1 times)", "", "text", "Quote from: a on April 08, 2013, 06:35:55 PM",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(SMF_PIECES, st.text(max_size=20)), max_size=30))
def test_any_text_either_parses_or_raises_a_thread_parse_error(pieces: list[str]) -> None:
    try:
        thread = parse_smf_thread("\n".join(pieces))
    except ThreadParseError as error:
        assert error.line is not None and error.line >= 1
    else:
        assert thread.posts
        assert len({post.position for post in thread.posts}) == len(thread.posts)


def test_the_parsers_import_no_django() -> None:
    code = (
        "import sys, forum_helper.intake.importers.smf, forum_helper.intake.importers.json_thread; "
        "sys.exit(1 if any(name.split('.')[0] == 'django' for name in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2]).returncode == 0
