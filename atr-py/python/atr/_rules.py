"""Principals, roles, activities and the permission decision, which is the core's."""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import _atr
from ._errors import InvalidInput, InvalidSession

__all__ = ["Role", "Activity", "TokenGrant", "Principal", "can", "authorize"]


class Role(str, enum.Enum):
    """A role of the permission table (the names are the core's; a test holds them equal)."""

    PMC_MEMBER = "pmc_member"
    RELEASE_MANAGER = "release_manager"
    COMMITTER = "committer"
    VISITOR = "visitor"
    ASF_MEMBER = "asf_member"
    ADMIN = "admin"

    def __str__(self) -> str:
        return str(self.value)


class Activity(str, enum.Enum):
    """An activity of the permission table (the names are the core's; a test holds them equal)."""

    BINDING_VOTE = "binding_vote"
    VOTE = "vote"
    MANAGE_RELEASE = "manage_release"
    MANAGE_POLICY = "manage_policy"
    MANAGE_METADATA = "manage_metadata"
    MANAGE_KEYS = "manage_keys"
    MANAGE_OWN_KEY = "manage_own_key"
    PERFORM_ACTIONS = "perform_actions"
    VIEW_DRAFTS = "view_drafts"
    VIEW_RELEASE_EVENTS = "view_release_events"
    VIEW_ALL_EVENTS = "view_all_events"
    CREATE_TOKEN = "create_token"
    VIEW_TASKS = "view_tasks"
    MANAGE_TASKS = "manage_tasks"
    CREATE_PROJECT = "create_project"
    MANAGE_COMMITTEES = "manage_committees"
    MANAGE_ACCOUNTS = "manage_accounts"
    VERIFY_AUDIT = "verify_audit"

    def __str__(self) -> str:
        return str(self.value)


def _names(value: object, what: str, error: type[Exception]) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise error(f"{what} must be a list of committee names, not {type(value).__name__}")
    for item in value:
        if not isinstance(item, str):
            raise error(f"{what} must hold committee names (str), not {type(item).__name__}")
    return frozenset(value)


