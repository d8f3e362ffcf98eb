"""Ticket full-text search through the knowledge base's segmented index (bench bottleneck 5).

``title LIKE '%q%'`` read every visible ticket and never found words in descriptions. Titles and
descriptions are now segmented like knowledge-base articles (``knowledge_base.segment``: jieba
search mode, so two-character words such as 挂号 and 医保 are found; Latin codes kept whole) and
kept in a portal.text_index ``TextIndex``:

* SQLite: an FTS5 table ``ticket_search(title, body)`` keyed by the ticket id (rowid), created with
  ``segment.FTS5_TOKENIZE``.
* PostgreSQL: ``ticket_search_index(ticket_id PK, document tsvector)`` with a GIN index;
  ``document`` is ``to_tsvector('simple', title) || to_tsvector('simple', description)`` (no
  weights: matches are listed newest first, not ranked).

Searching yields a condition on ``Ticket.id`` that callers AND with their scoped query, so the
organisation scoping and keyset pagination stay exactly as they are. Every term of the query
must match (a search box that filters a list; the knowledge base's OR fallback is for ranking).
Writers call ``index_ticket`` inside the transaction that creates a ticket or changes its title
or description (service.create_checked, the admin edit), ``remove_ticket`` when one is deleted.
"""

from peewee import SQL
from playhouse.sqlite_ext import RowIDField

from knowledge_base import segment
from portal.db import BaseModel
from portal.db import is_postgres
from portal.text_index import TextIndex
from portal.text_index import tsquery_sql
from portal.tickets.models import Ticket

FTS_TABLE = "ticket_search"
PG_TABLE = "ticket_search_index"
#: Index at most this many characters of a description (bounds the tsvector; a title is ≤ 200).
MAX_INDEX_CHARS = 100_000
BACKFILL_BATCH = 500
#: Longer queries are cut (the segmenter cuts at the same length).
MAX_QUERY_CHARS = segment.MAX_QUERY_CHARS
INDEX = TextIndex(fts_table=FTS_TABLE, pg_table=PG_TABLE, key="ticket_id", parent=Ticket._meta.table_name,
                  tokenize=segment.FTS5_TOKENIZE)


def create_index(database=None):
    """Create the search index of the bound backend (idempotent)."""
    INDEX.create()


def index_strings(title, description):
    """(title, body) index strings of a ticket's text."""
    return (segment.to_index_string(title or "")[:MAX_INDEX_CHARS],
            segment.to_index_string((description or "")[:MAX_INDEX_CHARS])[:MAX_INDEX_CHARS])


def write_rows(rows, replace=True):
    """Write (ticket_id, title_string, body_string) rows; ``replace`` drops old rows first."""
    INDEX.write(rows, replace=replace)


def index_ticket(ticket):
    """Put *ticket* into the index or refresh it; call inside the transaction that writes it."""
    write_rows([(ticket.id, *index_strings(ticket.title, ticket.description))])


def remove_ticket(ticket_id):
    """Take a ticket out of the index; call inside the transaction that deletes it."""
    INDEX.remove(ticket_id)


def clear_index():
    """Empty the index (rebuild fills it again)."""
    INDEX.clear()


def rebuild(batch_size=BACKFILL_BATCH):
    """Re-index every ticket in id order and batches (one pass, no per-batch anti-join); return
    the count. Runs in the caller's transaction (the migration's)."""
    clear_index()
    count = INDEX.backfill(Ticket.select(Ticket.id, Ticket.title, Ticket.description),
                           lambda batch: [(t.id, *index_strings(t.title, t.description)) for t in batch], batch_size)
    INDEX.optimize()
    return count


def create_and_backfill(database=None):
    """The migration: create the index and put every existing ticket into it."""
    create_index(database)
    rebuild()


class _IndexRow(BaseModel):
    """The SQLite FTS5 table's rowid (= ticket id), so a query can be driven by the index."""

    rowid = RowIDField()

    class Meta:
        table_name = FTS_TABLE


def search_values(text):
    """(shape, values) of a search for *text*, for ``narrowed`` and prepared queries: the number
    of terms decides the SQL, the terms (or SQLite's match expression) are its values; ``None``
    when *text* has no searchable term."""
    terms = segment.query_terms(text or "")
    if not terms:
        return None
    if is_postgres():
        return ("terms", len(terms)), {f"term{index}": term for index, term in enumerate(terms)}
    return ("match",), {"match": segment.fts5_expression(terms, require_all=True)}


def narrowed(query, shape, values):
    """(*query* narrowed by ``search_values``' shape and values, the column to order it by).

    On SQLite the full-text index drives: it yields matches newest first (rowid descending) and
    stops once a page is full, where ``id IN (matches)`` built the list of every match first —
    130 k ids for 挂号 at 1 M tickets. PostgreSQL cannot read a GIN index in order and plans
    both shapes alike, so it keeps the ``IN`` condition.
    """
    if shape[0] == "terms":
        return query.where(_having_all([values[f"term{index}"] for index in range(shape[1])])), Ticket.id
    # .objects(): the rows are plain tickets; peewee's per-join row assembly doubled the cost.
    narrowed_query = (query.join(_IndexRow, on=(_IndexRow.rowid == Ticket.id))
                      .where(SQL(f"{FTS_TABLE} MATCH ?", [values["match"]])).objects())
    return narrowed_query, _IndexRow.rowid


def matching(query):
    """A condition on ``Ticket.id`` for tickets whose title or description has every term of
    *query*; ``None`` when the query has no searchable term (punctuation only, …)."""
    terms = segment.query_terms(query or "")
    return _having_all(terms) if terms else None


def _having_all(terms):
    """``Ticket.id IN`` the tickets whose index entry has every one of *terms*."""
    if is_postgres():
        tsquery = tsquery_sql(len(terms), require_all=True)
        return Ticket.id.in_(SQL(f"(SELECT {INDEX.key} FROM {PG_TABLE} WHERE document @@ {tsquery})", terms))
    expression = segment.fts5_expression(terms, require_all=True)
    return Ticket.id.in_(SQL(f"(SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?)", [expression]))
