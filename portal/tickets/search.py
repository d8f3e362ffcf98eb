"""Ticket full-text search through the knowledge base's segmented index (bench bottleneck 5).

``title LIKE '%q%'`` read every visible ticket and never found words in descriptions. Titles and
descriptions are now segmented like knowledge-base articles (``knowledge_base.segment``: jieba
search mode, so two-character words such as 挂号 and 医保 are found; Latin codes kept whole):

* SQLite: an FTS5 table ``ticket_search(title, body)`` keyed by the ticket id (rowid), created with
  ``segment.FTS5_TOKENIZE``.
* PostgreSQL: ``ticket_search_index(ticket_id PK, document tsvector)`` with a GIN index;
  ``document`` is ``to_tsvector('simple', title) || to_tsvector('simple', description)``.

Searching yields a condition on ``Ticket.id`` that callers AND with their scoped query, so the
organisation scoping and keyset pagination stay exactly as they are. Every term of the query
must match (a search box that filters a list; the knowledge base's OR fallback is for ranking).
Writers call ``index_ticket`` inside the transaction that creates a ticket or changes its title
or description (service.create_checked, the admin edit), ``remove_ticket`` when one is deleted.
"""

from peewee import SQL

from knowledge_base import segment
from portal.db import db
from portal.db import is_postgres
from portal.tickets.models import Ticket

FTS_TABLE = "ticket_search"
PG_TABLE = "ticket_search_index"
#: Index at most this many characters of a description (bounds the tsvector; a title is ≤ 200).
MAX_INDEX_CHARS = 100_000
BACKFILL_BATCH = 500
#: Longer queries are cut (the segmenter cuts at the same length).
MAX_QUERY_CHARS = segment.MAX_QUERY_CHARS


def create_index(database=None):
    """Create the search index of the bound backend (idempotent)."""
    if is_postgres():
        db.execute_sql(
            f"CREATE TABLE IF NOT EXISTS {PG_TABLE} ("
            f" ticket_id INTEGER PRIMARY KEY REFERENCES {Ticket._meta.table_name}(id) ON DELETE CASCADE,"
            " document tsvector NOT NULL)"
        )
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {PG_TABLE}_document ON {PG_TABLE} USING GIN (document)")
    else:
        tokenize = segment.FTS5_TOKENIZE.replace('"', '""')
        db.execute_sql(f'CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, body, tokenize="{tokenize}")')


def index_strings(title, description):
    """(title, body) index strings of a ticket's text."""
    return (segment.to_index_string(title or "")[:MAX_INDEX_CHARS],
            segment.to_index_string((description or "")[:MAX_INDEX_CHARS])[:MAX_INDEX_CHARS])


def write_rows(rows, replace=True):
    """Write (ticket_id, title_string, body_string) rows; ``replace`` drops old rows first."""
    rows = list(rows)
    if not rows:
        return
    if is_postgres():
        values = ", ".join(["(%s, to_tsvector('simple', %s) || to_tsvector('simple', %s))"] * len(rows))
        db.execute_sql(
            f"INSERT INTO {PG_TABLE} (ticket_id, document) VALUES {values}"
            " ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document",
            [value for row in rows for value in row],
        )
        return
    cursor = db.cursor()
    if replace:
        cursor.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = ?", [(row[0],) for row in rows])
    cursor.executemany(f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (?, ?, ?)", rows)


def index_ticket(ticket):
    """Put *ticket* into the index or refresh it; call inside the transaction that writes it."""
    write_rows([(ticket.id, *index_strings(ticket.title, ticket.description))])


def remove_ticket(ticket_id):
    """Take a ticket out of the index; call inside the transaction that deletes it."""
    if is_postgres():
        db.execute_sql(f"DELETE FROM {PG_TABLE} WHERE ticket_id = %s", (ticket_id,))
    else:
        db.execute_sql(f"DELETE FROM {FTS_TABLE} WHERE rowid = ?", (ticket_id,))


def clear_index():
    db.execute_sql(f"DELETE FROM {PG_TABLE if is_postgres() else FTS_TABLE}")


def rebuild(batch_size=BACKFILL_BATCH):
    """Re-index every ticket in id order and batches (one pass, no per-batch anti-join); return
    the count. Runs in the caller's transaction (the migration's)."""
    clear_index()
    count, last_id = 0, 0
    while True:
        batch = list(Ticket.select(Ticket.id, Ticket.title, Ticket.description)
                     .where(Ticket.id > last_id).order_by(Ticket.id).limit(batch_size))
        if not batch:
            break
        write_rows([(t.id, *index_strings(t.title, t.description)) for t in batch], replace=False)
        count += len(batch)
        last_id = batch[-1].id
    if is_postgres():
        db.execute_sql(f"ANALYZE {PG_TABLE}")
    else:
        db.execute_sql(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')")
    return count


def create_and_backfill(database=None):
    """The migration: create the index and put every existing ticket into it."""
    create_index(database)
    rebuild()


def matching(query):
    """A condition on ``Ticket.id`` for tickets whose title or description has every term of
    *query*; ``None`` when the query has no searchable term (punctuation only, …)."""
    terms = segment.query_terms(query or "")
    if not terms:
        return None
    if is_postgres():
        tsquery = " && ".join(["plainto_tsquery('simple', %s)"] * len(terms))
        return Ticket.id.in_(SQL(f"(SELECT ticket_id FROM {PG_TABLE} WHERE document @@ ({tsquery}))", terms))
    expression = segment.fts5_match_expression(query, require_all=True)
    return Ticket.id.in_(SQL(f"(SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?)", [expression]))
