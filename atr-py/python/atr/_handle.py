"""The async handle on the platform.

Every call is an awaitable on the caller's running loop (asyncio or uvloop). The work runs in
Rust on one tokio runtime per process, without the GIL; when it ends, the result is handed to the
loop with ``call_soon_threadsafe``. Cancelling the awaiting task drops the Rust future.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Generator, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from . import _atr
from ._errors import InvalidInput
from ._model import (
    Ballot,
    CheckResult,
    Committee,
    CreatedToken,
    Event,
    KeyImport,
    NewRevision,
    Page,
    Project,
    Release,
    Revision,
    SigningKey,
    Tally,
    Task,
    _page,
)
from ._rules import Activity, Principal, TokenGrant

__all__ = ["Handle", "connect"]

T = TypeVar("T")

#: Listings answer at most this many items a page unless told otherwise.
DEFAULT_LIMIT = 100


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


async def _call(start: Callable[..., Any], *args: Any) -> Any:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def done(ok: bool, value: Any) -> None:
        try:
            loop.call_soon_threadsafe(_settle, future, ok, value)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more

    operation = start(*args, done)
    try:
        return await future
    finally:
        operation.cancel()


def _principal(principal: object) -> Principal | None:
    if principal is None:
        return None
    if not isinstance(principal, Principal):
        raise InvalidInput(f"principal must be an atr.Principal or None, not {type(principal).__name__}")
    return None if principal.uid is None else principal


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a str, not {type(value).__name__}")
    return value


def _opt_str(value: object, what: str) -> str | None:
    return None if value is None else _str(value, what)


def _int(value: object, what: str, maximum: int = 2**32 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be an int, not {type(value).__name__}")
    if not 0 <= value <= maximum:
        raise InvalidInput(f"{what} must be 0 to {maximum}")
    return value


def _names(values: Iterable[str], what: str) -> list[str]:
    if isinstance(values, (str, bytes)):
        raise InvalidInput(f"{what} must be a list of user ids, not a single str")
    listed = list(values)
    for v in listed:
        _str(v, what)
    return listed


def _decode(text: str) -> Any:
    return json.loads(text)


class Handle:
    """An open handle: storage opened as ``atr serve`` opens it, every call through the core's
    services. Writes take the principal first and are authorized in Rust. Use ``async with``, or
    call :meth:`close`."""

    def __init__(self, native: _atr.Handle) -> None:
        self._native = native

    async def __aenter__(self) -> Handle:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        return self._native.closed

    async def close(self) -> None:
        """Closes the database connections; later calls raise :class:`Unavailable`."""
        await _call(self._native.close)

    # Reads.

    async def committees(self, *, after: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[Committee]:
        """Committees by key, after the cursor."""
        found = [Committee._of(c) for c in _decode(await _call(self._native.committees, _opt_str(after, "after"), _int(limit, "limit")))]
        return _page(found, limit, found[-1].key if found else None)

    async def committee(self, key: str) -> Committee:
        return Committee._of(_decode(await _call(self._native.committee, _str(key, "key"))))

    async def projects(self, *, after: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[Project]:
        """Projects by key, after the cursor."""
        found = [Project._of(p) for p in _decode(await _call(self._native.projects, _opt_str(after, "after"), _int(limit, "limit")))]
        return _page(found, limit, found[-1].key if found else None)

    async def project(self, key: str) -> Project:
        return Project._of(_decode(await _call(self._native.project, _str(key, "key"))))

    async def releases(
        self,
        project: str,
        *,
        principal: Principal | None = None,
        product: str | None = None,
        stage: str | None = None,
        after: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[Release]:
        """Releases of a project in a stage (``None``: drafts and previews), newest version first,
        after the cursor (a version)."""
        text = await _call(
            self._native.releases,
            _principal(principal),
            _str(project, "project"),
            _opt_str(product, "product"),
            _opt_str(stage, "stage"),
            _opt_str(after, "after"),
            _int(limit, "limit"),
        )
        found = [Release._of(r) for r in _decode(text)]
        return _page(found, limit, found[-1].key.version if found else None)

    async def release(
        self, project: str, version: str, *, principal: Principal | None = None, product: str | None = None
    ) -> Release:
        text = await _call(
            self._native.release, _principal(principal), _str(project, "project"), _str(version, "version"), _opt_str(product, "product")
        )
        return Release._of(_decode(text))

    async def revisions(
        self,
        project: str,
        version: str,
        *,
        principal: Principal | None = None,
        product: str | None = None,
        after: int | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[Revision]:
        """Revisions of a release, oldest first, after the cursor (a revision number)."""
        text = await _call(
            self._native.revisions,
            _principal(principal),
            _str(project, "project"),
            _str(version, "version"),
            _opt_str(product, "product"),
            None if after is None else _int(after, "after"),
            _int(limit, "limit"),
        )
        found = [Revision._of(r) for r in _decode(text)]
        return _page(found, limit, found[-1].number if found else None)

    async def check_results(
        self,
        project: str,
        version: str,
        revision: int,
        *,
        principal: Principal | None = None,
        product: str | None = None,
    ) -> list[CheckResult]:
        text = await _call(
            self._native.check_results,
            _principal(principal),
            _str(project, "project"),
            _str(version, "version"),
            _opt_str(product, "product"),
            _int(revision, "revision"),
        )
        return [CheckResult._of(c) for c in _decode(text)]

    async def keys(self, committee: str) -> list[SigningKey]:
        """The committee's signing keys, by fingerprint."""
        return [SigningKey._of(k) for k in _decode(await _call(self._native.keys, _str(committee, "committee")))]

    async def events(
        self,
        principal: Principal | None,
        *,
        project: str | None = None,
        version: str | None = None,
        product: str | None = None,
        before: int | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[Event]:
        """Events newest first, before the cursor (an event id). A project's history needs
        ``view release events`` on it; the foundation's, ``view all events``."""
        text = await _call(
            self._native.events,
            _principal(principal),
            _opt_str(project, "project"),
            _opt_str(version, "version"),
            _opt_str(product, "product"),
            None if before is None else _int(before, "before"),
            _int(limit, "limit"),
        )
        found = [Event._of(e) for e in _decode(text)]
        return _page(found, limit, found[-1].id if found else None)

    async def tally(
        self, project: str, version: str, *, principal: Principal | None = None, product: str | None = None
    ) -> Tally | None:
        """The tally of the release's current (or last) vote, counted by the core now; ``None``
        if it never had a vote."""
        text = await _call(
            self._native.tally, _principal(principal), _str(project, "project"), _str(version, "version"), _opt_str(product, "product")
        )
        return None if text is None else Tally._of(_decode(text))

    # Personal access tokens.

    async def token_principal(self, bearer: str) -> Principal:
        """The principal of a personal access token's bearer string (``atr_<id>_<secret>``, as
        sent in ``Authorization: Bearer ...``), checked by the core: its shape, its secret,
        revocation and expiry. Raises :class:`NotAuthenticated` (401) for any other string.

        The answer carries the token's grant (``principal.token``, never the secret) and the
        owner's roles on the committees of the token's projects. Given to a call of this handle
        it acts as the token: looked up again at every call (a token revoked since is refused),
        only on its projects and activities."""
        d = _decode(await _call(self._native.token_principal, _str(bearer, "bearer")))
        return Principal(
            uid=d["uid"],
            member_of=frozenset(d["member_of"]),
            participant_of=frozenset(d["participant_of"]),
            is_admin=d["is_admin"],
            is_asf_member=d["is_asf_member"],
            token=TokenGrant._of(d["token"]),
        )

    async def create_token(
        self,
        principal: Principal,
        name: str,
        *,
        projects: Iterable[str],
        activities: Iterable[Activity | str],
        expires_in_days: int,
    ) -> CreatedToken:
        """Creates a personal access token for the signed-in person (never with a token): at
        most release-manager rights, on ``projects``, for ``activities``, for 1 to 366 days. The
        bearer string is in the answer's ``token``, shown this once."""
        if isinstance(activities, (str, bytes)):
            raise InvalidInput("activities must be a list of atr.Activity (or their names), not a single str")
        names = [a.value if isinstance(a, Activity) else _str(a, "an activity") for a in activities]
        text = await _call(
            self._native.create_token,
            _principal(principal),
            _str(name, "name"),
            _names(projects, "projects"),
            names,
            _int(expires_in_days, "expires_in_days"),
        )
        return CreatedToken._of(_decode(text))

    async def revoke_token(self, principal: Principal, token: str | TokenGrant) -> None:
        """Revokes one of the principal's tokens, by id (a token may revoke itself)."""
        token_id = token.id if isinstance(token, TokenGrant) else _str(token, "token")
        await _call(self._native.revoke_token, _principal(principal), token_id)

    async def task(self, principal: Principal | None, task: int | Task) -> Task:
        return Task._of(_decode(await _call(self._native.task, _principal(principal), _task_id(task))))

    async def wait(self, principal: Principal | None, task: int | Task, *, timeout: float = 300.0) -> Task:
        """The task once it has ended (completed, failed or cancelled). Raises
        :class:`TimeoutError` after ``timeout`` seconds."""
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise InvalidInput(f"timeout must be a number of seconds, not {type(timeout).__name__}")
        text = await _call(self._native.wait, _principal(principal), _task_id(task), float(timeout))
        if text is None:
            raise TimeoutError(f"task {_task_id(task)} had not ended after {timeout} s")
        return Task._of(_decode(text))

    # Writes: the principal first.

    async def put_committee(
        self,
        principal: Principal,
        key: str,
        *,
        name: str | None = None,
        pmc_members: Iterable[str] = (),
        committers: Iterable[str] = (),
        release_managers: Iterable[str] = (),
        podling: bool | None = None,
    ) -> Committee:
        """Creates or replaces a committee's people (``manage committees``: admins)."""
        text = await _call(
            self._native.put_committee,
            _principal(principal),
            _str(key, "key"),
            _opt_str(name, "name"),
            _names(pmc_members, "pmc_members"),
            _names(committers, "committers"),
            _names(release_managers, "release_managers"),
            podling,
        )
        return Committee._of(_decode(text))

    async def create_project(self, principal: Principal, key: str, *, committee: str, name: str) -> Project:
        """Creates a project of a committee (``create project``: admins)."""
        text = await _call(
            self._native.create_project, _principal(principal), _str(key, "key"), _str(committee, "committee"), _str(name, "name")
        )
        return Project._of(_decode(text))

    async def start_release(
        self, principal: Principal, project: str, version: str, *, product: str | None = None
    ) -> Release:
        text = await _call(
            self._native.start_release, _principal(principal), _str(project, "project"), _str(version, "version"), _opt_str(product, "product")
        )
        return Release._of(_decode(text))

    async def upload(
        self,
        principal: Principal,
        project: str,
        version: str,
        files: Mapping[str, str | os.PathLike[str]],
        *,
        product: str | None = None,
        description: str | None = None,
    ) -> NewRevision:
        """A new revision of the release's latest one with ``files`` put in: release path to a
        local file. The files are streamed from disk by Rust; their bytes never pass through
        Python."""
        if not isinstance(files, Mapping):
            raise InvalidInput("files must map release paths to local files")
        pairs = []
        for path, local in files.items():
            if not isinstance(local, (str, os.PathLike)):
                raise InvalidInput(f"the local file of {path!r} must be a path, not {type(local).__name__}")
            pairs.append((_str(path, "a release path"), os.fspath(local)))
        text = await _call(
            self._native.upload,
            _principal(principal),
            _str(project, "project"),
            _str(version, "version"),
            _opt_str(product, "product"),
            pairs,
            _opt_str(description, "description"),
        )
        return NewRevision._of(_decode(text))

    async def start_vote(
        self, principal: Principal, project: str, version: str, revision: int, *, product: str | None = None
    ) -> Release:
        text = await _call(
            self._native.start_vote,
            _principal(principal),
            _str(project, "project"),
            _str(version, "version"),
            _opt_str(product, "product"),
            _int(revision, "revision"),
        )
        return Release._of(_decode(text))

    async def cast_ballot(
        self,
        principal: Principal,
        project: str,
        version: str,
        value: str,
        *,
        comment: str | None = None,
        product: str | None = None,
    ) -> Ballot:
        """Casts (or changes) the principal's ballot: ``"+1"``, ``"+0"``, ``"0"``, ``"-0"`` or ``"-1"``."""
        text = await _call(
            self._native.cast_ballot,
            _principal(principal),
            _str(project, "project"),
            _str(version, "version"),
            _opt_str(product, "product"),
            _str(value, "value"),
            _opt_str(comment, "comment"),
        )
        return Ballot._of(_decode(text))

    async def resolve(
        self, principal: Principal, project: str, version: str, outcome: str, *, product: str | None = None
    ) -> Release:
        """Resolves the vote: ``"passed"``, ``"failed"`` or ``"cancelled"``."""
        text = await _call(
            self._native.resolve,
            _principal(principal),
            _str(project, "project"),
            _str(version, "version"),
            _opt_str(product, "product"),
            _str(outcome, "outcome"),
        )
        return Release._of(_decode(text))

    async def announce(
        self, principal: Principal, project: str, version: str, *, confirmed: bool = False, product: str | None = None
    ) -> Release:
        text = await _call(
            self._native.announce,
            _principal(principal),
            _str(project, "project"),
            _str(version, "version"),
            _opt_str(product, "product"),
            bool(confirmed),
        )
        return Release._of(_decode(text))

    async def add_key(self, principal: Principal, committee: str, armored: str) -> SigningKey:
        """Adds one ASCII-armored OpenPGP public key and links it to the committee."""
        text = await _call(self._native.add_key, _principal(principal), _str(committee, "committee"), _str(armored, "armored"))
        return SigningKey._of(_decode(text))

    async def import_keys(self, principal: Principal, committee: str, keys: str | bytes) -> KeyImport:
        """Imports every usable key of a KEYS file (ASCII-armored OpenPGP public keys, as text or
        as the file's bytes, which need not be UTF-8) into the committee (``manage keys``), and
        says what happened to each."""
        if isinstance(keys, str):
            keys = keys.encode()
        elif not isinstance(keys, (bytes, bytearray)):
            raise InvalidInput(f"keys must be the KEYS file as str or bytes, not {type(keys).__name__}")
        text = await _call(self._native.import_keys, _principal(principal), _str(committee, "committee"), bytes(keys))
        return KeyImport._of(_decode(text))

    async def set_project_policy(self, principal: Principal, project: str, policy: Mapping[str, Any]) -> Project:
        """Replaces the project's vote policy settings (``manage policy``). ``policy`` has the
        JSON API's ``PolicyOverrides`` fields (``min_hours``, ``mode``, ``pass_rule``, ...); the
        ones left out inherit the foundation default."""
        if not isinstance(policy, Mapping):
            raise InvalidInput(f"policy must be a mapping of the policy's fields, not {type(policy).__name__}")
        try:
            document = json.dumps(dict(policy))
        except (TypeError, ValueError) as e:
            raise InvalidInput(f"policy: {e}") from None
        text = await _call(self._native.set_project_policy, _principal(principal), _str(project, "project"), document)
        return Project._of(_decode(text))

    async def cancel_task(self, principal: Principal, task: int | Task) -> Task:
        return Task._of(_decode(await _call(self._native.cancel_task, _principal(principal), _task_id(task))))


def _task_id(task: object) -> int:
    if isinstance(task, Task):
        return task.id
    return _int(task, "task", 2**63 - 1)


class _Connecting:
    """What :func:`connect` returns: await it, or use it with ``async with``."""

    def __init__(self, database_url: str | None, data_dir: str | os.PathLike[str], admins: Iterable[str]) -> None:
        if database_url is not None and not isinstance(database_url, str):
            raise InvalidInput("database_url must be a str or None")
        if not isinstance(data_dir, (str, os.PathLike)):
            raise InvalidInput(f"data_dir must be a path, not {type(data_dir).__name__}")
        self._args = (database_url, os.fspath(data_dir), _names(admins, "admins"))
        self._handle: Handle | None = None

    async def _open(self) -> Handle:
        native = await _call(_atr.connect, *self._args)
        return Handle(native)

    def __await__(self) -> Generator[Any, None, Handle]:
        return self._open().__await__()

    async def __aenter__(self) -> Handle:
        self._handle = await self._open()
        return self._handle

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._handle is not None:
            await self._handle.close()


def connect(
    database_url: str | None, *, data_dir: str | os.PathLike[str], admins: Iterable[str] = ()
) -> _Connecting:
    """Opens the platform's storage: ``await atr.connect(...)`` or ``async with atr.connect(...)``.

    ``database_url`` is ``sqlite://...``, ``postgres://...``, or ``None`` for SQLite in
    ``data_dir``, which holds the release files. ``admins`` are uids that act as admins.
    """
    return _Connecting(database_url, data_dir, admins)
