"""Knowledge-base search: one interface, two backends, visibility enforced inside the query.

Text is segmented in Python (knowledge_base.segment: jieba search mode plus whole Latin codes),
so both backends index the same space-separated words; the index tables are portal.text_index's:

* SQLite: an FTS5 table ``kb_search_fts(title, body)`` keyed by the article id (rowid), created
  with ``segment.FTS5_TOKENIZE``, ranked with bm25 (title weighted ``TITLE_WEIGHT`` times).
* PostgreSQL: a table ``kb_search_index(article_id, document tsvector)`` with a GIN index;
  ``document`` is ``setweight(to_tsvector('simple', title), 'A') || setweight(…body…, 'B')``
  and ranking is ``ts_rank``; ``title_document`` (own GIN index) finds title matches.

Past ``RANK_CANDIDATES`` matches, only the newest matches and the newest title matches are
ranked, which bounds the cost of one-word queries that match most of a large knowledge base.

Callers keep the index in step by calling ``index_article`` / ``remove_article`` inside the
transaction that changes the article (knowledge_base.service does). Snippets are cut from the
article's stored plain text, HTML-escaped, with only our own ``<mark>`` tags.
"""

import html
import re
from dataclasses import dataclass
from dataclasses import field

from peewee import SQL

from knowledge_base import segment
from knowledge_base.models import Article
from knowledge_base.models import ArticleSystem
from knowledge_base.models import KbState
from portal.db import db
from portal.db import is_postgres
from portal.text_index import TextIndex
from portal.text_index import tsquery_sql

FTS_TABLE = "kb_search_fts"
PG_TABLE = "kb_search_index"
TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0
#: Index at most this many characters of an article's searchable text (bounds tsvector size).
MAX_INDEX_CHARS = 200_000
SNIPPET_CHARS = 120
MAX_LIMIT = 50
#: Beyond this many matches, rank the newest ones (and, on SQLite, the best title matches) only.
RANK_CANDIDATES = 1000
FINGERPRINT_KEY = "dictionary_fingerprint"
EDITOR_ROLES = frozenset({"engineer", "manager", "admin"})
INDEX = TextIndex(fts_table=FTS_TABLE, pg_table=PG_TABLE, key="article_id", parent=Article._meta.table_name,
                  tokenize=segment.FTS5_TOKENIZE, weights=("A", "B"), separate=("title",))


# --- who sees what -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visibility:
    """Which articles a user may see; rendered both as a peewee expression and as SQL."""

    everything: bool = False
    public_only: bool = False  # public AND published
    vendor_id: int | None = None  # vendor users: product-wide and their vendor's, plus all public ones
    published_only: bool = True


def visibility_for(user, public_only=False):
    """Return the Visibility rule for *user* (hospital users: public and published only).

    Hospital users are recognised by their organisation's kind and, failing closed, by any
    role other than a vendor role or admin. Drafts are for engineers, managers and admins.
    """
    if public_only:
        return Visibility(public_only=True)
    if user is None or not getattr(user, "is_authenticated", False):
        return Visibility(public_only=True)
    if user.role == "admin":
        return Visibility(everything=True, published_only=False)
    org = user.organization
    if org.kind != "vendor" or user.role not in ("engineer", "manager"):
        return Visibility(public_only=True)
    return Visibility(vendor_id=org.id, published_only=user.role not in EDITOR_ROLES)


def visible_condition(rule, model=Article):
    """Return a peewee condition on *model* for the rule."""
    if rule.everything:
        return SQL("1 = 1")
    if rule.public_only:
        return (model.visibility == "public") & (model.status == "published")
    condition = model.vendor.is_null() | (model.vendor == rule.vendor_id)
    if rule.published_only:
        condition &= model.status == "published"
    # Another vendor's public, published articles are public to everyone.
    return condition | ((model.visibility == "public") & (model.status == "published"))


