import ast
from pathlib import Path

import pytest

from forum_helper.library import parsing
from forum_helper.library.parsing import extract_dois, make_excerpt, parse_article, search_terms

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "library"
SEEDS = sorted(FIXTURES.glob("reference-*.txt"))
ADVERTISING = ("Related Products", "People Also Ask", "Contact us", "Contact our", "Elevate Your Clinic", "BELIS", "Ready to upgrade", "Leave a Comment", "Your email address")


def test_there_are_four_seed_articles() -> None:
    assert len(SEEDS) == 4


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_passages_of_a_seed_leave_the_advertising_out(seed: Path) -> None:
    article = parse_article(seed.read_text(encoding="utf-8"))
    assert len(article.passages) >= 10
    for passage in article.passages:
        for phrase in ADVERTISING:
            assert phrase not in passage.text and phrase not in passage.heading, (phrase, passage)


@pytest.mark.parametrize(
    "seed_name,doi",
    [
        ("reference-co2-laser-vitiligo.txt", "10.3389/fimmu.2023.1294919"),
        ("reference-co2-laser-prp.txt", "10.5812/jssc-124222"),
        ("reference-co2-laser-atrophic-scars.txt", "10.1111/jocd.13798"),
    ],
)
def test_the_reference_list_and_its_doi_become_citations(seed_name: str, doi: str) -> None:
    article = parse_article((FIXTURES / seed_name).read_text(encoding="utf-8"))
    assert article.dois == (doi,)
    assert any(c.doi == doi and "DOI" in c.text for c in article.citations)
    assert not any(doi in p.text for p in article.passages)


def test_short_title_case_lines_become_headings_of_the_following_paragraphs() -> None:
    article = parse_article((FIXTURES / "reference-co2-laser-prp.txt").read_text(encoding="utf-8"))
    koebner = [p for p in article.passages if p.heading == "The Koebner Phenomenon Risks"]
    assert len(koebner) == 1
    assert koebner[0].text.startswith("In vitiligo patients, skin trauma can sometimes trigger new lesions")


def test_the_first_line_of_an_article_is_its_title_when_it_reads_as_one() -> None:
    article = parse_article((FIXTURES / "reference-microneedling-pih.txt").read_text(encoding="utf-8"))
    assert article.title == "Can DrPen microneedling help with post-inflammatory hyperpigmentation"
    assert article.citations == ()


def test_hard_wrapped_paragraphs_are_joined_and_list_items_stay_apart() -> None:
    text = (
        "Why Needles Matter\n\nNeedles open the skin and the\nchannels let drugs in.\n\n"
        "- first point\n- second point\n\nReferences\n- A. Author. A paper. doi:10.1000/xyz123.\n"
    )
    article = parse_article(text)
    assert article.passages[0].heading == "Why Needles Matter"
    assert article.passages[0].text == "Needles open the skin and the channels let drugs in.\n- first point\n- second point"
    assert article.dois == ("10.1000/xyz123",)


def test_a_doi_in_the_body_without_a_reference_list_is_still_a_citation() -> None:
    article = parse_article("Heading Here\nSee the trial (https://doi.org/10.1234/abc.5) for details.\n")
    assert article.dois == ("10.1234/abc.5",)


def test_extract_dois_strips_trailing_punctuation_and_duplicates() -> None:
    assert extract_dois("DOI: 10.1111/jocd.13798. and (10.1111/jocd.13798), 10.5812/jssc-124222;") == [
        "10.1111/jocd.13798",
        "10.5812/jssc-124222",
    ]


def test_an_excerpt_is_at_most_300_characters_and_centres_on_the_matching_sentence() -> None:
    text = "First sentence about nothing much at all. " * 6 + "The micro-pores enhance the penetration of ultraviolet (UV) radiation. " + "Filler text here. " * 10
    excerpt = make_excerpt(text, ["ultraviolet", "UV"])
    assert len(excerpt) <= 300
    assert "penetration of ultraviolet (UV) radiation" in excerpt


def test_search_terms_start_with_the_category_keywords_and_add_evidence_words() -> None:
    terms = search_terms("uv_combination", ["my NB-UVB lamp right after stamping"])
    assert terms[:3] == ["ultraviolet", "UV", "phototherapy"]
    assert {"UVB", "lamp", "stamping"} <= set(terms)
    assert "my" not in terms and "after" not in terms


def test_the_parser_imports_no_django() -> None:
    tree = ast.parse(Path(parsing.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.startswith("django") for name in imported)
