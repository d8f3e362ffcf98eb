"""Chinese word segmentation for knowledge-base search: one tokenizer, two index backends.

SQLite's FTS5 trigram tokenizer cannot find two-character words (挂号, 医保, 发票), so text is
segmented here with jieba in search mode and stored space-separated: in an FTS5 column on SQLite
(created with ``FTS5_TOKENIZE``) and in ``to_tsvector('simple', ...)`` on PostgreSQL. Indexing and
querying go through the same normalisation, so a query term always meets the indexed term.

Latin words and codes never reach jieba: they are cut out first by a regular expression and kept
whole ("LIS", "HL7", "T2026-000123", "ORA-12541"), because jieba splits them unpredictably. The
shipped dictionary ``his_dict.txt`` therefore holds only Chinese HIS vocabulary.
"""

import hashlib
import logging
import os
import re
import tempfile
import threading
import unicodedata
import warnings
from importlib import resources

with warnings.catch_warnings():
    # jieba 0.42 imports pkg_resources, which warns on recent setuptools.
    warnings.simplefilter("ignore")
    import jieba

log = logging.getLogger(__name__)

#: The FTS5 ``tokenize`` option the search index must use: every token emitted by
#: ``to_index_string`` (including codes such as ``ora-12541``) stays one FTS5 token.
FTS5_TOKENIZE = "unicode61 remove_diacritics 2 tokenchars '-_.+#'"

#: Queries longer than this are truncated before segmentation (search boxes, ticket titles).
MAX_QUERY_CHARS = 500
#: At most this many distinct terms go into a MATCH expression.
MAX_QUERY_TERMS = 32

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(
    r"(?P<code>[0-9a-z](?:[0-9a-z._+#-]*[0-9a-z+#])?)"  # Latin words, versions, codes
    rf"|(?P<han>[{_HAN}]+)"  # Chinese runs, handed to jieba
    rf"|(?P<other>[^\W\x00-\x7f{_HAN}]+)"  # other scripts' words, kept whole
)
_CODE_PARTS_RE = re.compile(r"[-._]+")
_HAN_TOKEN_RE = re.compile(rf"^[{_HAN}]+$")

_lock = threading.Lock()
_tokenizer = None
_cache_dir = None


def configure(cache_dir):
    """Set the directory for jieba's dictionary cache before first use (e.g. the instance path)."""
    global _cache_dir, _tokenizer
    with _lock:
        _cache_dir = os.fspath(cache_dir)
        _tokenizer = None


