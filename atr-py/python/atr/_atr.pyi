"""The native module: the core's rules and the handle's operations (see ``atr-py/src``)."""

from collections.abc import Callable
from typing import Any, final

from ._rules import Principal

_Done = Callable[[bool, Any], None]

def role_names() -> list[str]: ...
def activity_names() -> list[str]: ...
def principal_problem(uid: str | None, committees: list[str]) -> str | None: ...
def can(
    principal: Principal, activity: str, committee: str, project: str | None, release_managers: frozenset[str]
) -> bool: ...
def authorize(
    principal: Principal, activity: str, committee: str, project: str | None, release_managers: frozenset[str]
) -> None: ...
def _error_kinds() -> list[tuple[str, str, int]]: ...
def _live_operations() -> int: ...
def shutdown() -> None: ...
def openapi_document() -> str: ...
def connect(database_url: str | None, data_dir: str, admins: list[str], done: _Done) -> Operation: ...
@final
class Operation:
    def cancel(self) -> None: ...
    def done(self) -> bool: ...

@final
class Handle:
    @property
    def closed(self) -> bool: ...
    def close(self, done: _Done) -> Operation: ...
    def committees(self, after: str | None, limit: int, done: _Done) -> Operation: ...
    def committee(self, key: str, done: _Done) -> Operation: ...
    def projects(self, after: str | None, limit: int, done: _Done) -> Operation: ...
    def project(self, key: str, done: _Done) -> Operation: ...
    def releases(
        self,
        principal: Principal | None,
        project: str,
        product: str | None,
        stage: str | None,
        after: str | None,
        limit: int,
        done: _Done,
    ) -> Operation: ...
    def release(
        self, principal: Principal | None, project: str, version: str, product: str | None, done: _Done
    ) -> Operation: ...
    def revisions(
        self,
        principal: Principal | None,
        project: str,
        version: str,
        product: str | None,
        after: int | None,
        limit: int,
        done: _Done,
    ) -> Operation: ...
    def check_results(
        self, principal: Principal | None, project: str, version: str, product: str | None, revision: int, done: _Done
    ) -> Operation: ...
    def keys(self, committee: str, done: _Done) -> Operation: ...
    def events(
        self,
        principal: Principal | None,
        project: str | None,
        version: str | None,
        product: str | None,
        before: int | None,
        limit: int,
        done: _Done,
    ) -> Operation: ...
    def put_committee(
        self,
        principal: Principal | None,
        key: str,
        name: str | None,
        pmc_members: list[str],
        committers: list[str],
        release_managers: list[str],
        podling: bool | None,
        done: _Done,
    ) -> Operation: ...
    def create_project(
        self, principal: Principal | None, key: str, committee: str, name: str, done: _Done
    ) -> Operation: ...
    def start_release(
        self, principal: Principal | None, project: str, version: str, product: str | None, done: _Done
    ) -> Operation: ...
    def upload(
        self,
        principal: Principal | None,
        project: str,
        version: str,
        product: str | None,
        files: list[tuple[str, str]],
        description: str | None,
        done: _Done,
    ) -> Operation: ...
    def start_vote(
        self, principal: Principal | None, project: str, version: str, product: str | None, revision: int, done: _Done
    ) -> Operation: ...
    def cast_ballot(
        self,
        principal: Principal | None,
        project: str,
        version: str,
        product: str | None,
        value: str,
        comment: str | None,
        done: _Done,
    ) -> Operation: ...
    def resolve(
        self, principal: Principal | None, project: str, version: str, product: str | None, outcome: str, done: _Done
    ) -> Operation: ...
    def announce(
        self, principal: Principal | None, project: str, version: str, product: str | None, confirmed: bool, done: _Done
    ) -> Operation: ...
    def add_key(self, principal: Principal | None, committee: str, armored: str, done: _Done) -> Operation: ...
    def tally(
        self, principal: Principal | None, project: str, version: str, product: str | None, done: _Done
    ) -> Operation: ...
    def token_principal(self, bearer: str, done: _Done) -> Operation: ...
    def create_token(
        self,
        principal: Principal | None,
        name: str,
        projects: list[str],
        activities: list[str],
        expires_in_days: int,
        done: _Done,
    ) -> Operation: ...
    def revoke_token(self, principal: Principal | None, id: str, done: _Done) -> Operation: ...
    def import_keys(self, principal: Principal | None, committee: str, keys: bytes, done: _Done) -> Operation: ...
    def set_project_policy(self, principal: Principal | None, project: str, policy: str, done: _Done) -> Operation: ...
    def task(self, principal: Principal | None, id: int, done: _Done) -> Operation: ...
    def cancel_task(self, principal: Principal | None, id: int, done: _Done) -> Operation: ...
    def wait(self, principal: Principal | None, id: int, timeout: float, done: _Done) -> Operation: ...
