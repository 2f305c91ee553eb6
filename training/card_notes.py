"""Hand-written parts of the model cards (rendered by ``training.model_cards``)."""

from __future__ import annotations

SHARED_ENCODER = (
    "One all-MiniLM-L6-v2 encoder (22M parameters, English uncased WordPiece, 6 layers) is "
    "fine-tuned on all tasks at once with one linear head per task, exported to ONNX, fused and "
    "quantised to int8; one encoder pass serves every task."
)

NOTES: dict[str, dict[str, str]] = {
    "sentiment": {
        "summary": "Negative / neutral / positive sentiment of a post, in English, Arabic, French, German, "
                   "Hindi (romanised), Italian, Portuguese and Spanish. The calibrated product of the shared "
                   "encoder's sentiment head and a hashed char/word n-gram logistic regression; the n-grams "
                   "carry the languages the English WordPiece vocabulary cannot read (Arabic script is split "
                   "into single letters by the MiniLM tokenizer).",
        "tried": "On validation (TweetEval figures on the 1,451 val tweets the encoder never saw): frozen MiniLM + "
                 "logistic regression 62.3 (issue's orientation figure, full val); hashed n-gram logistic regression "
                 "alone 66.2, UMSAB mean 58.3 (Arabic 60.6, Hindi 36.0); fine-tuned encoder head alone, argmax, "
                 "after two epochs: UMSAB mean 45.6 (Arabic 24.7: the English tokenizer sees Arabic as isolated "
                 "letters). One calibrated product of the two for all posts gave 71.8 cross-fitted on TweetEval and a "
                 "UMSAB mean of 58.0; what ships fits the product and the decision rule apart for posts identified "
                 "as English and for the others (routing by language id): 71.5 and 59.0 cross-fitted (the same "
                 "routing with one shared decision rule: 73.1 and 57.7). UMSAB English train is not used (1,430 of its 1,839 tweets "
                 "are TweetEval sentiment val tweets). An earlier exact-vocabulary n-gram model measured 73.0 on "
                 "TweetEval val before the de-duplication key was fixed: that figure was inflated by near-duplicates "
                 "and is void.",
        "failures": "- Hindi in UMSAB is romanised Hinglish: the weakest language by far.\n"
                    "- Sarcastic praise reads as positive (see the `irony` task).\n"
                    "- Arabic dialects (Egyptian, Gulf) differ from the training tweets' mix; no dialect "
                    "breakdown is measured.\n"
                    "- Languages outside the eight fall back on English subwords and shared n-grams: treat as unvalidated.\n"
                    "- TweetEval sentiment has no train split here; the SemEval-2013..2016 pool replaces it, "
                    "older than the 2017 test tweets (topic drift).\n"
                    "- A Hinglish or other mixed post identified as English takes the English route "
                    "(encoder-heavy), which reads it less well than the n-grams.",
        "caveats": "**Leak in this version's validation data, and how the figures avoid it.** The encoder was "
                   "fine-tuned with a de-duplication key that kept links, so 549 TweetEval sentiment val tweets "
                   "(82 of UMSAB English val) stayed in its training data as SemEval pool copies carrying a link. "
                   "Every English sentiment figure here, and the calibration itself, uses only the 1,451 TweetEval "
                   "val tweets (241 UMSAB English) it never saw; the key is fixed for rebuilds "
                   "(`training/data.py`). The test splits are unaffected: they are not in the pool. "
                   "Validation data also chose the calibration and the decision rule (in-sample column); the "
                   "cross-fitted column removes that optimism but not the optimism of choosing the recipe on the "
                   "same validation sets. The 2017 test tweets are harder than the 2013-2016 validation tweets.",
    },
    "irony": {
        "summary": "Irony, sarcasm and ridicule: the mockery signal. The calibrated product of two heads of the "
                   "shared encoder: one trained on SemEval-2018 irony (TweetEval), one on author-labelled "
                   "sarcasm (iSarcasmEval). One threshold serves both, tuned for the mean of the two F1s.",
        "tried": "Argmax figures of the heads alone: irony head 70.4 after one epoch, 70.0 after two (TweetEval "
                 "irony F1); sarcasm head 34.1 / 38.8 on the held-out iSarcasmEval fifth (25% sarcastic). The "
                 "product of the two heads with one threshold tuned for the mean of both F1s gives 68.0 / 42.2 "
                 "cross-fitted (69.7 / 43.1 in-sample). Frozen MiniLM + logistic regression: 63.8 (issue's "
                 "orientation figure).",
        "failures": "- The shipped threshold (0.30 on the calibrated probability) is tuned for F1 on validation sets "
                    "where 25-45% of posts are ironic: on ordinary campaign traffic it flags many posts, "
                    "effusive praise included (\"thanks to your outstanding crew ...\" scores 0.79). The "
                    "discourse rule therefore asks for probability >= 0.5 (>= 0.75 for positive posts); for "
                    "shares, use the probabilities or correct with `error_rates`.\n"
                    "- Sarcasm without context is hard: iSarcasmEval tweets were labelled by their authors and "
                    "often need world knowledge. The #AskHamas seed questions (\"what happens if he sneezes?\", "
                    "\"what's your preferred method of execution?\") score about 0.36: not caught.\n"
                    "- SemEval-2018 irony was collected with #irony/#sarcasm hashtags (removed): the model leans on "
                    "hashtag-era cues and on contrasts like 'love ... Monday'.\n"
                    "- English only.",
    },
    "offensive": {
        "summary": "Offensive language (OffensEval-2019: insults, threats, profanity). A head of the shared encoder.",
        "tried": "Encoder head, argmax: 75.8 macro-F1 after one epoch, 76.7 after two. Frozen MiniLM + logistic "
                 "regression: 73.3 (issue's orientation figure).",
        "failures": "- Profanity used in praise or banter counts as offensive (the discourse rule then "
                    "checks sentiment).\n"
                    "- Reclaimed slurs and dialect (e.g. African-American English) are over-flagged, a bias "
                    "documented for OffensEval-style data.\n"
                    "- English only; US-political topics dominate the 2019 training tweets.",
    },
    "hate": {
        "summary": "Hate speech against immigrants and women (HatEval-2019, English part). A head of the "
                   "shared encoder.",
        "tried": "Encoder head, argmax: 72.4 macro-F1 after one epoch, 76.6 after two. Frozen MiniLM + logistic "
                 "regression: 47.6 (issue's orientation figure).",
        "failures": "- HatEval's test split is known to differ sharply from its train/val (other targets and "
                    "vocabulary; the best published test figure is 56.4): the validation figure here is far "
                    "above what test data will show.\n"
                    "- Targets other than immigrants and women (religion, ethnicity, nationality: the "
                    "#AskHamas case) are outside the training data: hate against them is often caught only as "
                    "`offensive`.\n"
                    "- English only.",
    },
    "emotion": {
        "summary": "Anger / joy / optimism / sadness (SemEval-2018 task 1, TweetEval's four-class version). A "
                   "head of the shared encoder.",
        "tried": "Encoder head, argmax: 72.0 macro-F1 after one epoch, 71.4 after two; class weights tuned on "
                 "validation (joy 1.2, optimism 2.0, sadness 0.85) lift it to 71.9 cross-fitted.",
        "failures": "- Every post gets one of the four emotions, including neutral posts.\n"
                    "- Optimism and joy are often confused; 3,257 training tweets only.\n"
                    "- English only.",
    },
    "question": {
        "summary": "Is the post a question or request addressed to someone (rhetorical and mocking questions "
                   "included; the discourse rule sorts them). A head of the shared encoder trained on "
                   "RumourEval 2017 replies labelled `query`.",
        "tried": "Encoder head, argmax: 65.4 query F1 after one epoch, 69.0 after two (28 queries in dev); the "
                 "validation-tuned threshold (0.16) gives 71.9 cross-fitted.",
        "failures": "- RumourEval's `query` means asking for evidence about a rumour; other questions in replies "
                    "were often annotated `comment`, so the training signal is narrower than 'any question'.\n"
                    "- The dev set has 28 queries: its F1 moves by several points with one or two posts.\n"
                    "- Questions without a question mark and requests in the imperative are often missed.\n"
                    "- English only.",
    },
}
