"""The rule part of the question task: question marks of every script, interrogative openers in
the UMSAB languages and Greek, requests in the imperative, and the rule floor of the card."""

from __future__ import annotations

import numpy as np
import pytest

from askscope.classify import questions

# (post, rule features that must fire; every other feature must stay off). Worked out by hand
# from the patterns in classify/questions.py; the comment says why.
TABLE = [
    # English: a question mark at the end of the last sentence (a link after it is ignored).
    (
        "@AskHamas where did you hear that? https://t.co/x",
        {"question_mark", "ends_with_question", "addressed", "interrogative_opener", "verification"},
    ),
    # No question mark: an interrogative opener after the leading mentions.
    ("@rConflictNews @sahla_sing what happened", {"interrogative_opener", "addressed"}),
    # Auxiliary inversion ("Have they ...") is a question without a mark.
    ("Have they named the pilot", {"interrogative_opener"}),
    # "when"/"where" open a question only before an auxiliary: "When I was young" is not one.
    ("When I was young I loved trains.", set()),
    ("When will the trains run again", {"interrogative_opener"}),
    # "What a ..." is an exclamation, not a question.
    ("What a laughing stock", set()),
    # Imperative requests without a question mark.
    ("Tell us why you raised prices", {"request"}),
    ("explain how this is fair to workers", {"request"}),
    ("Please let us know when it reopens", {"request"}),
    # "can you" is both an inversion and a request.
    ("@user can you fix my order", {"interrogative_opener", "request", "addressed"}),
    # "tell us" inside a statement is not a request ("... for NTSB to tell us").
    ("Lets wait for NTSB to tell us why it happened.", set()),
    # Spanish: opening ¿ counts as a question mark; "cuándo" with its accent is interrogative.
    ("¿Cuándo llega el tren", {"question_mark", "interrogative_opener"}),
    # Spanish "que"/"como" without accent are conjunctions: not openers.
    ("Como siempre, llegamos tarde.", set()),
    # Arabic question mark ؟ at the end; "متى" (when) opens the sentence.
    ("متى يصل القطار؟", {"question_mark", "ends_with_question", "interrogative_opener"}),
    # Arabic particle هل (yes/no question) without any mark.
    ("هل هذا صحيح", {"interrogative_opener", "verification"}),
    # Greek writes its question mark as ';' (here the ASCII semicolon after a Greek word).
    ("Πού είναι το λεωφορείο;", {"question_mark", "ends_with_question", "interrogative_opener"}),
    # The Greek question mark code point U+037E.
    ("Γιατί άργησε το τρένο\u037e", {"question_mark", "ends_with_question", "interrogative_opener"}),
    # A semicolon after Latin letters is not a question mark.
    ("We waited; nobody came.", set()),
    # French, German, Italian, Portuguese openers.
    ("Pourquoi le train est en retard", {"interrogative_opener"}),
    ("Warum ist das so teuer", {"interrogative_opener"}),
    ("Dove sono i biglietti", {"interrogative_opener"}),
    ("Onde fica a estação", {"interrogative_opener"}),
    # Romanised Hindi: "kya" opens, "... hai kya" closes a yes/no question.
    ("kya hua yaar", {"interrogative_opener"}),
    ("yeh sach hai kya", {"interrogative_opener", "verification"}),
    # A sincere statement: nothing fires.
    ("Thank you for making rides free tonight.", set()),
]


@pytest.mark.parametrize(("post", "expected"), TABLE)
def test_rule_features(post: str, expected: set[str]) -> None:
    got = {name for name, on in questions.post_features(post).items() if on}
    assert got == expected


def test_features_matrix_and_rule_follow_the_table() -> None:
    posts = [p for p, _ in TABLE]
    matrix = questions.features(posts)
    assert matrix.shape == (len(TABLE), len(questions.FEATURES))
    for row, (_, expected) in zip(matrix, TABLE):
        assert {questions.FEATURES[i] for i in np.flatnonzero(row)} == expected
    # The plain rule: a question mark, an interrogative opener or a request.
    wanted = [bool(e & {"question_mark", "interrogative_opener", "request"}) for _, e in TABLE]
    assert questions.rule(posts).tolist() == wanted


def test_rule_floor_per_route() -> None:
    posts = ["Tell us why you raised prices", "When will the trains run again", "Warum ist das so teuer"]
    floor = {"en": ["request"], "other": ["question_mark", "interrogative_opener", "request"]}
    # English route: only the request counts; the opener of post 2 is left to the model.
    assert questions.rule_floor(posts, floor, np.array(["en", "en", "en"])).tolist() == [1, 0, 0]
    # Other route: every rule feature counts (the German opener of post 3 does).
    assert questions.rule_floor(posts, floor, np.array(["en", "en", "other"])).tolist() == [1, 0, 1]
    # No routes known: every post is taken as English.
    assert questions.rule_floor(posts, floor, None).tolist() == [1, 0, 0]