def _private_cache_dir():
    """Return a directory only this user can write, for jieba's marshal cache.

    jieba's default is ``jieba.cache`` directly in the shared temp directory, where another
    user's (or another version's) file would be loaded with ``marshal`` — so never use that.
    """
    candidates = [_cache_dir, os.environ.get("WEIBAO_CACHE_DIR")]
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates.append(os.path.join(xdg, "weibao"))
    for candidate in candidates:
        if not candidate:
            continue
        try:
            os.makedirs(candidate, mode=0o700, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            return candidate
    # No writable cache home: a fresh private directory still works, it just is not reused.
    return tempfile.mkdtemp(prefix="weibao-jieba-")


def _dictionary_bytes():
    return resources.files(__package__).joinpath("his_dict.txt").read_bytes()


def _get_tokenizer():
    """Build the private jieba tokenizer once, thread-safely, with the HIS dictionary loaded."""
    global _tokenizer
    tokenizer = _tokenizer
    if tokenizer is not None:
        return tokenizer
    with _lock:
        if _tokenizer is None:
            # jieba attaches its own stderr handler at DEBUG level; keep start-up quiet.
            logging.getLogger("jieba").setLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.tmp_dir = _private_cache_dir()
            # The cache holds jieba's main dictionary only; name it by jieba version.
            tokenizer.cache_file = f"weibao-jieba-{jieba.__version__}.cache"
            tokenizer.initialize()
            words = _dictionary_bytes().decode("utf-8")
            for line in words.splitlines():
                word, freq, tag = (line.split() + [None, None])[:3]
                if word:
                    tokenizer.add_word(word, int(freq) if freq else None, tag)
            _tokenizer = tokenizer
        return _tokenizer


_warm_up_thread = None


def warm_up():
    """Build the tokenizer now (jieba's dictionary plus ours): 6–9 s and ~90 MB the first time.

    Called at start-up so no search request pays for it; later calls return at once.
    """
    try:
        _get_tokenizer()
    except Exception:  # a broken cache directory must not kill start-up; the first search retries
        log.exception("jieba warm-up failed; the first search will load the dictionary")


def start_warm_up():
    """Warm the tokenizer in a background daemon thread, once per process; return the thread."""
    global _warm_up_thread
    with _lock:
        if _warm_up_thread is None and _tokenizer is None:
            _warm_up_thread = threading.Thread(target=warm_up, name="weibao-jieba-warm-up", daemon=True)
            _warm_up_thread.start()
        return _warm_up_thread


def dictionary_fingerprint():
    """Return a short hash of the shipped dictionary; store it to know when to re-index."""
    return hashlib.sha256(_dictionary_bytes()).hexdigest()[:12]


def _normalise(text):
    # NFKC folds full-width ＬＩＳ / ２０２６ typed by Chinese IMEs into ASCII.
    return unicodedata.normalize("NFKC", text).lower()


def _terms(text, *, split_codes):
    tokenizer = None
    terms = []
    for match in _TOKEN_RE.finditer(_normalise(text)):
        kind = match.lastgroup
        token = match.group()
        if kind == "han":
            tokenizer = tokenizer or _get_tokenizer()
            terms.extend(t for t in tokenizer.cut_for_search(token) if _HAN_TOKEN_RE.match(t))
        elif kind == "code":
            terms.append(token)
            if split_codes:
                parts = [p for p in _CODE_PARTS_RE.split(token) if p]
                if len(parts) > 1:
                    terms.extend(parts)
        else:
            terms.append(token)
    return terms


def index_terms(text):
    """Segment text for indexing: search-mode words, lower-cased, codes whole plus their parts."""
    return _terms(text, split_codes=True)


def query_terms(query):
    """Segment a search query the way ``index_terms`` segments documents; distinct, in order."""
    terms = list(dict.fromkeys(_terms(query[:MAX_QUERY_CHARS], split_codes=False)))
    # Single Chinese characters left over by jieba (不, 时, 的) match nearly every article;
    # drop them unless the query consists of nothing else.
    longer = [t for t in terms if len(t) > 1 or not _HAN_TOKEN_RE.match(t)]
    return (longer or terms)[:MAX_QUERY_TERMS]


def to_index_string(text):
    """Return the space-joined index terms, ready for an FTS5 column or to_tsvector('simple')."""
    return " ".join(index_terms(text))


def fts5_match_expression(query, *, require_all=False):
    """Build a safe FTS5 MATCH string from a user query, or None when it has no terms.

    Every term is a double-quoted FTS5 string (quotes doubled), so operators, column filters
    and syntax characters in the query are inert. Terms are joined with OR by default: jieba's
    search mode yields overlapping pieces (医保结算 -> 医保, 结算, 医保结算) and a user's words
    rarely all appear in the one article that helps, so AND would miss partial matches. Ranking
    stays AND-ish anyway: bm25 adds up the score of every matched term, so articles matching
    more (and rarer) terms come first. ``require_all=True`` gives strict AND for callers that
    want to try a precise query before falling back.
    """
    terms = query_terms(query or "")
    return fts5_expression(terms, require_all) if terms else None


def fts5_expression(terms, require_all):
    """An FTS5 MATCH string of already segmented *terms*, each quoted (operators, column filters
    and syntax characters in them stay inert)."""
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    return (" AND " if require_all else " OR ").join(quoted)
