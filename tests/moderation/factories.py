import factory
from django.utils import timezone

from forum_helper.intake.models import ForumSource, Post, PostVersion, Thread
from forum_helper.screening.models import Finding
from tests.conftest import user_with_role


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ForumSource
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"forum{n}")
    name = factory.LazyAttribute(lambda o: o.slug)
    kind = ForumSource.Kind.STANDARD


class ThreadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Thread

    source = factory.SubFactory(SourceFactory)
    external_id = factory.Sequence(lambda n: f"t{n}")
    title = factory.Sequence(lambda n: f"Thread {n}")


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    thread = factory.SubFactory(ThreadFactory)
    source = factory.LazyAttribute(lambda o: o.thread.source)
    external_id = factory.Sequence(lambda n: f"p{n}")
    author_name = "alice"
    author_external_id = "u-alice"
    position = 1
    created_at = factory.LazyFunction(timezone.now)
    current_version = 0


def version_add(post: Post, text: str) -> PostVersion:
    """Add the next version of a post's text and make it current."""
    post.current_version += 1
    post.save(update_fields=["current_version"])
    return PostVersion.objects.create(post=post, version=post.current_version, raw_text=text, text_sha256="x" * 64)


TEXT = "I will dermaroller 1mm weekly then put my Protopic on right after and use my UVB lamp."


def finding_create(*, post: Post | None = None, text: str = TEXT, severity: str = "high", risky: bool = True,
                   categories: list[str] | None = None, ruleset_version: int = 1, new_version: bool = True,
                   evidence: list[dict] | None = None, rule_ids: list[str] | None = None,
                   references: list[dict] | None = None, **post_kwargs) -> Finding:
    post = post or PostFactory(**post_kwargs)
    version = version_add(post, text) if new_version or post.current_version == 0 else post.latest_version
    categories = ["home_needling", "drug_into_wounds"] if categories is None else categories
    if evidence is None:
        evidence = []
        if "dermaroller" in text:
            start = text.index("dermaroller")
            evidence.append({"start": start, "end": start + len("dermaroller 1mm"), "text": "dermaroller 1mm",
                             "category": "home_needling", "rule": "needling.device"})
        if "Protopic" in text:
            start = text.index("Protopic")
            evidence.append({"start": start, "end": start + 8, "text": "Protopic", "category": "drug_into_wounds",
                             "rule": "drug.calcineurin"})
    rule_ids = ["needling.device", "drug.calcineurin"] if rule_ids is None else rule_ids
    return Finding.objects.create(
        post_version=version, ruleset_version=ruleset_version, risky=risky, severity=severity, stance="planning",
        categories=categories, modifiers=["repeated_plan"], evidence=evidence,
        explanation="home_needling: 1 mm roller planned weekly; drug_into_wounds: Protopic right after needling",
        rule_ids=rule_ids, rule_revisions={rid: 3 for rid in rule_ids}, references=references or [],
    )


user_create = user_with_role
