"""Benchmark: full analyze() throughput vs a bare RE2 Set scan of the same patterns.

    python bench/bench_analysis.py [--posts N] [--seed S]

Generates a deterministic corpus of ~2 KB posts mixing benign and risky sentences, then
prints one line per figure: full analysis posts/s (one core), bare scan posts/s (RE2 Set
match + spans for each matched pattern, no interpretation) and their ratio.

Rates are measured in CPU time of this process (time.process_time), so they state what one
core does even when the machine is shared; wall-clock rates are printed alongside.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forum_helper.analysis import CompiledRuleset, PostContext, PostInput, analyze, compile_ruleset  # noqa: E402
from forum_helper.analysis import load_ruleset_document  # noqa: E402
from forum_helper.analysis.learned import load_learned_model  # noqa: E402

BENIGN_SENTENCES = (
    "My cheeks get really dry every winter so I switched to a thicker moisturiser.",
    "Does anyone know a sunscreen that does not pill under makeup?",
    "I double cleanse at night with an oil cleanser and a gentle gel cleanser.",
    "Niacinamide at 5% helped my redness a little but not as much as I hoped.",
    "The dermatologist said my skin barrier looked fine and to keep it simple.",
    "Thanks everyone for the replies, this forum has been super helpful!",
    "Azelaic acid on alternate nights made my texture smoother over three months.",
    "I drink more water now and changed my pillowcase, not sure it matters.",
    "Has anyone tried the new ceramide cream from the drugstore brand?",
    "Honestly the best thing for my skin was sleeping more and stressing less.",
    "Café au lait spots are harmless according to my GP — she said they’re common.",
    "We went hiking last weekend and I wore a hat and reapplied SPF every two hours.",
)
RISKY_SENTENCES = (
    "I've been rolling my cheeks with a 1.5mm dermaroller every week for two months.",
    "Should I put tretinoin on right after the derma stamp so it absorbs better?",
    "You should get a 1 mm Dr.Pen and do it every 2 weeks, then minoxidil straight away.",
    "I stamp my vitiligo patches daily and then sit in the sun for 20 min.",
    "Gonna do a 35% TCA cross on my icepicks at home tonight, any tips?",
    "I'm on Accutane month 3 and want to start microneedling now.",
    "Wrap it in cling film overnight after stamping so it takes better.",
    "I've used the same roller for a year and never sterilise it.",
)
WARNING_SENTENCES = (
    "Please don't needle at home, see a dermatologist instead.",
    "Never roll over active acne, you spread the infection.",
    "My dermatologist performed fractional CO2 and I have strictly avoided sun exposure since.",
    "> I want to roll 2mm every week\nThat is a bad idea, you risk scarring.",
)


def generate_posts(count: int, seed: int, target_bytes: int = 2048) -> list[str]:
    rng = random.Random(seed)
    posts: list[str] = []
    for index in range(count):
        pieces: list[str] = []
        size = 0
        risky = index % 3 == 0  # about a third of posts carry risky sentences
        while size < target_bytes:
            roll = rng.random()
            if risky and roll < 0.15:
                sentence = rng.choice(RISKY_SENTENCES)
            elif roll < 0.22:
                sentence = rng.choice(WARNING_SENTENCES)
            else:
                sentence = rng.choice(BENIGN_SENTENCES)
            pieces.append(sentence)
            size += len(sentence.encode("utf-8")) + 1
            if rng.random() < 0.2:
                pieces.append("\n")
        posts.append(" ".join(pieces))
    return posts


Rates = tuple[float, float]  # (posts per CPU second, posts per wall-clock second)


def bench_full(posts: list[str], ruleset: CompiledRuleset) -> Rates:
    context = PostContext()
    cpu, wall = time.process_time(), time.perf_counter()
    for text in posts:
        analyze(PostInput(text), context, ruleset)
    return len(posts) / (time.process_time() - cpu), len(posts) / (time.perf_counter() - wall)


def bench_bare_scan(posts: list[str], ruleset: CompiledRuleset) -> Rates:
    """RE2 Set match, then spans for every matched pattern: the floor any engine pays."""
    pattern_set = ruleset.pattern_set
    regexes = [matcher.regex for matcher in ruleset.matchers]
    cpu, wall = time.process_time(), time.perf_counter()
    for text in posts:
        data = text.encode("utf-8")
        for index in pattern_set.Match(data) or ():
            for match in regexes[index].finditer(data):
                match.span()
    return len(posts) / (time.process_time() - cpu), len(posts) / (time.perf_counter() - wall)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20130408)
    args = parser.parse_args(argv)

    document = load_ruleset_document()
    ruleset = compile_ruleset(document["rules"], version=document["version"], learned=load_learned_model())
    posts = generate_posts(args.posts, args.seed)
    average_bytes = sum(len(text.encode("utf-8")) for text in posts) / len(posts)
    bench_full(posts[:200], ruleset)  # warm-up

    full, full_wall = bench_full(posts, ruleset)
    bare, bare_wall = bench_bare_scan(posts, ruleset)
    print(f"posts: {len(posts)}, average size: {average_bytes:.0f} bytes, patterns: {len(ruleset.matchers)}")
    print(f"full analyze: {full:,.0f} posts/s (CPU time, one core; wall clock {full_wall:,.0f}/s)")
    print(f"bare RE2 set scan with spans: {bare:,.0f} posts/s (CPU time; wall clock {bare_wall:,.0f}/s)")
    print(f"ratio full/bare: {full / bare:.1%}")


if __name__ == "__main__":
    main()
