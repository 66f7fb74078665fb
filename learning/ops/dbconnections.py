"""Pooled PostgreSQL connections checked without a round trip.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` each time a connection leaves the
pool: on every request, and with psycopg it opens a transaction, so a lesson page
paid a BEGIN and a SELECT 1 before its own statements. A connection in the pool is
idle, and on an idle connection the server speaks only to end it (a restart, an
administrator's terminate, an idle timeout: it sends its farewell and closes). So a
connection whose socket has something to read, or is closed, is stale; looking costs
one ``poll`` call. Raising ``DisconnectionError`` at checkout makes the pool drop it
and hand out a fresh one (SQLAlchemy retries the checkout).

A server that vanished without closing its sockets (a cut cable) is not seen here,
as ``SELECT 1`` would have waited on it too; the first statement then fails and the
pool is emptied, as SQLAlchemy does on any disconnect.
"""

from __future__ import annotations

import collections
import select
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from learning.extensions import db

_TROUBLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL


def server_has_hung_up(dbapi_connection) -> bool:
    """True when an idle connection's socket is readable, closed or in error."""
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:
        return False  # not a socket-backed driver (SQLite): nothing to look at
    try:
        descriptor = fileno()
    except Exception:  # noqa: BLE001  (psycopg raises its own error for a closed connection)
        return True
    poller = select.poll()
    poller.register(descriptor, _TROUBLE)
    return bool(poller.poll(0))


def _on_checkout(dbapi_connection, _record, _proxy) -> None:
    if server_has_hung_up(dbapi_connection):
        raise sa.exc.DisconnectionError("the database server closed this connection")


def watch(engine: sa.Engine) -> None:
    """Drop stale pooled connections of ``engine`` as they are checked out."""
    sa.event.listen(engine, "checkout", _on_checkout)


@contextmanager
def lone_connection(engine: sa.Engine | None = None) -> Iterator[sa.Connection]:
    """A pooled connection for a read, or a write committed alone, that needs no
    transaction of its own.

    The session's transaction costs PostgreSQL two round trips (BEGIN, then ROLLBACK at
    the end of the request) around a page's one SELECT; in autocommit mode that SELECT
    is sent alone. Objects made from the rows may be attached to the session: anything
    the request reads or writes after this runs in the session's own transaction, as
    before. (SQLite starts no transaction for a SELECT: its connection is left as is.)
    """
    engine = engine or db.engine
    options = {} if engine.dialect.name == "sqlite" else {"isolation_level": "AUTOCOMMIT"}
    with engine.connect().execution_options(**options) as connection:
        yield connection


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> {statement: ...}
_CURSOR = "waymark_driver_cursor"  # in a pooled connection's info: its kept cursor


class DriverStatement:
    """A Core statement compiled once for an engine, sent alone on a pooled DBAPI connection.

    SQLAlchemy's execution path (the cache key walk, the execution context, the result
    object) costs more than a small indexed SELECT or UPDATE itself; the lesson fast path
    sends one per page, an answer save or submit one of each. Values are sent and rows
    come back typed as SQLAlchemy would do it (a row's columns by name too), and on
    PostgreSQL the statement runs in autocommit, as in ``lone_connection``: no BEGIN, no
    ROLLBACK. While anything listens to the engine's statements (a statement counter in
    the tests, a tracer), it goes through SQLAlchemy instead, so they see it.
    """

    def __init__(self, statement: sa.Executable, engine: sa.Engine) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.statement = statement
        self.engine = engine
        self.sql = compiled.string
        self.positions = compiled.positiontup  # None for named parameters (psycopg)
        # Values the statement carries itself (a LIMIT, a literal compared against)
        self.fixed = {key: value for key, value in compiled.params.items()
                      if value is not None}
        binders = {name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                   for name in compiled.params}
        self.binders = {name: bind for name, bind in binders.items() if bind is not None}
        self.autocommit = dialect.name != "sqlite"
        columns = list(getattr(statement, "selected_columns", ()))
        self.row_type = collections.namedtuple("Row", [column.key for column in columns],
                                               rename=True)
        processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                      for column in columns]
        self.processors = [(index, process) for index, process in enumerate(processors)
                           if process is not None]

    @classmethod
    def of(cls, statement: sa.Executable, engine: sa.Engine | None = None) -> DriverStatement:
        """The ``DriverStatement`` of ``statement`` for ``engine`` (the app's by default),
        compiled on first use and kept as long as the engine lives."""
        engine = engine or db.engine
        compiled = _COMPILED.get(engine)
        if compiled is None:
            compiled = _COMPILED.setdefault(engine, {})
        found = compiled.get(statement)
        if found is None:
            found = compiled.setdefault(statement, cls(statement, engine))
        return found

    def _listened(self) -> bool:
        dispatch = self.engine.dispatch
        return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)

    def _values(self, params: dict):
        if self.fixed or self.binders:
            params = {**self.fixed, **params}
            for name, bind in self.binders.items():
                if name in params:
                    params[name] = bind(params[name])
        return tuple(params[name] for name in self.positions) if self.positions else params

    @contextmanager
    def _cursor(self) -> Iterator[tuple[object, object]]:
        """(driver connection, cursor) on a pooled connection, in autocommit on PostgreSQL;
        back in the pool as it was, or thrown away after a database error."""
        pooled = self.engine.raw_connection()
        try:
            driver = pooled.driver_connection
            was = driver.autocommit if self.autocommit else None
            if self.autocommit:
                driver.autocommit = True
            # A psycopg cursor is kept with its connection and used again (making one is
            # a tenth of a small query's cost); SQLite's is closed at once, as an open one
            # would keep its read snapshot.
            cursor = pooled.info.get(_CURSOR) if self.autocommit else None
            if cursor is None:
                cursor = driver.cursor()
                if self.autocommit:
                    pooled.info[_CURSOR] = cursor
            try:
                yield driver, cursor
            finally:
                if not self.autocommit:
                    cursor.close()
                else:
                    driver.autocommit = was
        except self.engine.dialect.loaded_dbapi.Error:
            # This connection is not handed out again; others that the same server restart
            # broke are dropped at their checkout (``watch``).
            pooled.invalidate()
            raise
        finally:
            pooled.close()  # (the pool rolls back whatever was left uncommitted)

    def first(self, params: dict) -> tuple | None:
        """The first row for ``params`` (None when there is none)."""
        if self._listened():
            with lone_connection(self.engine) as connection:
                row = connection.execute(self.statement, params).first()
            return None if row is None else self.row_type._make(row)
        with self._cursor() as (_driver, cursor):
            cursor.execute(self.sql, self._values(params))
            row = cursor.fetchone()
        if row is None:
            return None
        if self.processors:
            row = list(row)
            for index, process in self.processors:
                if row[index] is not None:
                    row[index] = process(row[index])
        return self.row_type._make(row)

    def write(self, params: dict) -> int:
        """Send this UPDATE (INSERT, DELETE) and commit it: the number of rows it matched."""
        if self._listened():
            with lone_connection(self.engine) as connection:
                count = connection.execute(self.statement, params).rowcount
                connection.commit()
            return count
        with self._cursor() as (driver, cursor):
            cursor.execute(self.sql, self._values(params))
            count = cursor.rowcount
            if not self.autocommit:
                driver.commit()
        return count
