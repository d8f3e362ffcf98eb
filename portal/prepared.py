"""Queries whose SQL is written once per shape and then run with new values.

peewee writes a query's SQL anew on every execution, walking every node of it: for the reads that
every request makes (the session's user, the API token, the unread count, the ticket lists) that
walk cost more than the database took to answer them (57 % of an API list request at 100k tickets,
bench/README.md). A prepared query is built once per *shape* with stand-in values; its SQL and
the places of the stand-ins among its parameters are kept, and each call puts the real values in
those places and runs the same SQL. Rows come back through the query's own cursor wrapper, so a
call yields what iterating the peewee query would. The wrapper's column layout (which column goes
to which model, through which converter) is worked out from the cursor on its first row, anew for
every execution: half of loading the session's user with its organisation. It depends only on the
SQL, so it is kept with the shape and given to each new wrapper.

The build function receives the values as keyword arguments and must use them only as SQL values
(``Ticket.hospital == hospital_id``, ``.limit(limit)``), never to choose the query's structure:
what chooses the structure (a role, which filters are present) goes in the shape. Values are ints
and strings; ``None`` and booleans change the SQL peewee writes (``IS NULL``), so they belong in the
shape too. A stand-in the SQL does not carry (the build ignored or transformed it) is refused when
the shape is first compiled, loudly, rather than run with a wrong value.
"""

import threading

from peewee import ModelCursorWrapper
from peewee import ModelDictCursorWrapper
from peewee import ModelObjectCursorWrapper
from peewee import ModelTupleCursorWrapper

from portal.db import db

#: Stand-in values no caller passes: ints far outside any id, strings with NUL bytes.
_INT_STAND_IN = -(2**62)
#: Shapes kept per query. A page's shapes are few (roles × filters used), but a user can ask for
#: any combination of list filters: past this many the oldest shape is dropped, not memory grown.
MAX_SHAPES = 256
#: peewee's wrappers whose layout is read from the cursor's description alone. Not the named-tuple
#: wrapper: its row class is a closure over the first wrapper.
LAYOUT_FROM_DESCRIPTION = frozenset({ModelCursorWrapper, ModelObjectCursorWrapper, ModelTupleCursorWrapper,
                                     ModelDictCursorWrapper})


def _stand_in(index, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"prepared value {name}={value!r}: only ints and strings are values; put the rest in the shape")
    return _INT_STAND_IN - index if isinstance(value, int) else f"\x00prepared:{name}\x00"


class Prepared:
    """A query built by *build(shape, **values)*, compiled once per shape and database kind."""

    def __init__(self, build):
        self.build = build
        self._compiled = {}
        self._lock = threading.Lock()

    def __call__(self, shape=None, **values):
        """Run the query of *shape* with *values*; return its rows as the peewee query would."""
        compiled, cursor = self._execute(shape, values)
        wrapper = compiled[0]._get_cursor_wrapper(cursor)
        if type(wrapper) not in LAYOUT_FROM_DESCRIPTION:
            return wrapper
        layout = compiled[4]  # kept with the shape's SQL, and dropped with it
        if not layout:
            unset = dict(wrapper.__dict__)
            wrapper.initialize()  # what peewee does on the first row
            # filled in one step (a dict's update from a dict): another thread reads it whole or empty
            layout.update({name: value for name, value in wrapper.__dict__.items()
                           if name not in unset or unset[name] is not value})
        else:
            wrapper.__dict__.update(layout)
        wrapper.initialized = True
        return wrapper

    def as_stored(self, shape=None, **values):
        """The rows as the database driver returns them, without peewee's cursor wrapper (a
        converter call per column and row): for a query of tuples whose every column is read
        unconverted (``coerce(False)``), where stored booleans are 0/1 on SQLite."""
        return self._execute(shape, values)[1].fetchall()

    def _execute(self, shape, values):
        database = db.obj
        key = (type(database), shape, tuple(sorted((name, type(value)) for name, value in values.items())))
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(database, shape, values)
                if key not in self._compiled and len(self._compiled) >= MAX_SHAPES:
                    del self._compiled[next(iter(self._compiled))]
                self._compiled[key] = compiled
        _query, sql, params, places, _layout = compiled
        params = list(params)
        for index, name in places:
            params[index] = values[name]
        return compiled, database.execute_sql(sql, params)

    def first(self, shape=None, **values):
        """The first row, or None."""
        return next(iter(self(shape, **values)), None)

    def scalar(self, shape=None, **values):
        """The first column of the first row of a query of tuples (a count), or None."""
        row = self.first(shape, **values)
        return None if row is None else row[0]

    def _compile(self, database, shape, values):
        stand_ins = {name: _stand_in(index, name, value) for index, (name, value) in enumerate(sorted(values.items()))}
        query = self.build(shape, **stand_ins)
        sql, params = database.get_sql_context().sql(query).query()
        by_stand_in = {stand_in: name for name, stand_in in stand_ins.items()}
        places = tuple((index, by_stand_in[param]) for index, param in enumerate(params)
                       if isinstance(param, (int, str)) and not isinstance(param, bool) and param in by_stand_in)
        missing = set(stand_ins) - {name for _, name in places}
        if missing:
            raise ValueError(f"{self.build.__qualname__}: the SQL does not carry {sorted(missing)} as parameters")
        return query, sql, tuple(params), places, {}  # the last: the cursor wrapper's layout, on first use


def prepared(build):
    """Decorate a query builder ``build(shape, **values)`` as a :class:`Prepared` query."""
    return Prepared(build)
