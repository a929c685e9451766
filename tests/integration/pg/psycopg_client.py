"""psycopg 3 (Debian's python3-psycopg) against a running kalamdb-server's Postgres door.

Usage: python3 psycopg_client.py <pg port> <root password>
The users alice and carol (passwords alice-password, carol-password) must exist. Each check
prints its name; the first failure raises, so the exit status says whether all passed.
"""
import datetime
import os
import decimal
import sys
import threading
import time
import uuid

import psycopg
from psycopg import errors
from psycopg.types.json import Json

PORT = int(sys.argv[1])
ROOT_PASSWORD = sys.argv[2]
NS = f"py{os.getpid()}"  # a namespace of this run's own


def connect(user, password, **kwargs):
    return psycopg.connect(host="127.0.0.1", port=PORT, user=user, password=password, dbname="kalam",
                           connect_timeout=10, **kwargs)


def check(name):
    def run(fn):
        fn()
        print("ok", name, flush=True)
    return run


root = connect("root", ROOT_PASSWORD, autocommit=True)
root.execute(f"CREATE NAMESPACE {NS}")
root.execute(f"CREATE SHARED TABLE IF NOT EXISTS {NS}.every (id BIGINT PRIMARY KEY, small SMALLINT, i INT, "
             "f FLOAT, d DOUBLE, ok BOOLEAN, name TEXT, raw BYTES, happened TIMESTAMP, born DATE, tod TIME, "
             "amount DECIMAL(12,3), u UUID, doc JSON)")
root.execute(f"CREATE USER TABLE IF NOT EXISTS {NS}.notes (id BIGINT PRIMARY KEY, body TEXT)")
root.execute(f"CREATE SHARED TABLE IF NOT EXISTS {NS}.counter (id INT PRIMARY KEY, n BIGINT)")

ROW = dict(small=-32768, i=2147483647, f=1.5, d=-2.25e300, ok=True, name="it's ünïcode \\ 'quoted'",
           raw=b"\x00\x01'\\\xff", happened=datetime.datetime(2026, 12, 3, 4, 5, 6, 789012),
           born=datetime.date(1999, 12, 31), tod=datetime.time(23, 59, 58, 123456),
           amount=decimal.Decimal("-123456789.125"), u=uuid.UUID("0b7c5a52-5f3e-4c5a-9a57-0c1d2e3f4a5b"),
           doc={"a": [1, 2, {"b": None}], "c": "d"})
COLUMNS = list(ROW)