def _visible_sql(rule, param, alias="a"):
    """The same rule as a raw SQL fragment with parameters (for the search queries)."""
    if rule.everything:
        return "1 = 1", []
    if rule.public_only:
        return f"{alias}.visibility = {param} AND {alias}.status = {param}", ["public", "published"]
    sql = f"({alias}.vendor_id IS NULL OR {alias}.vendor_id = {param})"
    params = [rule.vendor_id]
    if rule.published_only:
        sql += f" AND {alias}.status = {param}"
        params.append("published")
    sql = f"(({sql}) OR ({alias}.visibility = {param} AND {alias}.status = {param}))"
    return sql, [*params, "public", "published"]


def visible_articles(user, public_only=False):
    """Return a query of the articles *user* may see."""
    return Article.select().where(visible_condition(visibility_for(user, public_only)))


# --- the index -----------------------------------------------------------------------------------


def create_index(database=None):
    """Create the search index of the bound backend (a migration calls this)."""
    INDEX.create()
    _set_state(FINGERPRINT_KEY, segment.dictionary_fingerprint())


def add_title_index(database=None):
    """PostgreSQL: a title-only tsvector with its own GIN index, so title matches can be found
    among very many matches (SQLite's FTS5 does this with a column filter)."""
    if is_postgres():
        db.execute_sql(f"ALTER TABLE {PG_TABLE} ADD COLUMN IF NOT EXISTS title_document tsvector")
        db.execute_sql(f"UPDATE {PG_TABLE} SET title_document = ''::tsvector WHERE title_document IS NULL")
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {PG_TABLE}_title ON {PG_TABLE} USING GIN (title_document)")
        if db.execute_sql(f"SELECT 1 FROM {PG_TABLE} LIMIT 1").fetchone():
            _set_state(FINGERPRINT_KEY, "title index added: rebuild")  # existing rows lack titles


def searchable_text(title, body_plain, category="", tags=(), systems=(), summary=""):
    """Return (title index string, body index string) for an article's parts."""
    body = " ".join([category or "", *tags, *systems, summary or "", body_plain or ""])
    return segment.to_index_string(title)[:MAX_INDEX_CHARS], segment.to_index_string(body)[:MAX_INDEX_CHARS]


def article_index_strings(article):
    """Return (title, body) index strings of a saved article."""
    return searchable_text(article.title, article.plain_text, article.category, article.tag_list,
                           article.system_names, article.summary)


def index_article(article):
    """Put *article* into the index (or refresh it); call inside the article's transaction."""
    write_index_rows([(article.id, *article_index_strings(article))], replace=True)


def write_index_rows(rows, replace=True):
    """Write (article_id, title_string, body_string) rows; ``replace`` drops old rows first."""
    INDEX.write(rows, replace=replace)


def remove_article(article_id):
    """Take an article out of the index; call inside the transaction that deletes it."""
    INDEX.remove(article_id)


def clear_index():
    """Empty the index (rebuild_index fills it again)."""
    INDEX.clear()


def _rows_for(articles):
    """Index rows of a batch of articles, with their systems read in one query."""
    systems = {}
    for row in ArticleSystem.select().where(ArticleSystem.article << [a.id for a in articles]).order_by(ArticleSystem.id):
        systems.setdefault(row.article_id, []).append(row.name)
    return [(a.id, *searchable_text(a.title, a.plain_text, a.category, a.tag_list, systems.get(a.id, ()), a.summary))
            for a in articles]


def rebuild_index(batch_size=500):
    """Re-segment every article and rebuild the index in one transaction; return the count."""
    with db.atomic():
        clear_index()
        count = INDEX.backfill(Article.select(), _rows_for, batch_size)
        _set_state(FINGERPRINT_KEY, segment.dictionary_fingerprint())
    optimize_index()
    return count


def optimize_index():
    """Merge the FTS5 segments after a bulk load (SQLite); refresh planner statistics (PostgreSQL)."""
    if is_postgres():
        INDEX.optimize()
        db.execute_sql(f"ANALYZE {Article._meta.table_name}")
    else:
        with db.atomic():
            INDEX.optimize()


