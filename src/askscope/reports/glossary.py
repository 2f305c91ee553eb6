"""The report's glossary: what each label of its tables means, in plain words.

Every label in the first column of a report table (:class:`askscope.reports.tables.Table` with
``glossed``) is a key of :data:`GLOSSARY`; the report's glossary section lists the entries of the
labels it used, so a reader never meets a term the report does not explain. The definitions
follow docs/metrics.md, which gives the formulas and sources.
"""

from __future__ import annotations

#: Terms used around the tables (always listed).
GENERAL = {
    "95% interval": "The range that holds the true value with 95% confidence, given the posts collected "
    "(Wilson intervals for shares, bootstrap or order statistics otherwise). Left empty when the value is "
    "exact or the interval could not be computed.",
    "corrected for classifier error": "The share after adjusting for the known error rates of the classifier "
    "that sorted the posts (adjusted classify-and-count, Forman 2005): a classifier that misses half of the "
    "mockery under-counts it, and the correction puts it back.",
    "not measurable": "The data hold nothing to compute this number from (for example no questions were asked, "
    "or no posts from before the campaign were collected).",
}

GLOSSARY: dict[str, str] = {
    **GENERAL,
    # backfire: volume
    "campaign posts": "Posts in the campaign window that use the hashtag or talk to the host, by anyone "
    "(reposts counted apart).",
    "posts by participants": "Campaign posts by people other than the host: the audience.",
    "posts by the host": "Campaign posts by the host accounts (and the accounts answering for them).",
    "participants": "Distinct people (accounts other than the host) who posted in the campaign.",
    "posts per hour": "Campaign posts divided by the hours of the window.",
    "busiest hour": "The hour with the most campaign posts, and when it started.",
    # backfire: categories
    "hostile": "Critical questions, mockery and abuse together: what the press counts as backlash.",
    "genuine question": "A question asked to learn something.",
    "critical question": "A question that challenges or accuses the host.",
    "mockery": "Ridicule, sarcasm or jokes at the host's expense.",
    "abuse": "Insults, slurs or threats.",
    "support": "Praise, thanks or agreement with the host.",
    "other": "Everything else (news, unrelated chatter, posts the classifier could not place).",
    # backfire: backlash
    "virality gap": "How many times as often hostile posts were reposted as supportive ones "
    "(above 1: the hostile posts travelled further).",
    "repost-weighted hostile share": "The hostile share when each post counts once plus once for each repost: "
    "the hostile share of what audiences saw amplified.",
    "host posts ratioed": "Share of the host's posts with more replies than likes and reposts together (posts "
    "nobody reacted to left out): a sign of a post drawing criticism.",
    "hashtag taken over": "Share of audience posts that only use the hashtag (not talking to the host) and are "
    "not supportive: how far others took the hashtag over.",
    "host's share of the hashtag": "The host's posts with the hashtag among all posts with the hashtag.",
    "time to backlash": "Minutes from the start of the campaign to the first post at which hostile posts were "
    "more than half of the posts of the hour before (with at least 10 posts in that hour); 'never' when that "
    "did not happen.",
    # engagement
    "answer rate": "Share of the questions addressed to the host that the host answered.",
    "answer rate, corrected for question-detection error": "The answer rate after adjusting for the known "
    "error rates of the question detector.",
    "answer rate weighted by reposts": "The answer rate when each question counts once plus once per repost: "
    "did the host answer the questions many people saw?",
    "hostile answer rate": "Share of the critical and mocking questions that the host answered.",
    "hostile answers relative to all answers": "The hostile answer rate divided by the answer rate: above 1, "
    "the host answered hostile questions more readily than questions overall.",
    "median time to answer": "Half of the answered questions were answered faster than this (time from the "
    "question to the host's first answer).",
    "slowest tenth of answers": "The 90th percentile of the time to answer: one answer in ten took longer.",
    "answered within an hour": "Share of the answered questions whose first answer came within 60 minutes.",
    "host posts that are replies": "Share of the host's posts that reply to someone: dialogue rather than broadcast.",
    "interactions per host post": "Reposts, likes, replies and quotes per host post, on average.",
    "reciprocity with the host": "Of the pairs 'A replied to B' that involve the host, the share where B also "
    "replied to A: two-way exchange with the host.",
    "reciprocity among everyone": "The same share over all pairs of people replying to each other in the campaign.",
    "mean thread depth": "The average length of the longest reply chain in each conversation.",
    "deepest thread": "The longest reply chain in any conversation.",
    "follow-ups answered again": "Of the answered questions whose asker replied to the answer, the share where "
    "the host answered again.",
    "potential reach": "The followers of all participants added up: an upper bound, since audiences overlap.",
    "language diversity": "How evenly participants spread over languages: 0 when all use one language, 1 when "
    "every language is equally used (normalised entropy).",
    "reply-community diversity": "How evenly participants spread over the communities of the reply network "
    "(Leiden communities): 0 one community, 1 evenly spread.",
    "posts by the most active 1%": "Share of the campaign's posts written by the most active 1% of participants.",
    "inequality of posts per participant": "Gini coefficient of posts per participant: 0 when everyone posted "
    "as much, near 1 when a few posted nearly everything.",
    "newcomers": "Share of participants who had not replied to or mentioned the host in the 30 days before the "
    "campaign.",
    "host posts: dialogue": "Share of the host's posts that are replies or quotes.",
    "host posts: collaboration": "Share of the host's posts calling for joint action ('join us', 'sign', "
    "'share this').",
    "host posts: amplification": "Share of the host's posts that are reposts.",
    "host posts: broadcast": "Share of the host's posts that are none of the above: announcements.",
    # framing
    "frame": "A way of describing the host declared in the campaign file (its keywords and examples); the "
    "shares are the posts using it, by the host and by participants.",
    # authenticity
    "same post reposted": "Accounts that reposted the same post within seconds of each other, more often than "
    "chance allows.",
    "same text posted": "Accounts that posted the same text (ignoring case and mentions) within seconds of each "
    "other, more often than chance allows.",
    "near-identical text": "Accounts that posted nearly the same words within seconds of each other, more "
    "often than chance allows.",
    "same link shared": "Accounts that shared the same link within seconds of each other, more often than "
    "chance allows.",
    "replies to the same post": "Accounts that replied to the same post within seconds of each other, more "
    "often than chance allows.",
    "any of these": "Accounts in a significant group of at least one of the networks above.",
    "hostile share": "Share of audience posts that are critical questions, mockery or abuse.",
    "mockery share": "Share of audience posts that mock the host.",
    "accounts": "Accounts in each group.",
    "posts": "Their campaign posts.",
    "median account age at first post (days)": "How old the accounts were when they first posted in the "
    "campaign, the median.",
    "created during the campaign": "Share of the accounts created inside the campaign window.",
    "created in the 30 days before": "Share of the accounts created in the 30 days before the campaign.",
    "median followers per account followed": "Followers divided by accounts followed, the median.",
    "median posts per day over the account's life": "All the account's posts divided by its age in days, the median.",
    "burstiness of all posts": "How clustered in time the posts are: −1 perfectly regular, 0 random, towards 1 "
    "bursts separated by silence (Goh and Barabási's measure).",
    "burstiness of hostile posts": "The same measure for the hostile posts only.",
    "bursts": "Periods when posts came much faster than usual (Kleinberg's burst detection).",
    "near-duplicate cluster": "Posts with nearly the same words; the table shows one example per cluster.",
    # methods: coverage
    "posts matched": "Posts of the store that matched a search, stream or input.",
    "context posts": "Posts the store holds only as context (a reposted original, a post replied to).",
    "input records rejected": "Records of the input files that could not be read as posts (kept with the "
    "reason in the store's rejects table).",
    "replies": "Replies in the campaign whose conversation was rebuilt.",
    "reply links rebuilt": "Replies whose parent post is in the store, so their place in the conversation is known.",
    "replies whose parent is missing": "Replies to posts the store does not hold: their conversations are incomplete.",
    "missing parent posts": "The distinct posts replied to that the store does not hold.",
    "API error objects kept": "Errors the platform's API returned in the collected files (deleted or "
    "protected posts), kept as evidence of what is missing.",
    # methods: validation and classifiers
    "validated share": "A share estimated from the model's labels and a hand-coded sample together "
    "(prediction-powered inference): valid whatever the model's errors.",
    "classifier": "A bundled model labelling every post; the error rates are its true-positive and "
    "false-positive rates on held-out validation data (docs/models/).",
}