def _flag(value: object, what: str, error: type[Exception]) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise error(f"{what} must be a bool, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class TokenGrant:
    """What a personal access token grants, never its secret: its public ``id``, the
    ``projects`` and ``activities`` it is scoped to, and when it was made and expires (aware
    UTC datetimes). Pure data; the platform's stored grant is what counts for its writes."""

    id: str
    projects: frozenset[str]
    activities: frozenset[Activity]
    created_at: _dt.datetime
    expires_at: _dt.datetime

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise InvalidInput("a token's id is a non-empty str")
        object.__setattr__(self, "projects", _names(_listed(self.projects), "the token's projects", InvalidInput))
        activities = _listed(self.activities)
        if not isinstance(activities, tuple):
            raise InvalidInput("the token's activities must be a set of atr.Activity (or their names)")
        try:
            object.__setattr__(self, "activities", frozenset(Activity(a) for a in activities))
        except ValueError as e:
            raise InvalidInput(f"the token's activities: {e}") from None
        for name in ("created_at", "expires_at"):
            value = getattr(self, name)
            if not isinstance(value, _dt.datetime) or value.tzinfo is None:
                raise InvalidInput(f"the token's {name} must be an aware datetime")

    @classmethod
    def _of(cls, d: Mapping[str, Any]) -> TokenGrant:
        utc = _dt.timezone.utc
        return cls(
            id=d["id"],
            projects=frozenset(d["projects"]),
            activities=frozenset(Activity(a) for a in d["activities"]),
            created_at=_dt.datetime.fromtimestamp(d["created_at"], tz=utc),
            expires_at=_dt.datetime.fromtimestamp(d["expires_at"], tz=utc),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: lists sorted, times as Unix seconds (the JSON API's ``Grant`` without its
        ``owner``, which is the principal's ``uid``)."""
        return {
            "id": self.id,
            "projects": sorted(self.projects),
            "activities": sorted(a.value for a in self.activities),
            "created_at": int(self.created_at.timestamp()),
            "expires_at": int(self.expires_at.timestamp()),
        }


@dataclass(frozen=True)
class Principal:
    """Who is asking: a person with their committees, or nobody. Pure data, no IO.

    ``member_of`` are the committees whose PMC the person sits on; ``participant_of`` those whose
    projects they commit to. Members are always participants too. ``token`` is the grant of the
    personal access token the person acts with (see :meth:`atr.Handle.token_principal`), or
    ``None``: a token acts only on its projects and activities.
    """

    uid: str | None
    member_of: frozenset[str] = frozenset()
    participant_of: frozenset[str] = frozenset()
    is_admin: bool = False
    is_asf_member: bool = False
    is_chair: bool = False
    is_role_account: bool = False
    mfa: bool = False
    token: TokenGrant | None = None

    def __post_init__(self) -> None:
        _check(self, InvalidInput)

    @classmethod
    def anonymous(cls) -> Principal:
        """Nobody signed in."""
        return cls(uid=None)

    @classmethod
    def committer(
        cls,
        uid: str,
        *,
        member_of: Iterable[str] = (),
        participant_of: Iterable[str] = (),
        is_admin: bool = False,
        is_asf_member: bool = False,
        is_chair: bool = False,
        is_role_account: bool = False,
        mfa: bool = False,
    ) -> Principal:
        """A signed-in person."""
        if not isinstance(uid, str) or not uid:
            raise InvalidInput("a committer needs a uid (a non-empty str)")
        members = _names(_listed(member_of), "member_of", InvalidInput)
        return cls(
            uid=uid,
            member_of=members,
            participant_of=members | _names(_listed(participant_of), "participant_of", InvalidInput),
            is_admin=is_admin,
            is_asf_member=is_asf_member,
            is_chair=is_chair,
            is_role_account=is_role_account,
            mfa=mfa,
        )

    @classmethod
    def from_asfquart(cls, session: object, *, admins: Iterable[str] = (), trust_root: bool = False) -> Principal:
        """The principal of an asfquart session in any of the shapes asfquart hands around.

        An ``asfquart.session.ClientSession`` (``uid``, ``committees``, ``projects``,
        ``isMember``, ``isChair``, ``isRole``, ``mfa``, ``isRoot``), the raw OAuth dict (``pmcs``,
        ``projects``, ``roleaccount``), or a server-side session object or dict
        (``member_committees``, ``participant_committees``, ``is_member``, ``is_chair``,
        ``is_role``). ``None`` is :meth:`anonymous`. Admin comes from ``admins``, or from
        ``isRoot`` only with ``trust_root=True``. Raises :class:`InvalidSession`.
        """
        if session is None:
            return cls.anonymous()
        admin_names = _names(_listed(admins), "admins", InvalidInput)

        def has(name: str) -> bool:
            if isinstance(session, Mapping):
                return name in session
            return hasattr(session, name)

        def get(name: str) -> Any:
            if isinstance(session, Mapping):
                return session.get(name)
            return getattr(session, name, None)

        if has("member_committees") or has("participant_committees"):
            members, participants = get("member_committees"), get("participant_committees")
            is_member, is_chair, is_role = get("is_member"), get("is_chair"), get("is_role")
        elif has("pmcs"):
            members, participants = get("pmcs"), get("projects")
            is_member, is_chair = get("isMember"), get("isChair")
            is_role = get("roleaccount") if has("roleaccount") else get("isRole")
        elif has("committees"):
            members, participants = get("committees"), get("projects")
            is_member, is_chair, is_role = get("isMember"), get("isChair"), get("isRole")
        else:
            raise InvalidSession(
                f"a session of type {type(session).__name__} names no committees "
                "(committees, pmcs or member_committees)"
            )
        uid = get("uid")
        if not isinstance(uid, str) or not uid:
            raise InvalidSession("the session has no uid (a non-empty str)")
        root = _flag(get("isRoot"), "isRoot", InvalidSession)
        member_of = _names(members, "the member committees", InvalidSession)
        principal = object.__new__(cls)
        fields = {
            "uid": uid,
            "member_of": member_of,
            "participant_of": member_of | _names(participants, "the participant committees", InvalidSession),
            "is_admin": uid in admin_names or (trust_root and root),
            "is_asf_member": _flag(is_member, "isMember", InvalidSession),
            "is_chair": _flag(is_chair, "isChair", InvalidSession),
            "is_role_account": _flag(is_role, "isRole", InvalidSession),
            "mfa": _flag(get("mfa"), "mfa", InvalidSession),
            "token": None,
        }
        for name, value in fields.items():
            object.__setattr__(principal, name, value)
        _check(principal, InvalidSession)
        return principal

    def is_member_of(self, committee: str) -> bool:
        """True if the person sits on the committee's PMC."""
        return _committee(committee) in self.member_of

    def is_participant_of(self, committee: str) -> bool:
        """True if the person commits to (or sits on) the committee."""
        return _committee(committee) in self.participant_of

    @property
    def is_anonymous(self) -> bool:
        """True when nobody is signed in."""
        return self.uid is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the committee lists sorted."""
        return {
            "uid": self.uid,
            "member_of": sorted(self.member_of),
            "participant_of": sorted(self.participant_of),
            "is_admin": self.is_admin,
            "is_asf_member": self.is_asf_member,
            "is_chair": self.is_chair,
            "is_role_account": self.is_role_account,
            "mfa": self.mfa,
            "token": None if self.token is None else self.token.to_dict(),
        }


def _listed(value: Iterable[str]) -> object:
    """An iterable given to a constructor, as a tuple to check (a str is refused, not split)."""
    if isinstance(value, (str, bytes)):
        return value
    try:
        return tuple(value)
    except TypeError:
        return value


def _check(principal: Principal, error: type[Exception]) -> None:
    if principal.uid is not None and (not isinstance(principal.uid, str) or not principal.uid):
        raise error("uid must be a non-empty str or None")
    for name in ("member_of", "participant_of"):
        value = getattr(principal, name)
        if not isinstance(value, frozenset):
            object.__setattr__(principal, name, _names(_listed(value), name, error))
        else:
            _names(value, name, error)
    for name in ("is_admin", "is_asf_member", "is_chair", "is_role_account", "mfa"):
        if not isinstance(getattr(principal, name), bool):
            raise error(f"{name} must be a bool")
    if principal.token is not None and not isinstance(principal.token, TokenGrant):
        raise error(f"token must be an atr.TokenGrant or None, not {type(principal.token).__name__}")
    if principal.uid is None and (
        principal.member_of or principal.participant_of or principal.is_admin or principal.token is not None
    ):
        raise error("an anonymous principal has no committees, no roles and no token")
    if not principal.member_of <= principal.participant_of:
        object.__setattr__(principal, "participant_of", principal.participant_of | principal.member_of)
    problem = _atr.principal_problem(principal.uid, sorted(principal.participant_of))
    if problem is not None:
        raise error(problem)


def _committee(committee: object) -> str:
    if not isinstance(committee, str):
        raise InvalidInput(f"a committee name is a str, not {type(committee).__name__}")
    return committee


def _question(
    principal: object, activity: object, committee: object, project: object, release_managers: Iterable[str]
) -> tuple[Principal, str, str, str | None, frozenset[str]]:
    if not isinstance(principal, Principal):
        raise InvalidInput(f"principal must be an atr.Principal, not {type(principal).__name__}")
    if isinstance(activity, Activity):
        name = activity.value
    elif isinstance(activity, str):
        name = activity
    else:
        raise InvalidInput(f"activity must be an atr.Activity or its name, not {type(activity).__name__}")
    if project is not None and not isinstance(project, str):
        raise InvalidInput(f"a project name is a str, not {type(project).__name__}")
    managers = _names(_listed(release_managers), "release_managers", InvalidInput)
    return principal, name, _committee(committee), project, managers


def can(
    principal: Principal,
    activity: Activity | str,
    committee: str,
    *,
    project: str | None = None,
    release_managers: Iterable[str] = frozenset(),
) -> bool:
    """May the principal do the activity on the committee's projects (or on ``project``, one
    project of the committee)? Decided by the core.

    Roles come from the principal's own committee lists (and ``release_managers``, the uids the
    committee lets manage releases). A visitor's vote needs a consent record, which only the
    platform holds, so ``can`` answers no for it. A principal with a token acts only on the
    token's projects, so ask about one with ``project=``: about a bare committee a token is
    always refused.
    """
    p, name, c, pr, managers = _question(principal, activity, committee, project, release_managers)
    return _atr.can(p, name, c, pr, managers)


def authorize(
    principal: Principal,
    activity: Activity | str,
    committee: str,
    *,
    project: str | None = None,
    release_managers: Iterable[str] = frozenset(),
) -> None:
    """As :func:`can`, but raises :class:`Forbidden` (or :class:`NotAuthenticated` for what
    needs someone signed in) with the core's reason."""
    p, name, c, pr, managers = _question(principal, activity, committee, project, release_managers)
    _atr.authorize(p, name, c, pr, managers)
