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
from conftest import Database, create_account  # noqa: E402

ROOT = atr.Principal.committer("root")
ALICE = atr.Principal.committer("alice", member_of=["httpd", "apr"])


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

    # A token's routes name the project: a token acts on its projects only.
    @app.route("/<committee>/<project>/releases/<version>", methods=["POST"])
    @atr.asfquart.require(atr.Activity.MANAGE_RELEASE, project_arg="project")
    async def start(committee: str, project: str, version: str, principal: atr.Principal) -> dict[str, Any]:
        release = await app.extensions["atr"].handle.start_release(principal, project, version)
        return {"created_by": release.created_by, "phase": release.phase}

    @app.route("/<committee>/<project>/actions")
    @atr.asfquart.require(atr.Activity.PERFORM_ACTIONS, project_arg="project")
    async def actions(committee: str, project: str, principal: atr.Principal) -> dict[str, Any]:
        return {"uid": principal.uid}

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


def test_personal_access_tokens(database: Database) -> None:
    """install(bearer=True) checks the platform's tokens as app.token_handler: a token signs the
    request in as its owner, acting only on the token's projects and activities; a revoked,
    garbled or unknown token is answered with 401."""

    async def main() -> None:
        async with atr.connect(database.url, data_dir=database.data_dir, admins=["root"]) as handle:
            for key in ("httpd", "apr"):
                await handle.put_committee(ROOT, key, name=key.upper(), pmc_members=["alice"])
                await handle.create_project(ROOT, key, committee=key, name=key.upper())
            # A token belongs to a person the platform knows: someone with an account.
            with pytest.raises(atr.NotFound, match="person alice"):
                await handle.create_token(ALICE, "ci", projects=["httpd"], activities=["manage_release"], expires_in_days=30)
            create_account(database, "alice")
            created = await handle.create_token(
                ALICE, "ci", projects=["httpd"], activities=[atr.Activity.MANAGE_RELEASE], expires_in_days=30
            )
            assert created.token.startswith(f"atr_{created.grant.id}_") and len(created.token) == 4 + 24 + 1 + 64
            assert created.token not in repr(created)
            app = make_app(handle)
            assert app.token_handler is not None
            client = app.test_client()
            bearer = {"Authorization": f"Bearer {created.token}"}

            whoami = await client.get("/whoami", headers=bearer)
            assert whoami.status_code == 200
            me = await whoami.get_json()
            assert me["uid"] == "alice" and me["member_of"] == ["httpd"]
            assert me["token"]["id"] == created.grant.id and me["token"]["projects"] == ["httpd"]
            assert me["token"]["activities"] == ["manage_release"]
            assert created.token.split("_")[-1] not in str(me)

            # The token's project and activity: the write goes through, as the token's owner.
            answer = await client.post("/httpd/httpd/releases/2.4.68", headers=bearer)
            assert answer.status_code == 200, await answer.get_data()
            assert await answer.get_json() == {"created_by": "alice", "phase": "draft"}
            # Another project of a committee alice sits on, and an activity the token lacks.
            answer = await client.post("/apr/apr/releases/1.0", headers=bearer)
            assert answer.status_code == 403
            assert (await answer.get_json())["error"]["details"]["reason"] == "token_project"
            answer = await client.get("/httpd/httpd/actions", headers=bearer)
            assert answer.status_code == 403
            assert (await answer.get_json())["error"]["details"]["reason"] == "token_activity"
            # A bare committee is never a token's scope.
            answer = await client.get("/httpd/vote", headers=bearer)
            assert answer.status_code == 403
            # Without the token alice's session may do all of it.
            await login(client, app, {"uid": "alice", "pmcs": ["httpd", "apr"], "projects": []})
            assert (await client.get("/httpd/httpd/actions")).status_code == 200
            await login(client, app, None)

            # The handle's writes with the token principal are scoped by the core too.
            held = await handle.token_principal(created.token)
            assert held.token == created.grant and held.uid == "alice"
            with pytest.raises(atr.Forbidden) as refused:
                await handle.start_release(held, "apr", "1.0")
            assert refused.value.details["reason"] == "token_project"
            with pytest.raises(atr.Forbidden):
                await handle.create_token(held, "again", projects=["httpd"], activities=["manage_release"], expires_in_days=1)

            # Garbled, unknown and wrong secrets: 401 with the core's reason.
            wrong = created.token[:-1] + ("0" if created.token[-1] != "0" else "1")
            for token, why in [("nonsense", "malformed"), (created.token.upper(), "malformed"), (wrong, "not recognised")]:
                answer = await client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
                assert answer.status_code == 401, token
                body = await answer.get_json()
                assert body["error"]["code"] == "unauthenticated" and why in body["error"]["message"], body

            # Revoked: refused on the next request, and the principal already held is refused too.
            await handle.revoke_token(ALICE, created.grant)
            answer = await client.get("/whoami", headers=bearer)
            assert answer.status_code == 401
            assert "revoked" in (await answer.get_json())["error"]["message"]
            with pytest.raises(atr.NotAuthenticated):
                await handle.start_release(held, "httpd", "2.4.69")
            with pytest.raises(atr.NotAuthenticated):
                await handle.token_principal(created.token)

            # bearer=False leaves asfquart's token handler alone.
            plain = asfquart.construct("atr-glue-plain", token_file=None)
            atr.asfquart.install(plain, handle, bearer=False)
            assert plain.token_handler is None and plain.extensions["atr"].bearer is False

    asyncio.run(main())


def test_install_refuses_what_is_not_a_handle() -> None:
    app = asfquart.construct("atr-glue-refusal", token_file=None)
    with pytest.raises(atr.InvalidInput):
        atr.asfquart.install(app, object())  # type: ignore[arg-type]
