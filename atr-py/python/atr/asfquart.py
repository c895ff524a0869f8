"""Glue for asfquart apps: the principal of the request (of its session, or of the platform's
personal access token it sends), a permission decorator, and :class:`atr.AtrError` answered
with its HTTP status.

asfquart is imported only when these functions run; install ``atr[asfquart]`` to use them.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from ._errors import AtrError, InvalidInput, Unavailable
from ._handle import Handle
from ._rules import Activity, Principal, authorize

__all__ = ["Settings", "install", "current_principal", "require"]

R = TypeVar("R")


@dataclass(frozen=True)
class Settings:
    """What :func:`install` keeps in ``app.extensions["atr"]``."""

    handle: Handle
    admins: frozenset[str]
    trust_root: bool
    bearer: bool = True


#: Where the token handler keeps the principal of the request's bearer token (on ``quart.g``).
_HELD = "_atr_token_principal"
#: The key of the token's id in the metadata of the asfquart session a token makes.
_TOKEN_METADATA = "atr_token"


def install(
    app: Any, handle: Handle, *, admins: Iterable[str] = (), trust_root: bool = False, bearer: bool = True
) -> None:
    """Sets the app up: its settings in ``app.extensions["atr"]``, an error handler that answers
    every :class:`atr.AtrError` with its ``http_status`` and the JSON API's error body, and (with
    ``bearer=True``) ``app.token_handler``, which checks the platform's personal access tokens
    that requests send as ``Authorization: Bearer atr_...``.

    asfquart calls the token handler for a request with a Bearer header and no session cookie.
    A token the core accepts makes an asfquart session (the owner's uid, their committees among
    those of the token's projects, ``isMember``) whose principal, for
    :func:`current_principal` and :func:`require`, carries the token: it acts only on the
    token's projects and activities. Any other token raises :class:`atr.NotAuthenticated`, which
    the error handler answers with 401: a caller who sends a token learns why it does not work
    rather than silently being anonymous.
    """
    if not isinstance(handle, Handle):
        raise InvalidInput(f"handle must be an atr.Handle, not {type(handle).__name__}")
    names = frozenset(admins)
    if any(not isinstance(a, str) for a in names):
        raise InvalidInput("admins must be uids (str)")
    settings = Settings(handle=handle, admins=names, trust_root=bool(trust_root), bearer=bool(bearer))
    app.extensions["atr"] = settings

    async def answer(error: AtrError) -> Any:
        import quart

        return quart.jsonify(error.to_dict()), error.http_status

    app.register_error_handler(AtrError, answer)

    if settings.bearer:

        async def token_handler(token: str) -> dict[str, Any]:
            import quart

            principal = await handle.token_principal(token)
            if principal.token is None:
                raise Unavailable("the platform answered a token with a principal that carries none")
            setattr(quart.g, _HELD, principal)
            return {
                "uid": principal.uid,
                "pmcs": sorted(principal.member_of),
                "projects": sorted(principal.participant_of),
                "isMember": principal.is_asf_member,
                "metadata": {_TOKEN_METADATA: principal.token.id},
            }

        app.token_handler = token_handler


def _settings(app: Any) -> Settings:
    settings = app.extensions.get("atr")
    if not isinstance(settings, Settings):
        raise RuntimeError("atr.asfquart.install(app, handle) was not called for this app")
    return settings


def _held_token(session: Any) -> Principal | None:
    """The token principal that the token handler made for this request's session, if it did."""
    import quart

    if session is None or not quart.has_request_context():
        return None
    held = getattr(quart.g, _HELD, None)
    metadata = getattr(session, "metadata", None)
    if not isinstance(held, Principal) or held.token is None or not isinstance(metadata, dict):
        return None
    if metadata.get(_TOKEN_METADATA) != held.token.id or getattr(session, "uid", None) != held.uid:
        return None
    return held


async def current_principal(app: Any = None) -> Principal:
    """The principal of the current request: of its asfquart session (anonymous without one),
    or of its personal access token (carrying the token's grant) when ``install`` was called
    with ``bearer=True`` and the request sent ``Authorization: Bearer atr_...``."""
    import asfquart
    import asfquart.session

    app = app if app is not None else asfquart.APP
    settings = _settings(app)
    session = await asfquart.session.read(app=app)
    held = _held_token(session) if settings.bearer else None
    if held is not None:
        return held
    return Principal.from_asfquart(session, admins=settings.admins, trust_root=settings.trust_root)


def require(
    activity: Activity | str, committee_arg: str = "committee", *, project_arg: str | None = None
) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """A decorator: the handler runs only if the core allows ``activity`` on the committee named
    by the route argument ``committee_arg`` (or, with ``project_arg``, on the project of that
    committee named by that route argument), and receives ``principal=``. Anonymous users are
    sent to the login redirect (as ``asfquart.auth.require`` does); others get
    :class:`atr.Forbidden` (403). Stacks with ``asfquart.auth.require``.

    A principal with a personal access token acts only on the token's projects: its routes need
    ``project_arg``, since about a bare committee a token is always refused.
    """
    if not isinstance(activity, (Activity, str)):
        raise InvalidInput("activity must be an atr.Activity or its name")
    if project_arg is not None and not isinstance(project_arg, str):
        raise InvalidInput("project_arg must name a route argument (str)")

    def decorate(handler: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @functools.wraps(handler)
        async def guarded(*args: Any, **kwargs: Any) -> R:
            import asfquart.auth

            principal = await current_principal()
            if principal.uid is None:
                raise asfquart.auth.AuthenticationFailed(asfquart.auth.Requirements.E_NOT_LOGGED_IN)
            if committee_arg not in kwargs:
                raise InvalidInput(f"the route has no argument {committee_arg!r} naming the committee")
            if project_arg is not None and project_arg not in kwargs:
                raise InvalidInput(f"the route has no argument {project_arg!r} naming the project")
            project = None if project_arg is None else kwargs[project_arg]
            authorize(principal, activity, kwargs[committee_arg], project=project)
            return await handler(*args, principal=principal, **kwargs)

        return guarded

    return decorate
