"""The codebook: every codable task's labels with a definition and examples.

Coders see the same definitions the classifiers were built on: the discourse categories come
from the project's metric specification (docs/metrics.md); the other tasks' labels are those of
the data sets their models were trained on (docs/models/*.md). The examples are written for this
codebook (short, made-up posts in the style of campaign replies), never taken from held-out data.

``docs/codebook.md`` is generated from :data:`CODEBOOK` by :func:`codebook_markdown`; a test
checks the two agree (regenerate with ``python -m askscope.coding.codebook > docs/codebook.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

from askscope.errors import UsageError


@dataclass(frozen=True)
class Label:
    """One code: its name (exactly as coders write it), a definition and examples."""

    name: str
    definition: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Task:
    """A codable task: what is coded, the source of its definitions and its labels."""

    name: str
    question: str
    source: str
    labels: tuple[Label, ...]

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)


CODEBOOK: dict[str, Task] = {
    "discourse": Task(
        "discourse",
        "What does this post do towards the host? Code the post's category, read together with the "
        "post it replies to (parent_text). A question can be critical or mocking: code what it does, "
        "not its form.",
        "askscope metric specification (docs/metrics.md, lens 1); the #AskHamas seed examples",
        (
            Label(
                "question_genuine",
                "A question or request addressed to the host that seeks information or an answer, "
                "asked in good faith (it may be sceptical, but it wants an answer).",
                (
                    "@host what time does the new service start on Monday?",
                    "How will the programme be funded after 2026? #AskHost",
                ),
            ),
            Label(
                "question_critical",
                "A substantive challenge in the form of a question: it confronts the host with a "
                "criticism, an accusation or a contradiction and asks them to account for it.",
                (
                    "@host why did you fire 300 workers while paying record bonuses?",
                    "How do you answer the families who say you ignored their complaints for years?",
                ),
            ),
            Label(
                "mockery",
                "Irony, sarcasm or ridicule aimed at the host or the campaign, including mocking "
                "questions that expect no answer.",
                (
                    "#AskHamas what happens if he sneezes?",
                    "#AskHamas what's your preferred method of execution?",
                    "Great idea, a Q&A. What could possibly go wrong #AskHost",
                ),
            ),
            Label(
                "abuse",
                "Offensive, hateful or threatening content: insults, slurs, profanity aimed at "
                "someone, attacks on a group, threats or wishes of harm.",
                ("@host you are a bunch of lying idiots", "people like you should be locked up and never let out"),
            ),
            Label(
                "support",
                "Agreement with, praise of or encouragement for the host or its cause.",
                (
                    "Thank you for doing this, great answers today @host",
                    "Proud of what you have achieved, keep going #AskHost",
                ),
            ),
            Label(
                "other",
                "None of the above: neutral remarks, conversation between other users, news, links "
                "or posts whose meaning cannot be made out.",
                ("watching the #AskHost session now", "@friend did you see this? link below"),
            ),
        ),
    ),
    "sentiment": Task(
        "sentiment",
        "What is the overall sentiment the author expresses in the post?",
        "SemEval-2017 task 4A (Rosenthal et al. 2017) and UMSAB (Barbieri et al. 2022); docs/models/sentiment.md",
        (
            Label(
                "negative",
                "The post as a whole expresses a negative attitude, opinion or emotion.",
                ("this is the worst customer service I have ever had", "so disappointed in the answers today"),
            ),
            Label(
                "neutral",
                "No clear positive or negative attitude: facts, questions, announcements, mixed.",
                ("the session starts at 3pm", "what does the new rule change for students?"),
            ),
            Label(
                "positive",
                "The post as a whole expresses a positive attitude, opinion or emotion.",
                ("loved the answers, thank you!", "great to see you talking to people directly"),
            ),
        ),
    ),
    "irony": Task(
        "irony",
        "Is the post ironic (verbal irony, sarcasm, or a description of an ironic situation)?",
        "SemEval-2018 task 3A (Van Hee et al. 2018) and iSarcasmEval (Abu Farha et al. 2022); docs/models/irony.md",
        (
            Label(
                "non_irony",
                "The post means what it says.",
                ("the train was late again this morning", "thanks for answering my question"),
            ),
            Label(
                "irony",
                "The post says the opposite of what it means, mocks by pretending, or points at "
                "an ironic situation (sarcasm included).",
                (
                    "oh great, another Monday with no trains. I just love waiting in the rain",
                    "a company that sells privacy got hacked. who could have seen that coming",
                ),
            ),
        ),
    ),
    "offensive": Task(
        "offensive",
        "Does the post contain offensive language: insults, threats, profanity, or a targeted offence?",
        "OffensEval-2019 subtask A (Zampieri et al. 2019); docs/models/offensive.md",
        (
            Label(
                "not-offensive",
                "Neither profanity nor offence, insult or threat.",
                ("I disagree with this decision", "when will the report be published?"),
            ),
            Label(
                "offensive",
                "Non-acceptable language (profanity) or a targeted offence, veiled or "
                "direct: insults, threats, swear words.",
                ("shut up you clown", "what the hell is wrong with these people"),
            ),
        ),
    ),
    "hate": Task(
        "hate",
        "Is the post hate speech: does it attack or demean people for who they are (origin, religion, "
        "gender, sexual orientation, disability...)?",
        "HatEval-2019 (SemEval-2019 task 5; Basile et al. 2019), hate against immigrants and women; "
        "docs/models/hate.md",
        (
            Label(
                "not-hate",
                "No attack on a group or on a person for belonging to it.",
                ("immigration policy needs a serious debate", "you are wrong about the numbers"),
            ),
            Label(
                "hate",
                "Disparages, threatens or incites against a group, or a person for belonging to it.",
                ("send them all back where they came from", "women like her should not be allowed to speak"),
            ),
        ),
    ),
    "emotion": Task(
        "emotion",
        "Which emotion best describes the author's state of mind in the post?",
        "SemEval-2018 task 1 E-c as in TweetEval (4 classes; Mohammad et al. 2018); docs/models/emotion.md",
        (
            Label(
                "anger", "Anger, annoyance, rage or disgust.", ("I am furious that nobody has answered us in months",)
            ),
            Label("joy", "Joy, happiness, amusement or delight.", ("best news all week, so happy!",)),
            Label(
                "optimism",
                "Hope, confidence or optimism about the future.",
                ("things will get better, I believe in this team",),
            ),
            Label("sadness", "Sadness, grief, disappointment or pessimism.", ("I miss how this city used to be",)),
        ),
    ),
    "question": Task(
        "question",
        "Is the post a question or request addressed to someone (rhetorical and mocking questions included)?",
        "RumourEval 2017 subtask A, `query` (Derczynski et al. 2017); docs/models/question.md",
        (
            Label(
                "not-question",
                "No question or request for information or action.",
                ("the session was interesting", "I agree with the last answer"),
            ),
            Label(
                "question",
                "Asks something of someone: a direct question, a request for evidence or "
                "an explanation, a rhetorical or mocking question.",
                ("@host is there a source for this?", "so when exactly were you planning to tell us?"),
            ),
        ),
    ),
}

#: Tasks a sample can be coded for (``language`` has an open label set and is not coded).
CODING_TASKS = tuple(CODEBOOK)


def get_task(name: str) -> Task:
    """The codebook entry of ``name``; :class:`UsageError` naming the codable tasks otherwise."""
    try:
        return CODEBOOK[name]
    except KeyError:
        raise UsageError(f"no codebook for task {name!r}", "code one of: " + ", ".join(CODING_TASKS)) from None


def codebook_csv_rows(task: Task) -> list[list[str]]:
    """The codebook as rows of a CSV file written beside a sample (label, definition, examples)."""
    rows = [["label", "definition", "examples"]]
    for label in task.labels:
        rows.append([label.name, label.definition, " | ".join(label.examples)])
    rows.append(["", "", ""])
    rows.append(
        [
            "(empty)",
            "Leave the code cell empty for a post you have not coded yet: it is skipped on "
            "import and does not count as coded.",
            "",
        ]
    )
    return rows


def codebook_markdown() -> str:
    """docs/codebook.md: every task, its question, source, labels, definitions and examples."""
    out = [
        "# Codebook",
        "",
        "The codes a coder may give to a post of a sample drawn by `askscope code sample`, one section per",
        "task. Write the label exactly as in the first column (case does not matter); leave the code",
        "empty for a post not coded yet. This file is generated from `askscope/coding/codebook.py`",
        "(`python -m askscope.coding.codebook > docs/codebook.md`); a test checks the two agree. How",
        "the codes are imported, compared and used is in [coding.md](coding.md).",
        "",
        "The examples are made up for this codebook, in the style of campaign replies.",
    ]
    for task in CODEBOOK.values():
        out += [
            "",
            f"## {task.name}",
            "",
            task.question,
            "",
            f"Definitions from: {task.source}.",
            "",
            "| label | definition | examples |",
            "|---|---|---|",
        ]
        for label in task.labels:
            examples = "<br>".join(f"“{e}”" for e in label.examples)
            out.append(f"| `{label.name}` | {label.definition} | {examples} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover - regenerates the docs page
    print(codebook_markdown(), end="")