#: The classifier tasks, as the classifiers table names them.
TASK_LABELS = {
    "discourse": "discourse category",
    "emotion": "emotion",
    "hate": "hate speech",
    "irony": "irony",
    "language": "language",
    "offensive": "offensive language",
    "question": "question",
    "sentiment": "sentiment",
}


def gloss(term: str) -> str | None:
    """The glossary entry of ``term`` (a table label), ``None`` when it has none."""
    return GLOSSARY.get(term)


#: The discourse categories as the report names them.
CATEGORY_LABELS = {
    "question_genuine": "genuine question",
    "question_critical": "critical question",
    "mockery": "mockery",
    "abuse": "abuse",
    "support": "support",
    "other": "other",
}

#: The co-action networks as the report names them (docs/authenticity.md defines them).
NETWORK_LABELS = {
    "co_repost": "same post reposted",
    "co_post": "same text posted",
    "co_similar": "near-identical text",
    "co_link": "same link shared",
    "co_reply": "replies to the same post",
}


def category_label(name: str) -> str:
    """A discourse category (or any snake_case name) in plain words."""
    return CATEGORY_LABELS.get(name, name.replace("_", " "))


def network_label(name: str) -> str:
    """A co-action network in plain words."""
    return NETWORK_LABELS.get(name, name.replace("_", " "))