def index_is_stale():
    """Tell whether the index was built with another segmentation dictionary than the shipped one."""
    row = KbState.get_or_none(KbState.key == FINGERPRINT_KEY)
    return row is None or row.value != segment.dictionary_fingerprint()


def _set_state(key, value):
    updated = KbState.update(value=value).where(KbState.key == key).execute()
    if not updated:
        KbState.create(key=key, value=value)


# --- searching -----------------------------------------------------------------------------------


@dataclass
class Hit:
    article: Article
    score: float
    parts: list = field(default_factory=list)  # [(text, is_match)] for templates

    @property
    def snippet(self):
        """The snippet as HTML: escaped text, with only our own <mark> tags."""
        return parts_to_html(self.parts)


def _rank_sqlite(expression, where, params, limit, min_rowid=None):
    bounded = f" AND {FTS_TABLE}.rowid >= ?" if min_rowid is not None else ""
    sql = (
        f"SELECT a.id, -bm25({FTS_TABLE}, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS score"
        f" FROM {FTS_TABLE} JOIN {Article._meta.table_name} AS a ON a.id = {FTS_TABLE}.rowid"
        f" WHERE {FTS_TABLE} MATCH ?{bounded} AND {where}"
        f" ORDER BY bm25({FTS_TABLE}, {TITLE_WEIGHT}, {BODY_WEIGHT}) LIMIT ?"
    )
    bound = [min_rowid] if min_rowid is not None else []
    return db.execute_sql(sql, [expression, *bound, *params, limit]).fetchall()


def _cutoff_sqlite(expression):
    """The rowid of the RANK_CANDIDATES-th newest match, or None when there are fewer matches."""
    row = db.execute_sql(
        f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
        (expression, RANK_CANDIDATES - 1),
    ).fetchone()
    return row[0] if row else None


def _ranked_ids_sqlite(expression, rule, limit):
    """bm25 over every match when there are few; otherwise over the newest RANK_CANDIDATES matches
    plus the newest RANK_CANDIDATES title matches (the title weighs most), so a one-word query
    that matches most of a large knowledge base still answers in milliseconds."""
    where, params = _visible_sql(rule, "?")
    cutoff = _cutoff_sqlite(expression)
    if cutoff is None:
        return _rank_sqlite(expression, where, params, limit)
    rows = _rank_sqlite(expression, where, params, limit, min_rowid=cutoff)
    title_expression = f"{{title}} : ({expression})"
    rows += _rank_sqlite(title_expression, where, params, limit, min_rowid=_cutoff_sqlite(title_expression))
    best = {}
    for article_id, score in rows:
        best[article_id] = max(score, best.get(article_id, score))
    return sorted(best.items(), key=lambda item: (-item[1], -item[0]))[:limit]


def _ranked_ids_postgres(terms, rule, limit, require_all):
    """ts_rank over the newest RANK_CANDIDATES matches and the newest RANK_CANDIDATES title matches
    (all of them when there are fewer).

    The planner is kept on the GIN indexes: ``article_id + 0`` stops it walking the primary key
    backwards testing every row, and sequential scans are off for this one statement (a seq scan
    detoasts every tsvector; its cost model does not see that and picked it for frequent words).
    """
    tsquery = tsquery_sql(len(terms), require_all)
    where, params = _visible_sql(rule, "%s")
    sql = (
        f"WITH c AS MATERIALIZED ("
        f"  (SELECT article_id FROM {PG_TABLE} WHERE document @@ {tsquery}"
        f"   ORDER BY article_id + 0 DESC LIMIT %s)"
        f"  UNION"
        f"  (SELECT article_id FROM {PG_TABLE} WHERE title_document @@ {tsquery}"
        f"   ORDER BY article_id + 0 DESC LIMIT %s))"
        f" SELECT a.id, ts_rank(s.document, {tsquery}) AS score"
        f" FROM c JOIN {PG_TABLE} AS s ON s.article_id = c.article_id"
        f" JOIN {Article._meta.table_name} AS a ON a.id = c.article_id"
        f" WHERE {where}"
        f" ORDER BY score DESC, a.id DESC LIMIT %s"
    )
    values = [*terms, RANK_CANDIDATES, *terms, RANK_CANDIDATES, *terms, *params, limit]
    with db.atomic():
        db.execute_sql("SET LOCAL enable_seqscan = off")
        return db.execute_sql(sql, values).fetchall()


