"""Screen the sample thread's opener with the real detector and find it in the queue."""
from pathlib import Path

import pytest

from forum_helper.moderation.models import QueueItem
from forum_helper.screening.services import post_version_screen
from tests.moderation.factories import PostFactory, version_add

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "threads" / "sample-thread.txt"


def _opener_text() -> str:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("« on:")) + 1
    # The next post's author box ("  • Administrator") starts right after the opener's body.
    end = next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith("•"))
    return "\n".join(lines[start:end]).strip()


@pytest.mark.django_db
def test_the_sample_opener_screens_into_a_high_severity_queue_item():
    post = PostFactory(author_name="Fara", position=1, thread__title="Post fractional CO2 laser hypopigmentation")
    version = version_add(post, _opener_text())
    finding = post_version_screen(post_version_id=version.pk)
    assert finding is not None and finding.risky
    item = QueueItem.objects.get(post=post)
    assert (item.finding_id, item.severity, item.lane, item.status) == (finding.pk, "high", "risk", "open")
    assert "cell_transfer" in item.categories
