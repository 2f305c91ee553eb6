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
        "summary": "Irony, sarcasm and ridicule: the mockery signal, fitted for realistic priors (v2.0.0). The "
        "calibrated product of the shared encoder's irony head (SemEval-2018 irony), its sarcasm head "
        "(author-labelled iSarcasmEval) and a small logistic head (`irony_head.npz`) over the frozen "
        "384-d pooled vector, every head's logits and surface cues (`classify/cues.py`), trained with "
        "ordinary posts as negatives. Probabilities are calibrated for a stream with 15% ironic posts "
        "(`calibration.prior` in the card); the threshold maximises the mean F1 over priors 5%, 15%, "
        "40% and each validation set's natural prior, not F1 at a benchmark's own prior.",
        "definition": "Label 1 = the post says the opposite of, or mocks, what it literally says (irony, sarcasm, "
        "ridicule). Training positives: SemEval-2018 ironic tweets (collected with #irony/#sarcasm, "
        "tags removed) and tweets their own authors called sarcastic (iSarcasmEval). Training "
        "negatives besides those sets' own: ordinary posts (stance tweets, airline and complaint "
        "tweets to companies, TweetEval sentiment val), **assumed not ironic**: a few of them are "
        "(airline complaints are sometimes sarcastic), which biases the head slightly towards "
        "missing sarcasm aimed at companies. Half of each ordinary set trains the head; the other "
        "half (11,498 posts) checks it and enters the calibration.",
        "tried": "v1.0.0 (two encoder heads, threshold 0.30 tuned for F1 at the benchmarks' 25-48% priors) labelled "
        "56% of ordinary posts ironic and reached 68.0 / 42.2 cross-fitted F1 (TweetEval irony val / "
        "iSarcasmEval held-out fifth). On frozen features (no re-fine-tuning), measured on the same "
        "validation sets: a head trained on the validation sets themselves (cross-fitted) ranked no better "
        "(AUC 0.72-0.75 irony, 0.65-0.69 sarcasm, against 0.76 / 0.67 for v1) and would have left no "
        "untouched validation data for the share estimator, so the head trains on TweetEval irony train, "
        "iSarcasmEval's fit part and ordinary posts only. Adding the pooled vector and the other heads' "
        "logits cost 2-3 AUC points on irony val but halved the ordinary posts flagged at equal recall. "
        "Weighting ordinary posts as much as the labelled ones (0.3 tried), praise three times (airline "
        "and sentiment positives), and adding copies of the airline/complaint tweets without their "
        "leading @handles (otherwise 'addressed to a company' read as 'sincere', and unaddressed thanks "
        "as irony) gave what ships: 66.9 / 41.0 cross-fitted, 15.6% of ordinary check posts flagged. "
        "Thresholds 0.25-0.50 flag fewer ordinary posts (6% to 0.4%) but lose 4-30 F1 points at every "
        "prior; the share estimator, not the labels, is the way to get shares right. "
        "Issue 10 follow-up (2 Dec 2026), trying to bring TweetEval irony val F1 back to 69.2 with "
        "ordinary posts flagged as rarely: no threshold of the shipped calibration reaches it (in-sample "
        "F1 68.2-68.3 at thresholds 0.10-0.11, where 30-33% of ordinary check posts are flagged; 67.4 at "
        "0.15 / 19%; 66.3 at the shipped 0.18 / 14%); with the ordinary flag rate held at 15.6%, the best "
        "weighting of the three scores gives 67.3, and retrained heads (C 0.01-1, iSarcasmEval rows "
        "weighted 2-4x, TweetEval irony rows 2x, ordinary posts 0.5-2x) 66.4-67.7. So 69.2 costs about "
        "twice the ordinary posts labelled ironic; the shipped trade keeps the lower rate. The estimated "
        "shares do not depend on the threshold (the chosen method, pacc, reads probabilities). "
        "Calibrations weighted towards the sarcasm head (AUC on the iSarcasmEval fifth up from 0.66 to "
        "0.68-0.69) made the share error on sarcasm worse, not better (bias -4 to -9 points at priors "
        "15-40%: the two sets' rates drift further apart). Rebuilt 2 Dec 2026 on the encoder run one post "
        "per call (a post's outputs no longer depend on the posts batched with it; every head and "
        "calibration refitted): the mean F1 over priors is flat from threshold 0.13 to 0.21 while the "
        "ordinary posts flagged fall from 23% to 10%, so the threshold now maximises the mean F1 among "
        "the thresholds that flag at most a fifth of the ordinary posts (0.20): F1 at priors 5% / 15% "
        "22.3 / 44.9 (was 21.8 / 44.8), ordinary posts flagged 11.5% in-sample and 13.8% cross-fitted "
        "(was 14.2% / 15.6%), TweetEval irony val F1 at its own 48% prior 65.1 in-sample, 65.6 "
        "cross-fitted (was 66.3 / 66.9). The plain maximum (0.13) gave 69.1 in-sample but flagged 23% "
        "of ordinary posts, 14 of 274 sincere thanks and the demo's \"Thank you for making rides free "
        'tonight." (0.158); the highest threshold within one point of the best (0.21) fell to 62.4 '
        "cross-fitted, as its folds' thresholds moved further."
        " An n-gram source (2 Dec 2026, `python -m training.irony_head DATA DIR --ngram-c C`, not shipped): an L2 logistic regression over the package's hashed character and word n-grams, fitted on the head's own training rows and weights, as a fourth score in the calibration. Cross-fitted on the validation sets, C 0.5 / 2 / 4 / 8: TweetEval irony F1 67.9 / 68.5 / 68.9 / 69.4 (65.6 without), iSarcasmEval fifth 43.6 / 45.0 / 44.5 / 44.0 (40.8), ordinary posts flagged 13.9 / 12.1 / 13.0 / 15.6% (13.8%); AUC 0.737 to 0.744 (irony) and 0.656 to 0.667 (sarcasm), the sarcastic posts' mean calibrated probability above the rest by 0.117 instead of 0.110, far from what the share error on sarcasm needs. Built at C 4 (threshold 0.17, irony F1 68.5 in-sample / 68.9 cross-fitted) and read on real reply threads that no irony model saw (`python bench/irony_threads.py ../shared/data DIR`): the demo thread's posts labelled ironic rose from 20 to 38 of 103, the host's from 2 to 8 of 22 (its repeated \"Uber is covering the cost of all rides, Uber is still paying drivers higher fares\" from 0.13-0.17 to 0.26), \"Ah that makes sense then thanks\" from 0.18 to 0.30; over the 4,519 RumourEval train and dev posts 31.4% to 32.9% flagged, among those opening with a mention 27.2% to 34.2%. Removing mentions before the n-grams changed none of that (the host's posts 0.26). The n-grams learn the benchmarks' wording, which carries to reply threads worse than the encoder does: not shipped. Rebuilt 3 Dec 2026 (v2.2.0, issue 15) on the same encoder weights with its LayerNorms as plain ops instead of onnxruntime's fused skip-LayerNorm (a quarter of the encoder's time; outputs within the int8 rounding, mean |change| 0.005 in the irony logit): every head and calibration refitted, threshold 0.19 by the same rule, TweetEval irony val F1 65.1 in-sample / 65.0 cross-fitted (65.1 / 65.6 before), iSarcasmEval fifth 42.4 / 41.0 (42.1 / 40.8), ordinary posts flagged 12.8% / 13.8% (11.5% / 13.8%).",
        "failures": "- Labels over-count at low priors: at a 5% prior about 17% of posts are labelled ironic (the "
        "classify-and-count row above). Use the estimated shares (`askscope classify --shares`, the "
        "lenses), which correct for the measured error rates.\n"
        '- Short generic praise without context ("Good gesture", "This is wonderful news for the '
        'city.") still scores 0.5-0.6: ironic praise of exactly that form is common in the training '
        'data. Thanks that say what for ("Thank you for making rides free tonight.") and praise '
        "addressed to a company come out sincere (4 of 274 airline thanks flagged).\n"
        "- Sarcasm without context is hard: iSarcasmEval tweets were labelled by their authors and "
        "often need world knowledge.\n"
        "- SemEval-2018 irony was collected with #irony/#sarcasm hashtags (removed): the heads lean on "
        "hashtag-era cues.\n"
        "- English only (the encoder's vocabulary is English; iSarcasmEval Arabic is not used).",
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
        "summary": "Is the post a question or a request addressed to someone. The encoder's question head "
        "(RumourEval `query`) combined with rule features (`classify/questions.py`: question marks of "
        "every script, interrogative openers in the UMSAB languages and Greek, requests in the "
        "imperative, addressing, verification words) and every encoder head's logits by a small "
        "logistic head (`question_head.npz`) fitted on RumourEval train, calibrated and thresholded on RumourEval dev. A rule floor makes "
        "imperative requests questions whatever the model says, and, for posts identified as not "
        "English (which the English encoder cannot read), any rule feature.",
        "definition": "For askscope a question is a question or request addressed to someone: a direct question "
        '("where did you hear that?"), one without a question mark ("what happened"), a request '
        'in the imperative ("tell us why...", "explain how...", "can you ..."), rhetorical and '
        "mocking questions included (the discourse category sorts them into genuine, critical and "
        "mockery). RumourEval's `query` is narrower: a reply asking for more information about the "
        "rumour (evidence, a source, confirmation); its annotators labelled many rhetorical or "
        "off-topic questions `comment` or `deny`. The benchmark figure below is query F1, so it "
        'counts as errors some posts that are questions for askscope (e.g. "would anyone put their '
        'kid on a plane with ...?"); the rule table in `tests/test_classify_questions.py` checks the '
        "askscope definition, in nine languages.",
        "tried": 'On RumourEval dev (281 replies, 28 queries): the rule "contains ?" 64.1 query F1; the plain '
        "multilingual rule (question mark, opener or request) 63.4 (it also catches rhetorical questions); "
        "v1.0.0's encoder head alone 71.9 cross-fitted on its seeded split, 68.0 as the mean of 20 seeded "
        "two-fold splits. Combiners: the head's margin and the rule features fitted on dev itself "
        "(cross-fitted) 70-72; jointly on train and dev 69-72; with the pooled vector 51-74 (unstable); "
        "on RumourEval train only, C = 0.01 (chosen among 0.003, 0.01, 0.03 on dev): v2.0.0, 74.2 "
        'cross-fitted on the seeded split (+10.1 over "contains ?"), 70.9 ± 4.1 as the mean of 20 '
        "splits (+6.8). v2.1.0 (what ships) adds every encoder head's logits (sentiment, irony, sarcasm, "
        "offensive, hate, emotion, question: a query is rarely abusive or mocking, a comment often is) "
        "and chooses C by 5-fold cross-validation on RumourEval train (query F1 out of fold: 62.2 at "
        "C = 0.01, 63.0 at the chosen 0.05), so nothing but the calibration and threshold is chosen on "
        "dev: 75.4 on the seeded split, 73.0 ± 3.7 as the mean of 20 splits (+8.9). Also tried, by the "
        "same 20-split mean: the pooled 384-d vector added (C 0.001-0.03: 70.4-73.2, unstable across C), "
        "pooled and logits together (70.8-73.6), class-balanced loss (69.9), calibration and threshold "
        "fitted on train out-of-fold scores instead of dev (dev F1 71-77 depending on C). A rule floor for questions with an interrogative opener and no mark cost 3.5 "
        "points on dev (its extra posts are rhetorical questions RumourEval calls comments) and was "
        "left out; the request floor costs nothing there. Rebuilt on one post per encoder call (2 Dec "
        "2026), the same floor for English (an interrogative opener, with or without a mark) takes the "
        "20-split mean from 73.3 to 65.2: of the 19 dev replies that open with an interrogative and end "
        'with "?", 10 are queries.',
        "failures": "- Dev has 28 queries: one post moves F1 by 2-3 points; the 20-split standard deviation is 3.7.\n"
        "- Questions without a question mark are caught when the model scores them high (an "
        "interrogative opener adds to the score) or, for imperative requests, by the floor; an "
        'English question like "was the co-pilot Christian" without a mark can still be missed.\n'
        "- Rhetorical and mocking questions that RumourEval would call comments can fall under the "
        'threshold: "@user what happens if he sneezes?" scores 0.28 against 0.37 (the rule still sees it: '
        "`tests/test_classify_api.py`).\n"
        "- Non-English posts are judged by the rules alone above the model: interrogative words are "
        "listed for Arabic, English, French, German, romanised Hindi, Italian, Portuguese, Spanish "
        "and Greek only; other languages rely on their question marks.\n"
        "- The rule floor changes labels only; the probabilities (used by the share estimator) are the "
        "model's.",
    },
}
