"""Writes ``reviews.tsv``: the small labelled review corpus shipped with nbexplain.

The reviews are generated deterministically (``random.Random(0)``) from the hand-written phrase
lists below, so the corpus is ours (CC0) and reproducible: rerun
``python -m nbexplain.datasets._make_reviews`` after editing a list and commit the new file.
Most reviews state one sentiment; about one in ten is a harder case (a negation such as
"not bad", or a contrast "X was dull, but Y was superb" whose label follows the last clause).

Example:
    >>> rows = make_reviews(20)
    >>> len(rows), sorted({label for label, _ in rows})
    (20, ['negative', 'positive'])
"""

from __future__ import annotations

import random
from pathlib import Path

OUT = Path(__file__).resolve().parent / "reviews.tsv"

SUBJECTS = [
    "the movie", "this film", "the plot", "the acting", "the soundtrack", "the ending", "the script",
    "the characters", "the dialogue", "the pacing", "the cinematography", "the lead actor",
    "the director's work", "the story", "the cast", "the visual effects", "the second half",
    "the opening scene", "the humour", "the score",
]
NOUNS = ["film", "movie", "story", "thriller", "comedy", "drama", "picture", "documentary", "romance"]
POS_ADJ = [
    "wonderful", "brilliant", "moving", "delightful", "superb", "charming", "gripping", "beautiful",
    "excellent", "great", "clever", "memorable", "touching", "stunning", "fantastic", "lovely",
    "hilarious", "masterful", "engaging", "inspiring", "fresh", "powerful", "heartfelt", "fun",
]
NEG_ADJ = [
    "boring", "dull", "awful", "terrible", "predictable", "clumsy", "tedious", "bland", "forgettable",
    "painful", "weak", "messy", "poor", "lifeless", "annoying", "dreadful", "shallow", "confusing",
    "horrible", "lazy", "pointless", "flat", "disappointing", "silly",
]
INTENSIFIERS = ["", "", "really ", "truly ", "absolutely ", "so ", "very ", "quite ", "incredibly "]
POS_CLAUSES = [
    "I would happily watch it again", "highly recommended", "I loved every minute",
    "a must see", "it made my day", "worth every penny", "I was smiling all the way through",
    "one of the best this year", "I will recommend it to all my friends", "it kept me hooked",
]
NEG_CLAUSES = [
    "I want my money back", "I walked out halfway", "a complete waste of time",
    "I nearly fell asleep", "avoid it", "one of the worst this year", "I regret watching it",
    "it dragged on forever", "I could not wait for it to end", "save your money",
]
NEUTRAL_OPENERS = [
    "", "", "", "Saw it last night. ", "Watched this with my family. ", "Went in with no expectations. ",
    "My sister picked this one. ", "Caught it on a flight. ", "Second time watching. ",
]
# hard cases: (text, label)
NEGATED = [
    ("not bad at all", "positive"), ("not boring for a second", "positive"),
    ("never dull", "positive"), ("not great", "negative"), ("not funny at all", "negative"),
    ("nothing special", "negative"), ("not worth the ticket", "negative"),
    ("I did not expect to like it this much", "positive"),
]


PLURAL = {"the characters", "the visual effects"}


def _be(subj: str, past: bool = True) -> str:
    if subj in PLURAL:
        return "were" if past else "are"
    return "was" if past else "is"


def _a(word: str) -> str:
    """``a`` or ``an`` before ``word``."""
    return "an" if word[:1] in "aeiou" else "a"


def _adj(rng: random.Random, label: str) -> str:
    return rng.choice(POS_ADJ if label == "positive" else NEG_ADJ)


def _clause(rng: random.Random, label: str) -> str:
    return rng.choice(POS_CLAUSES if label == "positive" else NEG_CLAUSES)


def _simple(rng: random.Random, label: str) -> str:
    subj = rng.choice(SUBJECTS)
    kind = rng.randrange(6)
    if kind == 0:
        text = f"{subj.capitalize()} {_be(subj)} {rng.choice(INTENSIFIERS)}{_adj(rng, label)}."
    elif kind == 1:
        a, b = _adj(rng, label), _adj(rng, label)
        text = f"I found {subj} {a} and {b}."
    elif kind == 2:
        adj = _adj(rng, label)
        text = f"What {_a(adj)} {adj} {rng.choice(NOUNS)}!"
    elif kind == 3:
        words = f"{rng.choice(INTENSIFIERS)}{_adj(rng, label)}"
        text = f"{_a(words).capitalize()} {words} {rng.choice(NOUNS)}, {_clause(rng, label)}."
    elif kind == 4:
        text = f"{subj.capitalize()} {_be(subj, past=False)} {_adj(rng, label)}; {_clause(rng, label)}."
    else:
        text = f"{_clause(rng, label).capitalize()}. {subj.capitalize()} felt {_adj(rng, label)}."
    return rng.choice(NEUTRAL_OPENERS) + text


def _hard(rng: random.Random, label: str) -> str:
    if rng.random() < 0.5:
        other = "negative" if label == "positive" else "positive"
        s1, s2 = rng.sample(SUBJECTS, 2)
        return (f"{s1.capitalize()} {_be(s1)} {_adj(rng, other)}, but {s2} {_be(s2)} "
                f"{rng.choice(INTENSIFIERS)}{_adj(rng, label)}.")
    phrase = rng.choice([p for p, lab in NEGATED if lab == label])
    return f"{rng.choice(SUBJECTS).capitalize()}? {phrase.capitalize()}."


def make_reviews(n: int = 800, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` (label, text) rows, half positive, half negative, in a seeded random order.

    Example:
        >>> make_reviews(2, seed=1)[0][0] in ("positive", "negative")
        True
    """
    rng = random.Random(seed)
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(rows) < n:
        label = "positive" if len(rows) % 2 == 0 else "negative"
        text = _hard(rng, label) if rng.random() < 0.1 else _simple(rng, label)
        if text not in seen:
            seen.add(text)
            rows.append((label, text))
    rng.shuffle(rows)
    return rows


def main() -> None:
    rows = make_reviews()
    lines = ["label\ttext"] + [f"{label}\t{text}" for label, text in rows]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} reviews to {OUT}")


if __name__ == "__main__":
    main()
