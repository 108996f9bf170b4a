"""Text extractors: simple lexical statistics and sentence embeddings.

TF-IDF stays scikit-learn's: to get a dense text block inside
:func:`~skfusion.compose.make_modality_transformer`, chain
:class:`~sklearn.feature_extraction.text.TfidfVectorizer` and
:class:`~sklearn.decomposition.TruncatedSVD`::

    text = make_pipeline(TfidfVectorizer(min_df=2), TruncatedSVD(100))
    make_modality_transformer(("notes", text, "clinical_notes"), ...)

(fill missing notes with ``""`` first: TfidfVectorizer does not accept NaN).
"""

import re
import string

import numpy as np

from ._base import BaseExtractor
from ._io import DEFAULT_MAX_FILE_BYTES

__all__ = ["TextStatistics"]

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
_NEGATIONS = frozenset(
    {"no", "not", "never", "none", "nor", "without", "denies", "denied", "negative"}
)
_PUNCTUATION = frozenset(string.punctuation)

_STATISTICS = (
    "n_characters",
    "n_words",
    "n_sentences",
    "mean_word_length",
    "type_token_ratio",
    "digit_fraction",
    "uppercase_fraction",
    "punctuation_fraction",
    "negation_fraction",
)


class TextStatistics(BaseExtractor):
    """Cheap lexical statistics of a text column.

    Nine numbers per text: characters, words, sentences, mean word length,
    type-token ratio (distinct words / words), and the fractions of digits,
    upper-case letters and punctuation among characters and of negation words
    (no, not, never, without, denies, negative, ...) among words. A quick
    baseline for clinical notes and reviews, and a check of whether a text
    model learns more than length.

    Parameters
    ----------
    lowercase : bool, default=True
        Compare words case-insensitively for the type-token ratio and
        negations.

    batch_size : int, default=256
        Texts handed to one job.

    n_jobs : int, default=None
        Number of joblib workers; None means 1.

    verbose : bool, default=False
        Show a progress bar.

    on_error : {"raise", "nan"}, default="raise"
        What to do with an input that is not a string.

    root : str or path-like, default=None
        Unused: texts are given inline. Kept for a uniform extractor API.

    max_file_bytes : int, default=512 MiB
        Unused, as ``root``.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        Names of the statistics.

    n_features_out_ : int
        Number of statistics (9).

    Examples
    --------
    >>> from skfusion.extractors import TextStatistics
    >>> stats = TextStatistics().fit(["No fever. Cough!", None])
    >>> block = stats.transform(["No fever. Cough!", None])
    >>> block.shape
    (2, 9)
    >>> dict(zip(stats.get_feature_names_out()[:3], block[0, :3].tolist()))
    {'n_characters': 16.0, 'n_words': 3.0, 'n_sentences': 2.0}
    """

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "lowercase": ["boolean"],
    }
    _reads_files = False

    def __init__(
        self,
        *,
        lowercase=True,
        batch_size=256,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=DEFAULT_MAX_FILE_BYTES,
    ):
        self.lowercase = lowercase
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    def _read(self, item):
        if not isinstance(item, str):
            raise TypeError(f"expected a string, got {type(item).__name__}")
        return item

    def _featurize(self, text):
        words = _WORD.findall(text.lower() if self.lowercase else text)
        n_chars = len(text)
        n_words = len(words)
        sentences = len(_SENTENCE_END.findall(text))
        if text.strip() and not _SENTENCE_END.search(text.rstrip()[-1:] + " "):
            sentences += 1  # a last sentence without final punctuation
        chars = max(n_chars, 1)
        return np.array(
            [
                n_chars,
                n_words,
                sentences,
                np.mean([len(w) for w in words]) if words else 0.0,
                len(set(words)) / n_words if n_words else 0.0,
                sum(c.isdigit() for c in text) / chars,
                sum(c.isupper() for c in text) / chars,
                sum(c in _PUNCTUATION for c in text) / chars,
                sum(w in _NEGATIONS for w in words) / n_words if n_words else 0.0,
            ],
            dtype=float,
        )

    def _feature_names(self):
        return list(_STATISTICS)
