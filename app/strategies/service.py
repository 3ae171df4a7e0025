"""StrategyService: create, validate, store, list, import and export strategies; answers are plain DTOs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.clock import Clock
from app.strategies.ports import (
    NewStrategy,
    Page,
    PageCursor,
    StrategyNameTaken,
    StrategyNotFound,
    StrategyQuery,
    StrategyRecord,
    StrategyRepository,
    StrategySummary,
)
from domain.strategy import (
    Strategy,
    StrategyInvalid,
    ValidationIssue,
    loads_json,
    parse_strategy,
    strategy_to_dict,
)

MAX_TAGS = 32
MAX_TAG = 64
PAGE_MAX = 1000


@dataclass(frozen=True, slots=True)
class SaveResult:
    """The stored record, or every reason it was not stored."""

    record: StrategyRecord | None
    errors: tuple[ValidationIssue, ...] = ()

    @property
    def ok(self) -> bool:
        return self.record is not None


@dataclass(frozen=True, slots=True)
class FileIssue:
    """A problem in one source (file name) at one JSON path."""

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.path}: {self.message}" if self.path else f"{self.source}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Names stored (all or none), or every problem found; nothing is stored when there is any."""

    created: tuple[str, ...]
    errors: tuple[FileIssue, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class _Parsed:
    item: NewStrategy | None
    issues: list[ValidationIssue]


_UNPRINTABLE = "must be printable text (no line breaks or control characters)"


def _tags(raw: object) -> tuple[tuple[str, ...], list[ValidationIssue]]:
    if raw is None:
        return (), []
    if not isinstance(raw, list | tuple) or not all(isinstance(t, str) for t in raw):
        return (), [ValidationIssue("tags", "must be a list of strings")]
    out: dict[str, None] = {}
    issues = []
    for i, tag in enumerate(raw):
        tag = tag.strip()
        if len(tag) > MAX_TAG:
            issues.append(ValidationIssue(f"tags[{i}]", f"must be at most {MAX_TAG} characters"))
        elif not tag.isprintable():
            issues.append(ValidationIssue(f"tags[{i}]", _UNPRINTABLE))
        elif tag:
            out.setdefault(tag, None)
    if len(out) > MAX_TAGS:
        issues.append(ValidationIssue("tags", f"at most {MAX_TAGS} tags"))
    return tuple(out), issues


def _parse(data: object, notes: str | None = None, tags: Sequence[str] | None = None) -> _Parsed:
    try:
        strategy: Strategy | None = parse_strategy(data)
        issues: list[ValidationIssue] = []
    except StrategyInvalid as err:
        strategy, issues = None, list(err.errors)
    doc: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    tag_values, tag_issues = _tags(list(tags) if tags is not None else doc.get("tags"))
    issues += [t for t in tag_issues if t.path not in {i.path for i in issues}]
    if issues or strategy is None:
        return _Parsed(None, issues)
    note = notes if notes is not None else doc.get("notes") or ""
    return _Parsed(NewStrategy(strategy, str(note), tag_values), [])


def _documents(value: object) -> list[tuple[str, object]]:
    """(path prefix, document) for a file holding one strategy, a list, or {"strategies": [...]}."""
    if isinstance(value, Mapping) and set(value) == {"strategies"} and isinstance(value["strategies"], list):
        return [(f"strategies[{i}]", d) for i, d in enumerate(value["strategies"])]
    if isinstance(value, list):
        return [(f"[{i}]", d) for i, d in enumerate(value)]
    return [("", value)]


class StrategyService:
    """Use cases over the strategy store. Mistakes come back as ValidationIssues, never as raw exceptions."""

    def __init__(self, repo: StrategyRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock
        self.revision = 0  # grows with every change made through this service: pickers reload when it moved

    def validate(self, data: object) -> list[ValidationIssue]:
        """Every problem with a definition dict (empty when valid)."""
        return _parse(data).issues

    def validate_text(self, text: str | bytes) -> list[ValidationIssue]:
        """Every problem with JSON text holding one strategy or a list of them."""
        return validate_text(text)

    def create(self, data: object, notes: str | None = None, tags: Sequence[str] | None = None) -> SaveResult:
        parsed = _parse(data, notes, tags)
        if parsed.item is None:
            return SaveResult(None, tuple(parsed.issues))
        try:
            record = self.repo.add(parsed.item, self.clock.now_ms())
        except StrategyNameTaken as err:
            return SaveResult(None, (ValidationIssue("name", str(err)),))
        self.revision += 1
        return SaveResult(record)

    def update(self, strategy_id: int, data: object, notes: str | None = None,
               tags: Sequence[str] | None = None) -> SaveResult:
        current = self.repo.get(strategy_id)
        if current is None:
            return SaveResult(None, (ValidationIssue("", f"no strategy with id {strategy_id}"),))
        doc: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        keep_notes = notes is None and "notes" not in doc
        keep_tags = tags is None and "tags" not in doc
        parsed = _parse(data, current.summary.notes if keep_notes else notes,
                        current.summary.tags if keep_tags else tags)
        if parsed.item is None:
            return SaveResult(None, tuple(parsed.issues))
        try:
            record = self.repo.update(strategy_id, parsed.item, self.clock.now_ms())
        except (StrategyNameTaken, StrategyNotFound) as err:
            return SaveResult(None, (ValidationIssue("name" if isinstance(err, StrategyNameTaken) else "", str(err)),))
        self.revision += 1
        return SaveResult(record)

    def duplicate(self, strategy_id: int, name: str | None = None) -> SaveResult:
        """A copy named `name`, else "<name> (copy)", "<name> (copy 2)" … whichever is free."""
        current = self.repo.get(strategy_id)
        if current is None:
            return SaveResult(None, (ValidationIssue("", f"no strategy with id {strategy_id}"),))
        doc = dict(current.definition)
        doc["name"] = name or self._free_copy_name(current.name)
        return self.create(doc, current.summary.notes, current.summary.tags)

    def _free_copy_name(self, base: str) -> str:
        stem = base[:100]
        for n in range(1, 10_000):
            candidate = f"{stem} (copy)" if n == 1 else f"{stem} (copy {n})"
            if not self.repo.names_taken([candidate]):
                return candidate
        return f"{stem} (copy {self.clock.now_ms()})"

    def delete(self, strategy_id: int) -> bool:
        deleted = self.repo.delete(strategy_id)
        self.revision += deleted
        return deleted

    def get(self, strategy_id: int) -> StrategyRecord | None:
        return self.repo.get(strategy_id)

    def get_by_name(self, name: str) -> StrategyRecord | None:
        return self.repo.get_by_name(name)

    def strategy(self, strategy_id: int) -> Strategy:
        """The domain Strategy for a stored id (for backtests and live runs); UserError if absent or stale."""
        record = self.repo.get(strategy_id)
        if record is None:
            raise StrategyNotFound(f"no strategy with id {strategy_id}")
        return self.strategy_of(record)

    def strategy_of(self, record: StrategyRecord) -> Strategy:
        """The record's domain Strategy; StrategyNotFound saying why if the stored definition is no longer valid."""
        if record.strategy is None:
            errors = "; ".join(str(i) for i in self.validate(record.definition))
            raise StrategyNotFound(f"stored strategy {record.name!r} is no longer valid: {errors}")
        return record.strategy

    def page(self, query: StrategyQuery | None = None, limit: int = 100,
             after: PageCursor | None = None) -> Page:
        return self.repo.page(query or StrategyQuery(), max(1, min(limit, PAGE_MAX)), after)

    def page_at(self, query: StrategyQuery | None, offset: int, limit: int = 100) -> list[StrategySummary]:
        return self.repo.page_at(query or StrategyQuery(), max(0, offset), max(1, min(limit, PAGE_MAX)))

    def count(self, query: StrategyQuery | None = None) -> int:
        return self.repo.count(query)

    def tags(self) -> list[tuple[str, int]]:
        """(tag, number of strategies) for every tag in use, for a tag filter."""
        return self.repo.tags()

    def set_last_backtest(self, strategy_id: int, return_pct: float | None, trades: int | None) -> None:
        self.repo.set_last_backtest(strategy_id, return_pct, trades)

    def import_texts(self, sources: Sequence[tuple[str, str | bytes]]) -> ImportResult:
        """Import every strategy in every (source name, JSON text); all are stored or none."""
        items: list[NewStrategy] = []
        errors: list[FileIssue] = []
        seen: dict[str, str] = {}
        for source, text in sources:
            try:
                value = loads_json(text)
            except StrategyInvalid as err:
                errors += [FileIssue(source, i.path, i.message) for i in err.errors]
                continue
            for prefix, doc in _documents(value):
                parsed = _parse(doc)
                errors += [FileIssue(source, _join(prefix, i.path), i.message) for i in parsed.issues]
                if parsed.item is None:
                    continue
                name = parsed.item.strategy.name
                if name.lower() in seen:
                    errors.append(FileIssue(source, _join(prefix, "name"),
                                            f"{name!r} appears twice (also in {seen[name.lower()]})"))
                    continue
                seen[name.lower()] = source
                items.append(parsed.item)
        return self._store_all(items, errors, seen)

    def _store_all(self, items: list[NewStrategy], errors: list[FileIssue], seen: dict[str, str]) -> ImportResult:
        for name in self.repo.names_taken([i.strategy.name for i in items]):
            errors.append(FileIssue(seen.get(name.lower(), "?"), "name",
                                    f"a strategy named {name!r} already exists"))
        if errors:
            return ImportResult((), tuple(errors))
        try:
            self.repo.add_many(items, self.clock.now_ms())
        except StrategyNameTaken as err:
            return ImportResult((), (FileIssue("?", "name", str(err)),))
        self.revision += 1
        return ImportResult(tuple(i.strategy.name for i in items))

    def export_json(self, strategy_ids: Sequence[int]) -> str:
        """One strategy as an object, several as a list; each with its notes and tags."""
        docs = []
        for sid in strategy_ids:
            record = self.repo.get(sid)
            if record is None:
                raise StrategyNotFound(f"no strategy with id {sid}")
            docs.append(self._export_doc(record))
        return json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False) + "\n"

    @staticmethod
    def _export_doc(record: StrategyRecord) -> dict[str, Any]:
        # one stored by an older catalog is exported as stored: the importer will say why
        doc = strategy_to_dict(record.strategy) if record.strategy is not None else dict(record.definition)
        if record.summary.notes:
            doc["notes"] = record.summary.notes
        if record.summary.tags:
            doc["tags"] = list(record.summary.tags)
        return doc

    def ensure_samples(self, samples: Sequence[tuple[str, str]]) -> int:
        """Load the bundled samples into an empty database, once ever; returns how many were stored."""
        if self.repo.samples_loaded():
            return 0
        stored = 0
        if self.repo.count() == 0:
            result = self.import_texts(samples)
            stored = len(result.created)
        self.repo.mark_samples_loaded()
        return stored


def validate_text(text: str | bytes) -> list[ValidationIssue]:
    """Every problem with JSON text holding one strategy, a list, or {"strategies": [...]} (no database)."""
    try:
        value = loads_json(text)
    except StrategyInvalid as err:
        return list(err.errors)
    return [ValidationIssue(_join(prefix, i.path), i.message)
            for prefix, doc in _documents(value) for i in _parse(doc).issues]


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return f"{prefix}.{path}" if path else prefix