@check("parameters of every type, text and binary, both ways")
def _():
    for key, binary in ((2**62 + 3, False), (2**62 + 4, True)):
        placeholder = "%b" if binary else "%s"
        values = [ROW[c] if c != "doc" else Json(ROW[c]) for c in COLUMNS]
        root.execute(f"INSERT INTO {NS}.every (id, {', '.join(COLUMNS)}) VALUES ({placeholder}, "
                     + ", ".join([placeholder] * len(COLUMNS)) + ")", [key] + values)
        for binary_results in (False, True):
            cur = root.cursor(binary=binary_results)
            cur.execute(f"SELECT id, {', '.join(COLUMNS)} FROM {NS}.every WHERE id = {placeholder}", [key])
            got = cur.fetchone()
            assert got[0] == key, (got[0], key)  # BIGINT past 2^53, exact
            for column, value in zip(COLUMNS, got[1:]):
                assert value == ROW[column], (column, binary, binary_results, value, ROW[column])
    # A timestamp with a zone is stored as its UTC time.
    aware = datetime.datetime(2026, 1, 1, 0, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    root.execute(f"INSERT INTO {NS}.every (id, happened) VALUES (%s, %s)", [8, aware])
    got = root.execute(f"SELECT happened FROM {NS}.every WHERE id = 8").fetchone()[0]
    assert got == datetime.datetime(2025, 12, 31, 23, 30), got
    # NULLs both ways.
    root.execute(f"INSERT INTO {NS}.every (id, name, amount) VALUES (%s, %s, %s)", [7, None, None])
    got = root.execute(f"SELECT name, amount, raw FROM {NS}.every WHERE id = %b", [7], binary=True).fetchone()
    assert got == (None, None, None), got


@check("a server-side prepared statement reused 1,000 times")
def _():
    with connect("root", ROOT_PASSWORD, autocommit=True) as conn:
        for i in range(1000):
            got = conn.execute(f"SELECT %s::BIGINT * 2, name FROM {NS}.every WHERE id = %s", [i, 2**62 + 3],
                               prepare=True).fetchone()
            assert got[0] == i * 2 and got[1] == ROW["name"], got
        assert len(conn._prepared._names) >= 1  # prepared once, then reused by name


@check("transactions: commit, rollback, conflict")
def _():
    root.execute(f"INSERT INTO {NS}.counter (id, n) VALUES (1, 0), (2, 0) ON CONFLICT (id) DO NOTHING")
    with connect("alice", "alice-password") as conn:  # psycopg opens a transaction itself
        conn.execute(f"INSERT INTO {NS}.notes (id, body) VALUES (1, 'kept')")
        conn.commit()
        conn.execute(f"INSERT INTO {NS}.notes (id, body) VALUES (2, 'dropped')")
        conn.rollback()
        ids = [r[0] for r in conn.execute(f"SELECT id FROM {NS}.notes ORDER BY id").fetchall()]
        assert ids == [1], ids
    a = connect("root", ROOT_PASSWORD)
    b = connect("root", ROOT_PASSWORD)
    a.execute(f"UPDATE {NS}.counter SET n = n + 1 WHERE id = 2")
    b.execute(f"UPDATE {NS}.counter SET n = n + 10 WHERE id = 2")
    a.commit()
    try:
        b.commit()
        raise AssertionError("the second writer of the row committed")
    except errors.SerializationFailure:
        pass
    assert root.execute(f"SELECT n FROM {NS}.counter WHERE id = 2").fetchone()[0] == 1
    # An error inside a transaction fails it until rollback.
    with connect("alice", "alice-password") as conn:
        try:
            conn.execute(f"SELECT * FROM {NS}.nowhere")
            raise AssertionError("no error")
        except errors.UndefinedTable:
            pass
        try:
            conn.execute("SELECT 1")
            raise AssertionError("a failed transaction ran a statement")
        except errors.InFailedSqlTransaction:
            pass
        conn.rollback()
        assert conn.execute("SELECT 1").fetchone()[0] == 1


@check("two users see only their own rows")
def _():
    with connect("carol", "carol-password", autocommit=True) as conn:
        conn.execute(f"INSERT INTO {NS}.notes (id, body) VALUES (%s, %s)", [1, "carol's"])
        rows = conn.execute(f"SELECT id, body FROM {NS}.notes").fetchall()
        assert rows == [(1, "carol's")], rows
    with connect("alice", "alice-password", autocommit=True) as conn:
        rows = conn.execute(f"SELECT id, body FROM {NS}.notes").fetchall()
        assert rows == [(1, "kept")], rows
        names = [r[0] for r in conn.execute("SELECT username FROM system.users").fetchall()]
        assert names == ["alice"], names  # a user sees only itself
        try:
            conn.execute("SELECT * FROM system.jobs")
            raise AssertionError("a user read system.jobs")
        except errors.InsufficientPrivilege:
            pass


@check("errors carry their SQLSTATE")
def _():
    try:
        root.execute(f"INSERT INTO {NS}.counter (id, n) VALUES (1, 5)")
        raise AssertionError("duplicate key inserted")
    except errors.UniqueViolation:
        pass
    try:
        root.execute("SELEC 1")
        raise AssertionError("bad SQL ran")
    except errors.SyntaxError:
        pass
    try:
        psycopg.connect(host="127.0.0.1", port=PORT, user="alice", password="wrong", dbname="kalam")
        raise AssertionError("a wrong password signed in")
    except psycopg.OperationalError as e:
        assert "password authentication failed" in str(e), e


@check("cancel of a long query")
def _():
    with connect("alice", "alice-password", autocommit=True) as conn:
        timer = threading.Timer(0.5, conn.cancel)
        timer.start()
        started = time.monotonic()
        try:
            conn.execute("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r")
            raise AssertionError("the endless query ended")
        except errors.QueryCanceled:
            pass
        assert time.monotonic() - started < 10
        assert conn.execute("SELECT 41 + 1").fetchone()[0] == 42  # the connection goes on


@check("a server-side cursor is refused clearly, the session goes on")
def _():
    with connect("alice", "alice-password") as conn:
        try:
            with conn.cursor(name="c") as cur:
                cur.execute("SELECT 1")
                cur.fetchall()
        except psycopg.Error:
            pass
        conn.rollback()
        assert conn.execute("SELECT 1").fetchone()[0] == 1

print("all passed")
