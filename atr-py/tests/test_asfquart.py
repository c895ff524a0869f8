"""The asfquart glue on a small app built offline: sessions written with session_transaction()
under the app's id, the login redirect, the permission decorator and the error mapping."""

from __future__ import annotations

import asyncio
import pathlib
import time
from typing import Any

import pytest

import atr

asfquart = pytest.importorskip("asfquart")
import asfquart.auth  # noqa: E402

import atr.asfquart  # noqa: E402

ROOT = atr.Principal.committer("root")


def make_app(handle: atr.Handle) -> Any:
    app = asfquart.construct("atr-glue-test", token_file=None)
    app.config["SESSION_COOKIE_SECURE"] = False
    atr.asfquart.install(app, handle, admins=["root"])

    @app.route("/<committee>/vote")
    @atr.asfquart.require(atr.Activity.BINDING_VOTE)
    async def vote(committee: str, principal: atr.Principal) -> dict[str, Any]:
        return {"uid": principal.uid, "committee": committee}

    @app.route("/<committee>/member-only")
    @asfquart.auth.require(asfquart.auth.Requirements.member)
    @atr.asfquart.require("manage_release")
    async def member_only(committee: str, principal: atr.Principal) -> dict[str, Any]:
        return {"uid": principal.uid}

    @app.route("/whoami")
    async def whoami() -> dict[str, Any]:
        return (await atr.asfquart.current_principal()).to_dict()

    @app.route("/committees/<key>")
    async def committee(key: str) -> dict[str, Any]:
        return (await app.extensions["atr"].handle.committee(key)).to_dict()

    return app


async def login(client: Any, app: Any, session: dict[str, Any] | None) -> None:
    async with client.session_transaction() as stored:
        if session is None:
            stored.pop(app.app_id, None)
        else:
            stored[app.app_id] = {**session, "uts": time.time()}


def test_the_glue(tmp_path: pathlib.Path) -> None:
    async def main() -> None:
        async with atr.connect(None, data_dir=tmp_path, admins=["root"]) as handle:
            await handle.put_committee(ROOT, "httpd", name="Apache HTTP Server", pmc_members=["alice"])
            app = make_app(handle)
            settings = app.extensions["atr"]
            assert settings.handle is handle and settings.admins == frozenset({"root"})
            client = app.test_client()

            # Anonymous: the login redirect of asfquart.
            answer = await client.get("/httpd/vote")
            assert answer.status_code == 302 and "/auth?login=" in answer.headers["Location"]
            assert (await (await client.get("/whoami")).get_json())["uid"] is None

            await login(client, app, {"uid": "alice", "pmcs": ["httpd"], "projects": ["httpd"], "isMember": True})
            answer = await client.get("/httpd/vote")
            assert answer.status_code == 200
            assert await answer.get_json() == {"uid": "alice", "committee": "httpd"}
            whoami = await (await client.get("/whoami")).get_json()
            assert whoami["member_of"] == ["httpd"] and whoami["is_asf_member"] is True
            assert (await client.get("/httpd/member-only")).status_code == 200

            # Signed in without the role: 403 with the API's error body.
            answer = await client.get("/tomcat/vote")
            assert answer.status_code == 403
            body = await answer.get_json()
            assert body["error"]["code"] == "forbidden" and "binding_vote" in body["error"]["message"]

            # Not a member of the foundation: asfquart's own requirement refuses first.
            await login(client, app, {"uid": "carol", "pmcs": [], "projects": ["httpd"], "isMember": False})
            assert (await client.get("/httpd/member-only")).status_code == 403

            # Any AtrError is answered with its status.
            answer = await client.get("/committees/nothing")
            assert answer.status_code == 404
            assert (await answer.get_json())["error"]["code"] == "not_found"

            # A session of a wrong shape: InvalidSession, 401.
            await login(client, app, {"uid": "alice", "pmcs": "httpd", "projects": []})
            answer = await client.get("/whoami")
            assert answer.status_code == 401
            assert (await answer.get_json())["error"]["code"] == "invalid_session"

            # isRoot makes an admin only when trusted; "root" is named in admins.
            await login(client, app, {"uid": "bob", "pmcs": [], "projects": [], "isRoot": True})
            assert (await (await client.get("/whoami")).get_json())["is_admin"] is False
            await login(client, app, {"uid": "root", "pmcs": [], "projects": []})
            assert (await (await client.get("/whoami")).get_json())["is_admin"] is True

    asyncio.run(main())


def test_install_refuses_what_is_not_a_handle() -> None:
    app = asfquart.construct("atr-glue-refusal", token_file=None)
    with pytest.raises(atr.InvalidInput):
        atr.asfquart.install(app, object())  # type: ignore[arg-type]
