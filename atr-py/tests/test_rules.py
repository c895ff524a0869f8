"""The core's rules through Python: names, the whole permission table, principals from every
session shape, and the exception tree."""

from __future__ import annotations

import dataclasses
import datetime as dt
import types

import pytest

import atr
from atr import _atr
from conftest import REPO

ROLES_TABLE = REPO / "atr-core" / "src" / "auth" / "roles.table"
COLUMNS = ["pmc_member", "release_manager", "committer", "visitor", "asf_member", "admin"]


def test_role_and_activity_names_are_the_cores() -> None:
    assert [r.value for r in atr.Role] == _atr.role_names()
    assert [a.value for a in atr.Activity] == _atr.activity_names()
    assert str(atr.Activity.MANAGE_RELEASE) == "manage_release"
    assert atr.Role("pmc_member") is atr.Role.PMC_MEMBER


def _table() -> list[tuple[str, list[str]]]:
    rows = []
    for line in ROLES_TABLE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split("|")]
        rows.append((cells[0], cells[1:]))
    return rows


def _holder(role: str) -> tuple[atr.Principal, frozenset[str]]:
    """A principal holding exactly `role` on httpd, and the release managers to pass."""
    uid = role.replace("_", "-")
    if role == "pmc_member":
        return atr.Principal.committer(uid, member_of=["httpd"]), frozenset()
    if role == "release_manager":
        return atr.Principal.committer(uid), frozenset([uid])
    if role == "committer":
        return atr.Principal.committer(uid, participant_of=["httpd"]), frozenset()
    if role == "visitor":
        return atr.Principal.committer(uid), frozenset()
    if role == "asf_member":
        return atr.Principal.committer(uid, is_asf_member=True), frozenset()
    return atr.Principal.committer(uid, is_admin=True), frozenset()


def test_every_cell_of_the_permission_table() -> None:
    table = _table()
    assert [name for name, _ in table] == _atr.activity_names()
    cells = 0
    for activity, row in table:
        assert len(row) == len(COLUMNS), activity
        for role, cell in zip(COLUMNS, row):
            principal, managers = _holder(role)
            # Python principals carry no consent record, which a "consent" cell needs.
            expected = cell == "yes"
            got = atr.can(principal, activity, "httpd", release_managers=managers)
            assert got is expected, f"{role} / {activity}: {cell!r}"
            if expected:
                atr.authorize(principal, atr.Activity(activity), "httpd", release_managers=managers)
            else:
                with pytest.raises(atr.Forbidden) as refused:
                    atr.authorize(principal, activity, "httpd", release_managers=managers)
                # Everyone is a visitor, so every refused vote is for want of consent.
                reason = "no_consent" if activity == "vote" else "needs_role"
                assert refused.value.details["reason"] == reason, (role, activity)
                assert refused.value.http_status == 403 and refused.value.code == "forbidden"
            cells += 1
    assert cells == len(COLUMNS) * len(atr.Activity)


def test_roles_stay_on_their_committee() -> None:
    pmc = atr.Principal.committer("alice", member_of=["httpd"])
    assert atr.can(pmc, "binding_vote", "httpd")
    assert not atr.can(pmc, "binding_vote", "tomcat")
    with pytest.raises(atr.Forbidden, match="committee tomcat"):
        atr.authorize(pmc, "manage_release", "tomcat")


def test_anonymous_is_refused_what_needs_someone() -> None:
    nobody = atr.Principal.anonymous()
    assert atr.can(nobody, "view_release_events", "httpd")
    assert not atr.can(nobody, "create_token", "httpd")
    with pytest.raises(atr.NotAuthenticated) as refused:
        atr.authorize(nobody, "create_token", "httpd")
    assert refused.value.http_status == 401


@pytest.mark.parametrize(
    "call",
    [
        lambda p: atr.can(p, "fly", "httpd"),
        lambda p: atr.can(p, 3, "httpd"),
        lambda p: atr.can(p, "vote", 42),
        lambda p: atr.can(p, "vote", "Not A Committee!"),
        lambda p: atr.can(p, "vote", "httpd", release_managers="alice"),
        lambda p: atr.can({"uid": "alice"}, "vote", "httpd"),
    ],
)
def test_bad_questions_are_invalid_input(call: types.FunctionType) -> None:
    with pytest.raises(atr.InvalidInput) as refused:
        call(atr.Principal.committer("alice"))
    assert isinstance(refused.value, ValueError) and refused.value.http_status == 400


