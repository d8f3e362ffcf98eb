"""A full-text index of pre-segmented text, one interface on SQLite and PostgreSQL.

Callers segment their text themselves (knowledge_base.segment: space-separated words) and hand
this module one string per text column:

* SQLite: an FTS5 table ``<fts_table>(<columns>)`` keyed by the owner's id (rowid), created with
  the caller's ``tokenize`` option.
* PostgreSQL: a table ``<pg_table>(<key> INTEGER PK REFERENCES <parent>(id) ON DELETE CASCADE,
  document tsvector)`` with a GIN index ``<pg_table>_document``; ``document`` concatenates
  ``to_tsvector('simple', column)`` of every column, each ``setweight`` when weights are given.
  ``separate`` columns also fill a ``<column>_document`` tsvector of their own (the owner adds
  that column and its index in its own migration).

The owner keeps what is its own: what goes into the strings, how matches are ranked or filtered.
Writes run in the caller's transaction.
"""

from dataclasses import dataclass

from portal.db import db
from portal.db import is_postgres


@dataclass(frozen=True)
class TextIndex:
    """One full-text index: where it lives on each backend and which text columns it holds."""

    fts_table: str  # SQLite FTS5 table
    pg_table: str  # PostgreSQL tsvector table
    key: str  # PostgreSQL key column (SQLite uses the rowid)
    parent: str  # the table whose id the key is
    tokenize: str  # FTS5 tokenize option
    columns: tuple = ("title", "body")
    weights: tuple | None = None  # PostgreSQL setweight label per column ("A", "B", …), or none
    separate: tuple = ()  # PostgreSQL: columns that also fill a <column>_document tsvector

    def create(self):
        """Create the index table of the bound backend (idempotent)."""
        if is_postgres():
            db.execute_sql(
                f"CREATE TABLE IF NOT EXISTS {self.pg_table} ("
                f" {self.key} INTEGER PRIMARY KEY REFERENCES {self.parent}(id) ON DELETE CASCADE,"
                " document tsvector NOT NULL)"
            )
            db.execute_sql(
                f"CREATE INDEX IF NOT EXISTS {self.pg_table}_document ON {self.pg_table} USING GIN (document)"
            )
        else:
            tokenize = self.tokenize.replace('"', '""')
            db.execute_sql(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {self.fts_table}"
                f' USING fts5({", ".join(self.columns)}, tokenize="{tokenize}")'
            )

    def write(self, rows, replace=True):
        """Write (key, *column strings) rows; ``replace`` drops old rows first (an upsert on PostgreSQL)."""
        rows = list(rows)
        if not rows:
            return
        if is_postgres():
            self._write_postgres(rows)
            return
        cursor = db.cursor()
        if replace:
            cursor.executemany(f"DELETE FROM {self.fts_table} WHERE rowid = ?", [(row[0],) for row in rows])
        placeholders = ", ".join("?" * (len(self.columns) + 1))
        cursor.executemany(
            f"INSERT INTO {self.fts_table} (rowid, {', '.join(self.columns)}) VALUES ({placeholders})", rows
        )

    def _write_postgres(self, rows):
        parts = [
            f"setweight(to_tsvector('simple', %s), '{self.weights[index]}')" if self.weights
            else "to_tsvector('simple', %s)"
            for index in range(len(self.columns))
        ]
        # One row: (key, document, then each separate column's own tsvector).
        row_sql = "(%s, " + ", ".join([" || ".join(parts)] + ["to_tsvector('simple', %s)"] * len(self.separate)) + ")"
        targets = ["document"] + [f"{column}_document" for column in self.separate]
        separate = [self.columns.index(column) + 1 for column in self.separate]
        values = ", ".join([row_sql] * len(rows))
        params = [value for row in rows for value in (*row, *(row[index] for index in separate))]
        updates = ", ".join(f"{target} = EXCLUDED.{target}" for target in targets)
        db.execute_sql(
            f"INSERT INTO {self.pg_table} ({self.key}, {', '.join(targets)}) VALUES {values}"
            f" ON CONFLICT ({self.key}) DO UPDATE SET {updates}",
            params,
        )

    def remove(self, key):
        """Take one row out of the index."""
        if is_postgres():
            db.execute_sql(f"DELETE FROM {self.pg_table} WHERE {self.key} = %s", (key,))
        else:
            db.execute_sql(f"DELETE FROM {self.fts_table} WHERE rowid = ?", (key,))

    def clear(self):
        """Empty the index."""
        db.execute_sql(f"DELETE FROM {self.pg_table if is_postgres() else self.fts_table}")

    def backfill(self, query, rows_for, batch_size=500):
        """Write ``rows_for(batch)`` for every row of *query* (a peewee model select), in id order and
        batches (keyset, one pass); return the count. The index is expected empty (``clear``)."""
        model = query.model
        count, last_id = 0, 0
        while True:
            batch = list(query.where(model.id > last_id).order_by(model.id).limit(batch_size))
            if not batch:
                return count
            self.write(rows_for(batch), replace=False)
            count += len(batch)
            last_id = batch[-1].id

    def optimize(self):
        """Merge the FTS5 segments after a bulk load (SQLite); refresh planner statistics (PostgreSQL)."""
        if is_postgres():
            db.execute_sql(f"ANALYZE {self.pg_table}")
        else:
            db.execute_sql(f"INSERT INTO {self.fts_table} ({self.fts_table}) VALUES ('optimize')")


def tsquery_sql(count, require_all):
    """A parenthesised tsquery of *count* ``plainto_tsquery('simple', %s)`` parameters."""
    joiner = " && " if require_all else " || "
    return "(" + joiner.join(["plainto_tsquery('simple', %s)"] * count) + ")"
