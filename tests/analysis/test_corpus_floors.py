"""Floors on the labelled corpora: a rule change may not silently cost detection quality.

The floors sit 0.03 below the figures measured when they were set (dev F1 1.000 / P 1.000,
holdout F1 0.986 / P 0.971, holdout2 F1 0.993 / P 1.000, holdout3 F1 0.975 / P 0.951 — all
tuned on by now — and holdout4 F1 0.982 / P 0.976), so small trade-offs pass and real
regressions fail. holdout4 was measured blind once at F1 0.911 / P 0.947; it has been tuned
on since, so its figure is no longer an honest estimate for unseen posts. holdout5 was
measured blind at F1 0.855 / P 0.883 and is tuned on now (F1 0.994 / P 0.988 when its floor
was set); like holdout4, it no longer estimates unseen posts. holdout6 was measured blind at
F1 0.890 / P 0.865 and has been tuned on since (F1 1.000 / P 1.000 when its floor was set).
holdout7 was measured blind at F1 0.879 / P 0.896 (R 0.863, stance accuracy 0.775) and has been
tuned on since (F1 1.000 / P 1.000, stance accuracy 0.895 when its floor was set); like the
others, it no longer estimates unseen posts. holdout8 was measured blind at P 0.929 / R 0.867 /
F1 0.897 (stance accuracy 0.815) and holdout9 (unusual voices: diaries, one-liners, salon
workers, parents, translated instructions, non-native English) blind at P 0.880 / R 0.802 /
F1 0.839 (stance accuracy 0.710); both have been tuned on since (holdout8 F1 0.966 / P 0.988,
holdout9 F1 0.929 / P 1.000 when their floors were set) and no longer estimate unseen posts.
holdout10 (support groups, Q&A, product reviews, pro forums, chat exports, non-native English)
was measured blind at P 0.878 / R 0.783 / F1 0.828 (stance accuracy 0.720) and holdout11 (a
realistic daily feed) blind at P 0.938 / R 0.884 / F1 0.910 (stance accuracy 0.755); both have
been tuned on since (holdout10 F1 0.921 / P 0.927, holdout11 F1 0.964 / P 0.957 when their
floors were set) and no longer estimate unseen posts.
holdout12 (a realistic month of a forum: slang device names, misspellings, numbers written many
ways) was measured blind at P 0.915 / R 0.833 / F1 0.872 (stance accuracy 0.805) and holdout13
(whole threads where risk comes and goes, plus tricky-stance standalone posts) blind at
P 0.835 / R 0.877 / F1 0.855 (stance accuracy 0.680); both have been tuned on since (holdout12
F1 0.899 / P 0.944, holdout13 F1 0.862 / P 0.837 when their floors were set) and no longer
estimate unseen posts.
holdout14 was measured blind at P 0.899 / R 0.845 / F1 0.871 (stance accuracy 0.785) and holdout15
(non-US forums) blind at P 0.959 / R 0.845 / F1 0.899 (stance accuracy 0.730); both have been
tuned on since (holdout14 F1 0.871 / P 0.899, holdout15 F1 0.913 / P 0.961 when their floors
were set) and no longer estimate unseen posts.
holdout16 (a year of a general community) and holdout17 (vitiligo/psoriasis, acne-scar and
melasma communities) were measured once, untouched, on the rules of the time: holdout16
P 0.932 / R 0.863 / F1 0.896 (stance 0.805), holdout17 P 0.971 / R 0.850 / F1 0.907 (stance
0.795); together P 0.951 / R 0.856 / F1 0.901. Both have been tuned on since (tuning round 6:
holdout16 F1 0.988 / P 0.988, holdout17 F1 1.000 / P 1.000 when their floors were set) and no
longer estimate unseen posts; the blind figures above are the last honest estimate until the
next blind corpora are measured. In the same round the floors of holdout8-10 and holdout12-14
were raised to 0.03 below their figures then (holdout8 F1 0.978 / P 0.989, holdout9 F1 0.942 /
P 1.000, holdout10 F1 0.928 / P 0.928, holdout12 F1 0.920 / P 0.958, holdout13 F1 0.906 /
P 0.865, holdout14 F1 0.917 / P 0.917).
holdout18 (unseen forum styles: Q&A, phpBB, Facebook, trade/salon forums, beard and hair-loss
forums, tattoo) and holdout19 (whole threads, long multi-paragraph posts, diaries, reviews,
buried risky lines) were measured once, untouched, on the rules of the time: holdout18
P 0.924 / R 0.793 / F1 0.854, holdout19 P 0.825 / R 0.870 / F1 0.847. They have been tuned on
since in round 7 (holdout18 F1 0.934 / P 0.944, holdout19 F1 0.884 / P 0.899 when their floors
were set, 0.03 below those figures) and no longer estimate unseen posts.
holdout20 (a realistic week of a mixed skincare forum) and holdout21 (hard cases: clinic vs
home, plans vs regrets, sarcasm, quoted plans, buried lines) were written last and measured
once, untouched, on the final rules of round 7: holdout20 P 0.892 / R 0.825 / F1 0.857 (stance
0.770), holdout21 P 0.831 / R 0.802 / F1 0.817 (stance 0.660); together P 0.860 / R 0.813 /
F1 0.836. They were the honest estimate for unseen posts until tuning round 8 tuned on both
(holdout20 F1 0.968 / P 1.000, holdout21 F1 0.976 / P 1.000 when their floors were set, 0.03
below those figures and capped at 0.97); the blind figures above stay the last honest estimate
until the next blind corpora are measured.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forum_helper.analysis import CompiledRuleset
from forum_helper.analysis.evaluation import evaluate

CORPUS = Path(__file__).resolve().parent.parent.parent / "fixtures" / "analysis" / "corpus"
FLOORS = {
    # corpus: (risky F1 floor, risky precision floor)
    "dev.jsonl": (0.97, 0.97),
    "holdout.jsonl": (0.948, 0.941),
    "holdout2.jsonl": (0.963, 0.97),
    "holdout3.jsonl": (0.945, 0.921),
    "holdout4.jsonl": (0.952, 0.946),
    "holdout5.jsonl": (0.964, 0.958),
    "holdout6.jsonl": (0.97, 0.97),
    "holdout7.jsonl": (0.97, 0.97),
    "holdout8.jsonl": (0.948, 0.959),
    "holdout9.jsonl": (0.912, 0.97),
    "holdout10.jsonl": (0.898, 0.898),
    "holdout11.jsonl": (0.934, 0.927),
    "holdout12.jsonl": (0.89, 0.928),
    "holdout13.jsonl": (0.876, 0.835),
    "holdout14.jsonl": (0.887, 0.887),
    "holdout15.jsonl": (0.883, 0.931),
    "holdout16.jsonl": (0.958, 0.958),
    "holdout17.jsonl": (0.97, 0.97),
    "holdout18.jsonl": (0.904, 0.914),
    "holdout19.jsonl": (0.854, 0.869),
    "holdout20.jsonl": (0.938, 0.97),
    "holdout21.jsonl": (0.946, 0.97),
    "holdout22.jsonl": (0.928, 0.958),
    "holdout23.jsonl": (0.912, 0.97),
    "holdout24.jsonl": (0.953, 0.97),
    "holdout25.jsonl": (0.928, 0.97),
    "holdout26.jsonl": (0.922, 0.945),
    "holdout28.jsonl": (0.94, 0.97),
    "holdout29.jsonl": (0.914, 0.97),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_the_detector_keeps_its_corpus_floor(name: str, ruleset: CompiledRuleset) -> None:
    records = [json.loads(line) for line in (CORPUS / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    report = evaluate(records, ruleset)
    f1_floor, precision_floor = FLOORS[name]
    assert report.risky.f1 >= f1_floor, f"{name}: risky F1 {report.risky.f1:.3f} < {f1_floor}"
    assert report.risky.precision >= precision_floor, f"{name}: risky precision {report.risky.precision:.3f} < {precision_floor}"