def test_principal_is_frozen_hashable_and_members_participate() -> None:
    p = atr.Principal.committer("alice", member_of=["httpd"], participant_of=["tomcat"])
    assert p.participant_of == frozenset({"httpd", "tomcat"})
    assert p.is_member_of("httpd") and p.is_participant_of("httpd") and not p.is_member_of("tomcat")
    assert hash(p) == hash(atr.Principal.committer("alice", member_of=("httpd",), participant_of={"tomcat"}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.uid = "bob"  # type: ignore[misc]
    assert p.to_dict() == {
        "uid": "alice",
        "member_of": ["httpd"],
        "participant_of": ["httpd", "tomcat"],
        "is_admin": False,
        "is_asf_member": False,
        "is_chair": False,
        "is_role_account": False,
        "mfa": False,
        "token": None,
    }
    assert atr.Principal.anonymous().to_dict()["uid"] is None
    with pytest.raises(atr.InvalidInput):
        atr.Principal.committer("")
    with pytest.raises(atr.InvalidInput):
        atr.Principal.committer("Not A Uid!")


class ServerSession:
    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)


def _client_session(raw: dict[str, object]) -> object:
    from asfquart.session import ClientSession

    return ClientSession(raw)


OAUTH = {
    "uid": "alice",
    "pmcs": ["httpd"],
    "projects": ["httpd", "tomcat"],
    "isMember": True,
    "isChair": False,
    "isRoot": True,
    "mfa": True,
    "roleaccount": False,
}


@pytest.mark.parametrize(
    "session",
    [
        pytest.param(lambda: dict(OAUTH), id="oauth-dict"),
        pytest.param(lambda: _client_session(dict(OAUTH)), id="asfquart-ClientSession"),
        pytest.param(
            lambda: ServerSession(
                uid="alice",
                member_committees=["httpd"],
                participant_committees=["tomcat"],
                is_member=True,
                is_chair=False,
                is_role=False,
                mfa=True,
                isRoot=True,
            ),
            id="server-session-object",
        ),
        pytest.param(
            lambda: {
                "uid": "alice",
                "member_committees": ["httpd"],
                "participant_committees": ["tomcat"],
                "is_member": True,
                "is_chair": False,
                "is_role": False,
                "mfa": True,
                "isRoot": True,
            },
            id="server-session-dict",
        ),
    ],
)
def test_every_session_shape(session: types.FunctionType) -> None:
    p = atr.Principal.from_asfquart(session())
    assert p.uid == "alice"
    assert p.member_of == frozenset({"httpd"})
    assert p.participant_of == frozenset({"httpd", "tomcat"})
    assert p.is_asf_member and p.mfa and not p.is_chair and not p.is_role_account
    # isRoot makes an admin only when trusted.
    assert not p.is_admin
    assert atr.Principal.from_asfquart(session(), trust_root=True).is_admin
    assert atr.Principal.from_asfquart(session(), admins=["alice"]).is_admin
    assert not atr.Principal.from_asfquart(session(), admins=["bob"]).is_admin
    assert atr.can(p, "binding_vote", "httpd") and not atr.can(p, "binding_vote", "tomcat")


def test_no_session_is_anonymous() -> None:
    assert atr.Principal.from_asfquart(None) == atr.Principal.anonymous()


@pytest.mark.parametrize(
    "session",
    [
        {"pmcs": ["httpd"], "projects": []},
        {"uid": "", "pmcs": [], "projects": []},
        {"uid": 7, "pmcs": [], "projects": []},
        {"uid": "alice", "pmcs": "httpd", "projects": []},
        {"uid": "alice", "pmcs": [1], "projects": []},
        {"uid": "alice", "pmcs": ["Bad Name"], "projects": []},
        {"uid": "alice", "pmcs": [], "projects": [], "isMember": "yes"},
        {"uid": "alice"},
        "alice",
        42,
    ],
)
def test_bad_sessions_are_invalid_session(session: object) -> None:
    with pytest.raises(atr.InvalidSession) as refused:
        atr.Principal.from_asfquart(session)
    assert isinstance(refused.value, ValueError)
    assert refused.value.http_status == 401 and refused.value.code == "invalid_session"


def test_the_exception_tree_is_the_native_mapping() -> None:
    kinds = _atr._error_kinds()
    assert [k[0] for k in kinds] == [
        "NotAuthenticated",
        "InvalidSession",
        "Forbidden",
        "NotFound",
        "Conflict",
        "InvalidInput",
        "Unavailable",
    ]
    for name, code, status in kinds:
        cls = getattr(atr, name)
        assert issubclass(cls, atr.AtrError)
        error = cls("x")
        assert (error.code, error.http_status) == (code, status)
    expected = {"NotAuthenticated": 401, "InvalidSession": 401, "Forbidden": 403, "NotFound": 404,
                "Conflict": 409, "InvalidInput": 400, "Unavailable": 503}
    assert {k[0]: k[2] for k in kinds} == expected
    assert issubclass(atr.InvalidInput, ValueError) and issubclass(atr.InvalidSession, ValueError)


def _grant(
    projects: tuple[str, ...] = ("httpd",), activities: tuple[str, ...] = ("manage_release",), hours: float = 1
) -> atr.TokenGrant:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    created = now if hours > 0 else now - dt.timedelta(hours=2)
    return atr.TokenGrant(
        id="0123456789abcdef01234567",
        projects=frozenset(projects),
        activities=frozenset(activities),
        created_at=created,
        expires_at=now + dt.timedelta(hours=hours),
    )


def test_a_token_acts_on_its_projects_and_activities_only() -> None:
    """The core's token rules through can/authorize: project= asks about one project."""
    alice = atr.Principal.committer("alice", member_of=["httpd"])
    held = dataclasses.replace(alice, token=_grant())
    assert atr.can(alice, "perform_actions", "httpd", project="httpd")
    assert atr.can(held, "manage_release", "httpd", project="httpd")
    atr.authorize(held, atr.Activity.MANAGE_RELEASE, "httpd", project="httpd")

    def reason(principal: atr.Principal, activity: str, project: str | None) -> str:
        assert not atr.can(principal, activity, "httpd", project=project)
        with pytest.raises(atr.Forbidden) as refused:
            atr.authorize(principal, activity, "httpd", project=project)
        return str(refused.value.details["reason"])

    assert reason(held, "manage_release", None) == "token_project"
    assert reason(held, "manage_release", "tomcat") == "token_project"
    assert reason(held, "perform_actions", "httpd") == "token_activity"
    assert reason(held, "binding_vote", "httpd") == "token_activity"
    assert reason(held, "create_token", "httpd") == "session_only"
    # The owner's roles still count: a token never gives more than its owner holds.
    outsider = dataclasses.replace(atr.Principal.committer("bob"), token=_grant())
    assert reason(outsider, "manage_release", "httpd") == "needs_role"
    assert reason(dataclasses.replace(alice, token=_grant(hours=-1)), "manage_release", "httpd") == "token_expired"


def test_a_token_grant_is_frozen_data_and_never_a_secret() -> None:
    grant = _grant(activities=("manage_release", "perform_actions"))
    held = dataclasses.replace(atr.Principal.committer("alice", member_of=["httpd"]), token=grant)
    assert grant.activities == frozenset({atr.Activity.MANAGE_RELEASE, atr.Activity.PERFORM_ACTIONS})
    assert hash(held) == hash(dataclasses.replace(held))
    assert held.to_dict()["token"] == {
        "id": "0123456789abcdef01234567",
        "projects": ["httpd"],
        "activities": ["manage_release", "perform_actions"],
        "created_at": int(grant.created_at.timestamp()),
        "expires_at": int(grant.expires_at.timestamp()),
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        grant.id = "x"  # type: ignore[misc]
    naive = dt.datetime(2030, 1, 1)
    bad = [
        lambda: dataclasses.replace(grant, activities=frozenset({"fly"})),
        lambda: dataclasses.replace(grant, activities="manage_release"),
        lambda: dataclasses.replace(grant, projects="httpd"),
        lambda: dataclasses.replace(grant, expires_at=naive),
        lambda: dataclasses.replace(grant, id=""),
        lambda: atr.Principal(uid=None, token=grant),
        lambda: atr.Principal(uid="alice", token="atr_x"),  # type: ignore[arg-type]
    ]
    for make in bad:
        with pytest.raises(atr.InvalidInput):
            make()
    # What the core refuses for a grant is bad input, not a refusal.
    above = dataclasses.replace(held, token=dataclasses.replace(grant, activities=frozenset({"manage_accounts"})))
    with pytest.raises(atr.InvalidInput, match="release-manager"):
        atr.can(above, "manage_release", "httpd", project="httpd")
    with pytest.raises(atr.InvalidInput):
        atr.can(held, "manage_release", "httpd", project=42)  # type: ignore[arg-type]
