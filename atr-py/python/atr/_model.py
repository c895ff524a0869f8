"""The platform's objects as frozen data classes.

Each is made from the JSON of the ``atr-api`` wire type that the native module produced, and
``to_dict()`` gives that JSON back: the same shape the JSON API answers for the same object.
Attributes are typed Python values: times are aware UTC datetimes, phases and statuses str.
"""

from __future__ import annotations

import copy
import datetime as _dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ._rules import TokenGrant

__all__ = [
    "ReleaseKey",
    "Committee",
    "Project",
    "Release",
    "Revision",
    "NewRevision",
    "CheckResult",
    "Task",
    "SigningKey",
    "Event",
    "Ballot",
    "VoteCounts",
    "CountedVote",
    "Tally",
    "KeyImport",
    "CreatedToken",
    "Page",
]

_UTC = _dt.timezone.utc


def _seconds(value: int | None) -> _dt.datetime | None:
    return None if value is None else _dt.datetime.fromtimestamp(value, tz=_UTC)


def _millis(value: int | None) -> _dt.datetime | None:
    return None if value is None else _dt.datetime.fromtimestamp(value / 1000, tz=_UTC)


def _at(value: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(value, tz=_UTC)


@dataclass(frozen=True)
class _Wire:
    _wire: dict[str, Any] = field(repr=False, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON API's shape for this object (times as Unix seconds, as the API sends them)."""
        return copy.deepcopy(self._wire)


@dataclass(frozen=True)
class ReleaseKey:
    project: str
    product: str | None
    version: str

    @classmethod
    def _of(cls, d: dict[str, Any]) -> ReleaseKey:
        return cls(project=d["project"], product=d.get("product"), version=d["version"])

    def to_dict(self) -> dict[str, Any]:
        return {"project": self.project, "product": self.product, "version": self.version}


@dataclass(frozen=True)
class Committee(_Wire):
    key: str = ""
    name: str = ""
    pmc_members: tuple[str, ...] = ()
    committers: tuple[str, ...] = ()
    release_managers: tuple[str, ...] = ()
    podling: bool = False
    parent: str | None = None

    @classmethod
    def _of(cls, d: dict[str, Any]) -> Committee:
        return cls(
            _wire=d,
            key=d["key"],
            name=d["name"],
            pmc_members=tuple(d["pmc_members"]),
            committers=tuple(d["committers"]),
            release_managers=tuple(d["release_managers"]),
            podling=d["podling"],
            parent=d.get("parent"),
        )


@dataclass(frozen=True)
class Project(_Wire):
    key: str = ""
    committee: str = ""
    display_name: str = ""
    products: tuple[str, ...] = ()

    @classmethod
    def _of(cls, d: dict[str, Any]) -> Project:
        return cls(
            _wire=d,
            key=d["key"],
            committee=d["committee"],
            display_name=d["metadata"]["display_name"],
            products=tuple(p["key"] for p in d["products"]),
        )


@dataclass(frozen=True)
class Release(_Wire):
    key: ReleaseKey = field(default_factory=lambda: ReleaseKey("", None, ""))
    committee: str = ""
    phase: str = ""
    state: str = ""
    latest_revision: int | None = None
    created_at: _dt.datetime = field(default_factory=lambda: _at(0))
    created_by: str = ""
    released_at: _dt.datetime | None = None
    revoked: bool = False
    lock_version: int = 0

    @classmethod
    def _of(cls, d: dict[str, Any]) -> Release:
        return cls(
            _wire=d,
            key=ReleaseKey._of(d["key"]),
            committee=d["committee"],
            phase=d["phase"],
            state=d["state"],
            latest_revision=d.get("latest_revision"),
            created_at=_at(d["created_at"]),
            created_by=d["created_by"],
            released_at=_seconds(d.get("released_at")),
            revoked=d.get("revocation") is not None,
            lock_version=d.get("lock_version", 0),
        )


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha512: str
    sha3_256: str


@dataclass(frozen=True)
class Revision(_Wire):
    release: ReleaseKey = field(default_factory=lambda: ReleaseKey("", None, ""))
    number: int = 0
    parent: int | None = None
    phase: str = ""
    created_at: _dt.datetime = field(default_factory=lambda: _at(0))
    created_by: str = ""
    description: str | None = None
    files: tuple[FileEntry, ...] = ()

    @classmethod
    def _of(cls, d: dict[str, Any]) -> Revision:
        return cls(
            _wire=d,
            release=ReleaseKey._of(d["release"]),
            number=d["number"],
            parent=d.get("parent"),
            phase=d["phase"],
            created_at=_at(d["created_at"]),
            created_by=d["created_by"],
            description=d.get("description"),
            files=tuple(FileEntry(f["path"], f["size"], f["sha512"], f["sha3_256"]) for f in d["files"]),
        )


@dataclass(frozen=True)
class Task(_Wire):
    id: int = 0
    kind: str = ""
    status: str = ""
    attempts: int = 0
    error: str | None = None
    created_at: _dt.datetime | None = None
    finished_at: _dt.datetime | None = None

    @property
    def ended(self) -> bool:
        """True once the task succeeded (``completed``), failed or was cancelled."""
        return self.status in ("completed", "failed", "cancelled")

    @classmethod
    def _of(cls, d: dict[str, Any]) -> Task:
        return cls(
            _wire=d,
            id=d["id"],
            kind=d["kind"],
            status=d["status"],
            attempts=d["attempts"],
            error=d.get("error"),
            created_at=_millis(d.get("created_at_ms")),
            finished_at=_millis(d.get("finished_at_ms")),
        )

    @classmethod
    def _queued(cls, d: dict[str, Any]) -> Task:
        """A task as a change's answer shows it (the API's ``QueuedTask``)."""
        return cls(
            _wire=d,
            id=d["id"],
            kind=d["descriptor"]["kind"],
            status=d["status"],
            attempts=d["attempts"],
            error=d.get("error"),
        )


@dataclass(frozen=True)
class NewRevision(_Wire):
    """An upload's answer: the new revision and the Analyze task queued for it."""

    revision: Revision = field(default_factory=lambda: Revision(_wire={}))
    analyze_task: Task = field(default_factory=lambda: Task(_wire={}))

    @classmethod
    def _of(cls, d: dict[str, Any]) -> NewRevision:
        return cls(_wire=d, revision=Revision._of(d["revision"]), analyze_task=Task._queued(d["analyze_task"]))


@dataclass(frozen=True)
class CheckResult(_Wire):
    release: ReleaseKey = field(default_factory=lambda: ReleaseKey("", None, ""))
    revision: int = 0
    checker: str = ""
    path: str | None = None
    member: str | None = None
    status: str = ""
    message: str = ""
    at: _dt.datetime = field(default_factory=lambda: _at(0))

    @classmethod
    def _of(cls, d: dict[str, Any]) -> CheckResult:
        return cls(
            _wire=d,
            release=ReleaseKey._of(d["release"]),
            revision=d["revision"],
            checker=d["checker"],
            path=d.get("path"),
            member=d.get("member"),
            status=d["status"],
            message=d["message"],
            at=_at(d["at"]),
        )


@dataclass(frozen=True)
class SigningKey(_Wire):
    fingerprint: str = ""
    key_id: str = ""
    owner: str | None = None
    algorithm: str = ""
    created_at: _dt.datetime = field(default_factory=lambda: _at(0))
    expires_at: _dt.datetime | None = None
    revoked: bool = False
    user_ids: tuple[str, ...] = ()
    committees: tuple[str, ...] = ()

    @classmethod
    def _of(cls, d: dict[str, Any]) -> SigningKey:
        return cls(
            _wire=d,
            fingerprint=d["fingerprint"],
            key_id=d["key_id"],
            owner=d.get("owner"),
            algorithm=d["algorithm"],
            created_at=_at(d["created_at"]),
            expires_at=_seconds(d.get("expires_at")),
            revoked=d["revoked"],
            user_ids=tuple(d["user_ids"]),
            committees=tuple(d["committees"]),
        )


@dataclass(frozen=True)
class Event(_Wire):
    id: int = 0
    at: _dt.datetime = field(default_factory=lambda: _at(0))
    kind: str = ""
    project: str | None = None
    release: ReleaseKey | None = None

    @classmethod
    def _of(cls, d: dict[str, Any]) -> Event:
        entry = d["event"]
        kind = entry["kind"]
        name = kind.get("type", "") if isinstance(kind, dict) else str(kind)
        release = entry.get("release")
        return cls(
            _wire=d,
            id=d["id"],
            at=_at(entry["at"]),
            kind=name,
            project=entry.get("project"),
            release=None if release is None else ReleaseKey._of(release),
        )


@dataclass(frozen=True)
class Ballot(_Wire):
    release: ReleaseKey = field(default_factory=lambda: ReleaseKey("", None, ""))
    value: str = ""
    comment: str | None = None
    cast_at: _dt.datetime = field(default_factory=lambda: _at(0))

    @classmethod
    def _of(cls, d: dict[str, Any]) -> Ballot:
        return cls(
            _wire=d,
            release=ReleaseKey._of(d["release"]),
            value=d["value"],
            comment=d.get("comment"),
            cast_at=_at(d["cast_at"]),
        )


@dataclass(frozen=True)
class VoteCounts:
    """How many ballots of each value a tally counted."""

    plus_one: int
    plus_zero: int
    zero: int
    minus_zero: int
    minus_one: int

    @classmethod
    def _of(cls, d: dict[str, Any]) -> VoteCounts:
        return cls(d["plus_one"], d["plus_zero"], d["zero"], d["minus_zero"], d["minus_one"])


@dataclass(frozen=True)
class CountedVote:
    """One voter's counted ballot: ``voter`` is ``("user", uid)``, ``("email", address)`` or
    ``("anonymous", label)``."""

    voter: tuple[str, str]
    value: str
    binding: bool
    cast_at: _dt.datetime

    @classmethod
    def _of(cls, d: dict[str, Any]) -> CountedVote:
        ((kind, name),) = d["voter"].items()
        return cls(voter=(kind, name), value=d["value"], binding=d["binding"], cast_at=_at(d["cast_at"]))


@dataclass(frozen=True)
class Tally(_Wire):
    """The count of a vote's current (or last) round, as the core counts it when asked."""

    round: str = ""
    binding: VoteCounts = field(default_factory=lambda: VoteCounts(0, 0, 0, 0, 0))
    non_binding: VoteCounts = field(default_factory=lambda: VoteCounts(0, 0, 0, 0, 0))
    votes: tuple[CountedVote, ...] = ()
    passes: bool = False
    verdict: str = ""
    closes_at: _dt.datetime = field(default_factory=lambda: _at(0))

    @classmethod
    def _of(cls, d: dict[str, Any]) -> Tally:
        return cls(
            _wire=d,
            round=d["round"],
            binding=VoteCounts._of(d["binding"]),
            non_binding=VoteCounts._of(d["non_binding"]),
            votes=tuple(CountedVote._of(v) for v in d["votes"]),
            passes=d["passes"],
            verdict=d["verdict"],
            closes_at=_at(d["closes_at"]),
        )


@dataclass(frozen=True)
class KeyImport(_Wire):
    """What importing a KEYS file did: the fingerprints ``added`` and ``updated``, and why each
    block in ``rejected`` did not go in."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()

    @classmethod
    def _of(cls, d: dict[str, Any]) -> KeyImport:
        return cls(
            _wire=d,
            added=tuple(k["fingerprint"] for k in d["added"]),
            updated=tuple(k["fingerprint"] for k in d["updated"]),
            rejected=tuple(k["reason"] for k in d["rejected"]),
        )


@dataclass(frozen=True)
class CreatedToken(_Wire):
    """A new personal access token: ``token`` is the bearer string (``atr_<id>_<secret>``),
    shown this once and never in ``repr``; ``grant`` what it allows."""

    token: str = field(repr=False)
    name: str
    grant: TokenGrant

    @classmethod
    def _of(cls, d: dict[str, Any]) -> CreatedToken:
        return cls(_wire=d, token=d["token"], name=d["name"], grant=TokenGrant._of(d))


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset listing: pass ``next`` as ``after`` (``before`` for events) for the
    next page; ``None`` when this page was the last."""

    items: tuple[T, ...]
    next: str | int | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"items": [i.to_dict() for i in self.items], "next": self.next}  # type: ignore[attr-defined]


def _page(items: Sequence[T], limit: int, cursor: Any) -> Page[T]:
    return Page(items=tuple(items), next=cursor if len(items) >= limit and items else None)
