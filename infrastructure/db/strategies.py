"""SQLite/SQL strategy repository: definitions as JSON text, tags in their own table, keyset paging in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from app.strategies.ports import (
    NewStrategy,
    Page,
    PageCursor,
    StrategyNameTaken,
    StrategyNotFound,
    StrategyQuery,
    StrategyRecord,
    StrategySummary,
)
from domain.strategy import Strategy, StrategyInvalid, parse_strategy, strategy_to_dict
from infrastructure.db.errors import storage_errors

metadata = sa.MetaData()
strategies = sa.Table(
    "strategies", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(120, collation="NOCASE"), nullable=False),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
    sa.Column("last_backtest_return", sa.Float),
    sa.Column("last_backtest_trades", sa.Integer),
)
tags = sa.Table(
    "strategy_tags", metadata,
    sa.Column("strategy_id", sa.Integer, nullable=False),
    sa.Column("tag", sa.String(64), nullable=False),
)
meta = sa.Table("strategy_meta", metadata, sa.Column("key", sa.String(64)), sa.Column("value", sa.Text))

s = strategies.c
_SUMMARY = (s.id, s.name, s.direction, s.notes, s.created_ms, s.updated_ms, s.last_backtest_return,
            s.last_backtest_trades)
_SAMPLES_KEY = "samples_loaded"
_SEP = "\x1f"  # tags never contain control characters (validated), so the unit separator splits them
# A list page reads each row's tags in the same statement (a seek in the tags' primary key per row)
# instead of a second query: half the time of a far jump in the list.
_TAG_LIST = (sa.select(sa.func.group_concat(tags.c.tag, _SEP)).where(tags.c.strategy_id == s.id)
             .scalar_subquery())
_LISTED = (*_SUMMARY, _TAG_LIST)


def _listed(rows: Any) -> list[StrategySummary]:
    """StrategySummary from rows of _LISTED (plain tuple unpacking: the fast way through a page)."""
    return [StrategySummary(i, name, direction, tuple(sorted(tag_list.split(_SEP))) if tag_list else (), notes,
                            created, updated, ret, trades)
            for i, name, direction, notes, created, updated, ret, trades, tag_list in rows]


def _row_values(item: NewStrategy, now_ms: int) -> dict[str, Any]:
    return {"name": item.strategy.name, "direction": item.strategy.direction, "notes": item.notes,
            "definition": json.dumps(strategy_to_dict(item.strategy), separators=(",", ":")),
            "updated_ms": now_ms}


# The trigram index over names (migration 0006); absent where SQLite lacks FTS5's trigram tokenizer.
names_index = sa.table("strategy_names", sa.column("rowid", sa.Integer), sa.column("strategy_names", sa.Text))
TRIGRAM = 3  # shorter text has no trigram to look up: those filters scan
RARE = 1_000  # a name filter matching at most this many strategies reads them from the index; more, scans


def _where(query: StrategyQuery, tag_scan: bool = False, name_ids: Sequence[int] | None = None,
           ) -> list[sa.ColumnElement[bool]]:
    """Filters. A name filter is LIKE (ASCII letters without case); `name_ids`, the index's candidates for
    a rare substring, lets it test only those rows. A tag filter is written two ways: `tag_scan` walks the
    sort index testing each row's tag (fast when the tag is common), otherwise the tagged ids are collected
    first (fast when it is rare)."""
    out: list[sa.ColumnElement[bool]] = []
    if query.name_contains:
        if name_ids is not None:
            out.append(s.id.in_(name_ids))
        pattern = query.name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        out.append(s.name.like(f"%{pattern}%", escape="\\"))
    if query.tag and tag_scan:
        out.append(sa.exists().where(tags.c.strategy_id == s.id, tags.c.tag == query.tag))
    elif query.tag:
        out.append(s.id.in_(sa.select(tags.c.strategy_id).where(tags.c.tag == query.tag)))
    return out


def _tag_scan(conn: Connection, query: StrategyQuery, rows_wanted: int) -> bool:
    """Whether walking the sort index beats sorting the tagged rows: it visits about
    rows_wanted x total / tagged rows, the other way sorts all tagged rows."""
    if not query.tag:
        return False
    tagged = conn.execute(sa.select(sa.func.count()).where(tags.c.tag == query.tag)).scalar_one()
    total = conn.execute(sa.select(sa.func.count()).select_from(strategies)).scalar_one()
    return bool(tagged) and rows_wanted * total < tagged * tagged


def _order(query: StrategyQuery) -> list[sa.UnaryExpression[Any]]:
    cols = [s.name] if query.sort == "name" else [s.updated_ms, s.id]
    return [c.desc() if query.descending else c.asc() for c in cols]


def _after(query: StrategyQuery, cursor: PageCursor) -> sa.ColumnElement[bool]:
    if query.sort == "name":
        return s.name < cursor.value if query.descending else s.name > cursor.value
    key, at = sa.tuple_(s.updated_ms, s.id), sa.tuple_(sa.literal(cursor.value), sa.literal(cursor.id))
    return key < at if query.descending else key > at


class SqlStrategyRepository:
    """Implements app.strategies.ports.StrategyRepository on a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._has_names_index: bool | None = None

    def _name_ids(self, conn: Connection, query: StrategyQuery) -> list[int] | None:
        """The index's candidates for the name filter when the substring is rare (a seek beats the scan);
        None when it is common (the scan finds a page of matches at once), short, or there is no index."""
        text = query.name_contains
        if not text or len(text) < TRIGRAM or not self._indexed(conn):
            return None
        phrase = '"' + text.replace('"', '""') + '"'
        stmt = sa.select(names_index.c.rowid).where(names_index.c.strategy_names.match(phrase)).limit(RARE + 1)
        ids = [int(r[0]) for r in conn.execute(stmt)]
        return ids if len(ids) <= RARE else None

    def _indexed(self, conn: Connection) -> bool:
        """Whether this database has the trigram name index (looked up once)."""
        if self._has_names_index is None:
            lookup = sa.text("SELECT 1 FROM sqlite_master WHERE name = 'strategy_names'")
            self._has_names_index = conn.dialect.name == "sqlite" and conn.execute(lookup).first() is not None
        return self._has_names_index

    def _begin_write(self) -> Connection:
        return self._engine.connect().execution_options(sqlite_begin="BEGIN IMMEDIATE")

    @storage_errors
    def add(self, item: NewStrategy, now_ms: int) -> StrategyRecord:
        (new_id,) = self.add_many([item], now_ms)
        summary = StrategySummary(new_id, item.strategy.name, item.strategy.direction, tuple(sorted(item.tags)),
                                  item.notes, now_ms, now_ms, None, None)
        return StrategyRecord(summary, item.strategy, strategy_to_dict(item.strategy))

    @storage_errors
    def add_many(self, items: Sequence[NewStrategy], now_ms: int) -> list[int]:
        if not items:
            return []
        rows = [_row_values(item, now_ms) | {"created_ms": now_ms} for item in items]
        with self._begin_write() as conn, conn.begin():
            try:
                result = conn.execute(strategies.insert().returning(s.id, sort_by_parameter_order=True), rows)
            except IntegrityError:
                raise StrategyNameTaken(self._clash(conn, [i.strategy.name for i in items])) from None
            ids = [int(r[0]) for r in result]
            tag_rows = [{"strategy_id": i, "tag": t} for i, item in zip(ids, items, strict=True) for t in item.tags]
            if tag_rows:
                conn.execute(tags.insert(), tag_rows)
        return ids

    @storage_errors
    def update(self, strategy_id: int, item: NewStrategy, now_ms: int) -> StrategyRecord:
        values = _row_values(item, now_ms)
        with self._begin_write() as conn, conn.begin():
            try:
                row = conn.execute(strategies.update().where(s.id == strategy_id).values(values)
                                   .returning(*_SUMMARY)).first()
            except IntegrityError:
                raise StrategyNameTaken(f"a strategy named {item.strategy.name!r} already exists") from None
            if row is None:
                raise StrategyNotFound(f"no strategy with id {strategy_id}")
            conn.execute(tags.delete().where(tags.c.strategy_id == strategy_id))
            if item.tags:
                conn.execute(tags.insert(), [{"strategy_id": strategy_id, "tag": t} for t in item.tags])
            summary = self._summaries(conn, [row])[0]
        return StrategyRecord(summary, item.strategy, json.loads(values["definition"]))

    def get(self, strategy_id: int) -> StrategyRecord | None:
        return self._one(s.id == strategy_id)

    def get_by_name(self, name: str) -> StrategyRecord | None:
        return self._one(s.name == name)

    @storage_errors
    def _one(self, where: sa.ColumnElement[bool]) -> StrategyRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(*_SUMMARY, s.definition).where(where)).first()
            if row is None:
                return None
            summary = self._summaries(conn, [row])[0]
        return _record(summary, json.loads(row.definition))

    @storage_errors
    def delete(self, strategy_id: int) -> bool:
        with self._begin_write() as conn, conn.begin():
            conn.execute(tags.delete().where(tags.c.strategy_id == strategy_id))
            return bool(conn.execute(strategies.delete().where(s.id == strategy_id)).rowcount)

    @storage_errors
    def page(self, query: StrategyQuery, limit: int, after: PageCursor | None = None) -> Page:
        with self._engine.connect() as conn:
            where = _where(query, _tag_scan(conn, query, limit), self._name_ids(conn, query))
            where += [_after(query, after)] if after is not None else []
            stmt = sa.select(*_LISTED).where(*where).order_by(*_order(query)).limit(limit)
            items = _listed(conn.execute(stmt))
        cursor = None
        if len(items) == limit:
            last = items[-1]
            cursor = PageCursor(last.name if query.sort == "name" else last.updated_ms, last.id)
        return Page(tuple(items), cursor)

    @storage_errors
    def page_at(self, query: StrategyQuery, offset: int, limit: int) -> list[StrategySummary]:
        # Skip over the index only (ids), then read the page's rows: OFFSET never touches table pages.
        with self._engine.connect() as conn:
            where = _where(query, _tag_scan(conn, query, offset + limit), self._name_ids(conn, query))
            ids = sa.select(s.id).where(*where).order_by(*_order(query)).limit(limit).offset(offset)
            stmt = sa.select(*_LISTED).where(s.id.in_(ids.scalar_subquery())).order_by(*_order(query))
            return _listed(conn.execute(stmt))

    @storage_errors
    def count(self, query: StrategyQuery | None = None) -> int:
        query = query or StrategyQuery()
        with self._engine.connect() as conn:
            if query.tag and not query.name_contains:  # the tag index alone answers it
                stmt = sa.select(sa.func.count()).where(tags.c.tag == query.tag)
            else:
                where = _where(query, name_ids=self._name_ids(conn, query))
                stmt = sa.select(sa.func.count()).select_from(strategies).where(*where)
            return int(conn.execute(stmt).scalar_one())

    @storage_errors
    def tags(self) -> list[tuple[str, int]]:
        stmt = sa.select(tags.c.tag, sa.func.count()).group_by(tags.c.tag).order_by(tags.c.tag)
        with self._engine.connect() as conn:
            return [(str(t), int(n)) for t, n in conn.execute(stmt)]

    @storage_errors
    def names_taken(self, names: Sequence[str]) -> list[str]:
        out: list[str] = []
        with self._engine.connect() as conn:
            for start in range(0, len(names), 500):
                chunk = list(names[start:start + 500])
                out += [r[0] for r in conn.execute(sa.select(s.name).where(s.name.in_(chunk)))]
        return out

    @storage_errors
    def set_last_backtest(self, strategy_id: int, return_pct: float | None, trades: int | None) -> None:
        with self._begin_write() as conn, conn.begin():
            done = conn.execute(strategies.update().where(s.id == strategy_id).values(
                last_backtest_return=return_pct, last_backtest_trades=trades)).rowcount
        if not done:
            raise StrategyNotFound(f"no strategy with id {strategy_id}")

    @storage_errors
    def samples_loaded(self) -> bool:
        with self._engine.connect() as conn:
            return conn.execute(sa.select(meta.c.value).where(meta.c.key == _SAMPLES_KEY)).first() is not None

    @storage_errors
    def mark_samples_loaded(self) -> None:
        with self._begin_write() as conn, conn.begin():
            if conn.execute(sa.select(meta.c.key).where(meta.c.key == _SAMPLES_KEY)).first() is None:
                conn.execute(meta.insert().values(key=_SAMPLES_KEY, value="1"))

    @staticmethod
    def _clash(conn: Connection, names: list[str]) -> str:
        seen: set[str] = set()
        for name in names:
            if name.lower() in seen:
                return f"the name {name!r} appears twice"
            seen.add(name.lower())
        for start in range(0, len(names), 500):
            taken = conn.execute(sa.select(s.name).where(s.name.in_(names[start:start + 500]))).first()
            if taken is not None:
                return f"a strategy named {taken[0]!r} already exists"
        return f"a strategy named {names[0]!r} already exists"

    @staticmethod
    def _summaries(conn: Connection, rows: Sequence[Any]) -> list[StrategySummary]:
        by_id: dict[int, list[str]] = {r.id: [] for r in rows}
        if by_id:
            stmt = sa.select(tags.c.strategy_id, tags.c.tag).where(tags.c.strategy_id.in_(list(by_id)))
            for sid, tag in conn.execute(stmt.order_by(tags.c.tag)):
                by_id[sid].append(tag)
        return [StrategySummary(r.id, r.name, r.direction, tuple(by_id[r.id]), r.notes, r.created_ms,
                                r.updated_ms, r.last_backtest_return, r.last_backtest_trades) for r in rows]


def _record(summary: StrategySummary, definition: dict[str, Any]) -> StrategyRecord:
    """A stored row as a record: parsed into the domain Strategy once, here."""
    try:
        strategy: Strategy | None = parse_strategy(definition)
    except StrategyInvalid:  # stored by an older catalog: kept as stored, the Builder shows why
        strategy = None
    return StrategyRecord(summary, strategy, definition)
