from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from forum_helper.library.models import Document
from tests.library.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def test_import_reference_imports_a_file_and_reports_its_dois() -> None:
    out = StringIO()
    call_command(
        "import_reference",
        str(FIXTURES / "reference-co2-laser-prp.txt"),
        "--title", "PRP copy",
        "--url", "https://example.org/library/prp-copy",
        "--publisher", "BELIS",
        stdout=out,
    )
    document = Document.objects.get(source_url="https://example.org/library/prp-copy")
    assert (document.title, document.publisher, document.dois) == ("PRP copy", "BELIS", ["10.5812/jssc-124222"])
    assert "10.5812/jssc-124222" in out.getvalue()


def test_import_reference_twice_keeps_one_document() -> None:
    args = [str(FIXTURES / "reference-co2-laser-prp.txt"), "--title", "T", "--url", "https://example.org/library/prp-copy"]
    call_command("import_reference", *args, stdout=StringIO())
    call_command("import_reference", *args, stdout=StringIO())
    assert Document.objects.filter(source_url="https://example.org/library/prp-copy").count() == 1


def test_import_reference_with_a_missing_file_fails_with_a_message() -> None:
    count = Document.objects.count()
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_reference", "/nonexistent.txt", "--title", "T", "--url", "https://example.org/x", stdout=StringIO())
    assert Document.objects.count() == count
