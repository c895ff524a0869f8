"""A blocking handle for scripts: the same calls as :class:`atr.Handle`, without ``await``.

Each call runs on a private event loop of the calling thread, so it must not be called from
inside a running loop (use :func:`atr.connect` there): :func:`connect` and every call raise
``RuntimeError`` then. The Rust work still runs without the GIL.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from ._handle import DEFAULT_LIMIT, Handle, _Connecting
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
)
from ._rules import Activity, Principal, TokenGrant

__all__ = ["BlockingHandle", "connect"]

T = TypeVar("T")


def _no_running_loop(what: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"atr.blocking.{what} was called inside a running event loop: use await atr.connect(...) there")


def _run(what: str, work: Coroutine[Any, Any, T]) -> T:
    try:
        _no_running_loop(what)
    except RuntimeError:
        work.close()
        raise
    return asyncio.run(work)


class BlockingHandle:
    """A :class:`atr.Handle` for code without an event loop. A context manager."""

    def __init__(self, handle: Handle) -> None:
        self._handle = handle

    def __enter__(self) -> BlockingHandle:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def close(self) -> None:
        _run("close", self._handle.close())

    def committees(self, *, after: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[Committee]:
        return _run("committees", self._handle.committees(after=after, limit=limit))

    def committee(self, key: str) -> Committee:
        return _run("committee", self._handle.committee(key))

    def projects(self, *, after: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[Project]:
        return _run("projects", self._handle.projects(after=after, limit=limit))

    def project(self, key: str) -> Project:
        return _run("project", self._handle.project(key))

    def releases(
        self,
        project: str,
        *,
        principal: Principal | None = None,
        product: str | None = None,
        stage: str | None = None,
        after: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[Release]:
        work = self._handle.releases(
            project, principal=principal, product=product, stage=stage, after=after, limit=limit
        )
        return _run("releases", work)

    def release(
        self, project: str, version: str, *, principal: Principal | None = None, product: str | None = None
    ) -> Release:
        return _run("release", self._handle.release(project, version, principal=principal, product=product))

    def revisions(
        self,
        project: str,
        version: str,
        *,
        principal: Principal | None = None,
        product: str | None = None,
        after: int | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[Revision]:
        work = self._handle.revisions(project, version, principal=principal, product=product, after=after, limit=limit)
        return _run("revisions", work)

    def check_results(
        self,
        project: str,
        version: str,
        revision: int,
        *,
        principal: Principal | None = None,
        product: str | None = None,
    ) -> list[CheckResult]:
        work = self._handle.check_results(project, version, revision, principal=principal, product=product)
        return _run("check_results", work)

    def keys(self, committee: str) -> list[SigningKey]:
        return _run("keys", self._handle.keys(committee))

    def events(
        self,
        principal: Principal | None,
        *,
        project: str | None = None,
        version: str | None = None,
        product: str | None = None,
        before: int | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[Event]:
        work = self._handle.events(
            principal, project=project, version=version, product=product, before=before, limit=limit
        )
        return _run("events", work)

    def tally(
        self, project: str, version: str, *, principal: Principal | None = None, product: str | None = None
    ) -> Tally | None:
        return _run("tally", self._handle.tally(project, version, principal=principal, product=product))

    def token_principal(self, bearer: str) -> Principal:
        return _run("token_principal", self._handle.token_principal(bearer))

    def create_token(
        self,
        principal: Principal,
        name: str,
        *,
        projects: Iterable[str],
        activities: Iterable[Activity | str],
        expires_in_days: int,
    ) -> CreatedToken:
        work = self._handle.create_token(
            principal, name, projects=projects, activities=activities, expires_in_days=expires_in_days
        )
        return _run("create_token", work)

    def revoke_token(self, principal: Principal, token: str | TokenGrant) -> None:
        _run("revoke_token", self._handle.revoke_token(principal, token))

    def task(self, principal: Principal | None, task: int | Task) -> Task:
        return _run("task", self._handle.task(principal, task))

    def wait(self, principal: Principal | None, task: int | Task, *, timeout: float = 300.0) -> Task:
        return _run("wait", self._handle.wait(principal, task, timeout=timeout))

    def put_committee(
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
        work = self._handle.put_committee(
            principal,
            key,
            name=name,
            pmc_members=pmc_members,
            committers=committers,
            release_managers=release_managers,
            podling=podling,
        )
        return _run("put_committee", work)

    def create_project(self, principal: Principal, key: str, *, committee: str, name: str) -> Project:
        return _run("create_project", self._handle.create_project(principal, key, committee=committee, name=name))

    def start_release(self, principal: Principal, project: str, version: str, *, product: str | None = None) -> Release:
        return _run("start_release", self._handle.start_release(principal, project, version, product=product))

    def upload(
        self,
        principal: Principal,
        project: str,
        version: str,
        files: Mapping[str, str | os.PathLike[str]],
        *,
        product: str | None = None,
        description: str | None = None,
    ) -> NewRevision:
        work = self._handle.upload(principal, project, version, files, product=product, description=description)
        return _run("upload", work)

    def start_vote(
        self, principal: Principal, project: str, version: str, revision: int, *, product: str | None = None
    ) -> Release:
        return _run("start_vote", self._handle.start_vote(principal, project, version, revision, product=product))

    def cast_ballot(
        self,
        principal: Principal,
        project: str,
        version: str,
        value: str,
        *,
        comment: str | None = None,
        product: str | None = None,
    ) -> Ballot:
        work = self._handle.cast_ballot(principal, project, version, value, comment=comment, product=product)
        return _run("cast_ballot", work)

    def resolve(
        self, principal: Principal, project: str, version: str, outcome: str, *, product: str | None = None
    ) -> Release:
        return _run("resolve", self._handle.resolve(principal, project, version, outcome, product=product))

    def announce(
        self, principal: Principal, project: str, version: str, *, confirmed: bool = False, product: str | None = None
    ) -> Release:
        work = self._handle.announce(principal, project, version, confirmed=confirmed, product=product)
        return _run("announce", work)

    def add_key(self, principal: Principal, committee: str, armored: str) -> SigningKey:
        return _run("add_key", self._handle.add_key(principal, committee, armored))

    def import_keys(self, principal: Principal, committee: str, keys: str | bytes) -> KeyImport:
        return _run("import_keys", self._handle.import_keys(principal, committee, keys))

    def set_project_policy(self, principal: Principal, project: str, policy: Mapping[str, Any]) -> Project:
        return _run("set_project_policy", self._handle.set_project_policy(principal, project, policy))

    def cancel_task(self, principal: Principal, task: int | Task) -> Task:
        return _run("cancel_task", self._handle.cancel_task(principal, task))


def connect(
    database_url: str | None, *, data_dir: str | os.PathLike[str], admins: Iterable[str] = ()
) -> BlockingHandle:
    """As :func:`atr.connect`, blocking. Raises ``RuntimeError`` inside a running event loop."""
    _no_running_loop("connect")
    connecting = _Connecting(database_url, data_dir, admins)
    return BlockingHandle(asyncio.run(connecting._open()))