def maximal_terms(terms):
    """Drop terms that are part of a longer query term (jieba's search mode yields 打印, 印机 and
    打印机 for 打印机; the index holds all three, so the longest one alone says the same)."""
    return [term for term in terms if not any(term != other and term in other for other in terms)]


def _ranked(query, rule, limit):
    terms = segment.query_terms(query or "")
    if not terms:
        return [], terms
    # First every whole word of the query must match (cheap and precise); when that finds too
    # little, any whole word, then any word or word part counts (OR), ranked so that articles
    # matching more and rarer terms come first.
    strict = maximal_terms(terms)
    attempts = [(strict, True)]
    if len(strict) > 1:
        attempts.append((strict, False))
    if strict != terms:
        attempts.append((terms, False))
    rows = []
    for attempt_terms, require_all in attempts:
        if is_postgres():
            rows = _ranked_ids_postgres(attempt_terms, rule, limit, require_all)
        else:
            rows = _ranked_ids_sqlite(segment.fts5_expression(attempt_terms, require_all), rule, limit)
        if len(rows) >= limit:
            break
    return rows, terms


def search_hits(query, user, limit=10, public_only=False):
    """Return ranked Hits of articles *user* may see (``public_only``: public and published only)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    rows, terms = _ranked(query, visibility_for(user, public_only), limit)
    if not rows:
        return []
    articles = {article.id: article for article in Article.select().where(Article.id << [row[0] for row in rows])}
    return [
        Hit(articles[article_id], float(score), snippet_parts(articles[article_id].plain_text, terms))
        for article_id, score in rows
        if article_id in articles
    ]


def search(query, user, limit=10):
    """Return [(article, score, snippet_html)] ranked best first; visibility applied in the query."""
    return [(hit.article, hit.score, hit.snippet) for hit in search_hits(query, user, limit)]


# --- snippets ------------------------------------------------------------------------------------


def _term_pattern(terms):
    words = sorted({t for t in terms if t}, key=len, reverse=True)
    if not words:
        return None
    # A Latin term must start a word ("lis" is not highlighted inside "Worklist").
    alternatives = [(r"(?<![0-9A-Za-z])" if word[:1].isascii() and word[:1].isalnum() else "") + re.escape(word)
                    for word in words]
    return re.compile("|".join(alternatives), re.IGNORECASE)


def snippet_parts(text, terms, width=SNIPPET_CHARS):
    """Cut a window of *text* around the densest cluster of *terms*: [(text, is_match)]."""
    text = " ".join((text or "").split())
    if not text:
        return []
    pattern = _term_pattern(terms)
    matches = []
    if pattern is not None:
        for match in pattern.finditer(text):
            matches.append(match)
            if len(matches) >= 200:
                break
    start = 0
    if matches:
        best, best_count = matches[0].start(), 0
        for index, match in enumerate(matches):
            window_end = match.start() + width
            found = {m.group().lower() for m in matches[index:] if m.start() < window_end}
            if len(found) > best_count:
                best, best_count = match.start(), len(found)
        start = max(0, best - width // 5)
    end = min(len(text), start + width)
    parts = []
    if start > 0:
        parts.append(("…", False))
    position = start
    for match in matches:
        if match.start() < start or match.end() > end:
            continue
        if match.start() > position:
            parts.append((text[position:match.start()], False))
        if match.start() >= position:
            parts.append((match.group(), True))
            position = match.end()
    if position < end:
        parts.append((text[position:end], False))
    if end < len(text):
        parts.append(("…", False))
    return parts


def parts_to_html(parts):
    """Escape snippet parts and mark the matches: the only tags in the result are <mark>."""
    return "".join(
        f"<mark>{html.escape(text)}</mark>" if is_match else html.escape(text) for text, is_match in parts
    )
