"""Glue for asfquart apps: the principal of the request, a permission decorator, and
:class:`atr.AtrError` answered with its HTTP status.

asfquart is imported only when these functions run; install ``atr[asfquart]`` to use them.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from ._errors import AtrError, InvalidInput
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


def install(app: Any, handle: Handle, *, admins: Iterable[str] = (), trust_root: bool = False) -> None:
    """Sets the app up: its settings in ``app.extensions["atr"]`` and an error handler that
    answers every :class:`atr.AtrError` with its ``http_status`` and the JSON API's error body.
    """
    if not isinstance(handle, Handle):
        raise InvalidInput(f"handle must be an atr.Handle, not {type(handle).__name__}")
    names = frozenset(admins)
    if any(not isinstance(a, str) for a in names):
        raise InvalidInput("admins must be uids (str)")
    app.extensions["atr"] = Settings(handle=handle, admins=names, trust_root=bool(trust_root))

    async def answer(error: AtrError) -> Any:
        import quart

        return quart.jsonify(error.to_dict()), error.http_status

    app.register_error_handler(AtrError, answer)


def _settings(app: Any) -> Settings:
    settings = app.extensions.get("atr")
    if not isinstance(settings, Settings):
        raise RuntimeError("atr.asfquart.install(app, handle) was not called for this app")
    return settings


async def current_principal(app: Any = None) -> Principal:
    """The principal of the current request's asfquart session (anonymous without one)."""
    import asfquart
    import asfquart.session

    app = app if app is not None else asfquart.APP
    settings = _settings(app)
    session = await asfquart.session.read(app=app)
    return Principal.from_asfquart(session, admins=settings.admins, trust_root=settings.trust_root)


def require(
    activity: Activity | str, committee_arg: str = "committee"
) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """A decorator: the handler runs only if the core allows ``activity`` on the committee named
    by the route argument ``committee_arg``, and receives ``principal=``. Anonymous users are sent
    to the login redirect (as ``asfquart.auth.require`` does); others get :class:`atr.Forbidden`
    (403). Stacks with ``asfquart.auth.require``.
    """
    if not isinstance(activity, (Activity, str)):
        raise InvalidInput("activity must be an atr.Activity or its name")

    def decorate(handler: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @functools.wraps(handler)
        async def guarded(*args: Any, **kwargs: Any) -> R:
            import asfquart.auth

            principal = await current_principal()
            if principal.uid is None:
                raise asfquart.auth.AuthenticationFailed(asfquart.auth.Requirements.E_NOT_LOGGED_IN)
            if committee_arg not in kwargs:
                raise InvalidInput(f"the route has no argument {committee_arg!r} naming the committee")
            authorize(principal, activity, kwargs[committee_arg])
            return await handler(*args, principal=principal, **kwargs)

        return guarded

    return decorate
