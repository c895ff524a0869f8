"""A release walked from start to announcement through the handle, with a real task runner
(`atr worker`) running the Analyze checks on the real signed httpd 2.4.68 release: the vote
starts, PMC members cast binding ballots and a committer a non-binding one, the core's tally
passes, the vote is resolved and the release announced. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import pathlib
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

import atr
from conftest import Database, httpd_release

ROOT = atr.Principal.committer("root")
RITA = atr.Principal.committer("rita")
PMC = [atr.Principal.committer(uid, member_of=["httpd"]) for uid in ("alice", "bob", "dave")]
CAROL = atr.Principal.committer("carol", participant_of=["httpd"])
#: The key that signed httpd 2.4.68, in the project's KEYS file.
SIGNER = "65B2D44FE74BD5E3DE3AC3F082781DE46D5954FA"
TARBALL = "httpd-2.4.68.tar.gz"


def run(main: Callable[[], Any]) -> Any:
    return asyncio.run(asyncio.wait_for(main(), 600))


def release_files(folder: pathlib.Path, tmp: pathlib.Path) -> dict[str, pathlib.Path]:
    """The tarball, its real signature, and a .sha512 written from the tarball's bytes."""
    tarball = folder / TARBALL
    digest = hashlib.sha512(tarball.read_bytes()).hexdigest()
    checksum = tmp / f"{TARBALL}.sha512"
    checksum.write_text(f"{digest}  {TARBALL}\n")
    return {TARBALL: tarball, f"{TARBALL}.asc": folder / f"{TARBALL}.asc", checksum.name: checksum}


def test_a_release_is_voted_on_and_announced(
    database: Database, tmp_path: pathlib.Path, start_worker: Callable[[Database], subprocess.Popen[bytes]]
) -> None:
    folder = httpd_release()

    async def main() -> None:
        async with atr.connect(database.url, data_dir=database.data_dir, admins=["root"]) as h:
            await h.put_committee(
                ROOT,
                "httpd",
                name="Apache HTTP Server",
                pmc_members=[p.uid for p in PMC if p.uid],
                committers=["carol"],
                release_managers=["rita"],
            )
            await h.create_project(ROOT, "httpd", committee="httpd", name="Apache HTTP Server")
            # A manual vote: no minimum duration, so that it may be resolved at once.
            project = await h.set_project_policy(PMC[0], "httpd", {"min_hours": 0})
            assert project.to_dict()["policy"]["min_hours"] == 0
            imported = await h.import_keys(PMC[0], "httpd", (folder / "KEYS").read_bytes())
            assert SIGNER in {fp.upper() for fp in imported.added}, imported.to_dict()
            assert SIGNER in {k.fingerprint.upper() for k in await h.keys("httpd")}

            # The runner starts once the database exists and is migrated.
            start_worker(database)

            await h.start_release(RITA, "httpd", "2.4.68")
            new = await h.upload(RITA, "httpd", "2.4.68", release_files(folder, tmp_path), description="rc1")
            assert sorted(f.path for f in new.revision.files) == sorted(release_files(folder, tmp_path))
            analyzed = await h.wait(RITA, new.analyze_task, timeout=300)
            assert (analyzed.id, analyzed.status, analyzed.error) == (new.analyze_task.id, "completed", None)
            checks = await h.check_results("httpd", "2.4.68", 1, principal=RITA)
            assert checks, "the Analyze task recorded its checks"
            assert {c.revision for c in checks} == {1}
            assert "blocker" not in {c.status for c in checks}, [c.to_dict() for c in checks]
            # The signature verified with the imported key, the checksum matched.
            status = {(c.checker, c.path): c.status for c in checks if c.checker in ("signature", "checksum")}
            assert status == {("signature", TARBALL): "success", ("checksum", f"{TARBALL}.sha512"): "success"}, status

            # A committer may not start the vote; the release manager may.
            with pytest.raises(atr.Forbidden):
                await h.start_vote(CAROL, "httpd", "2.4.68", 1)
            candidate = await h.start_vote(RITA, "httpd", "2.4.68", 1)
            assert candidate.phase == "candidate"
            vote = candidate.to_dict()["vote"]
            assert vote["revision"] == 1 and vote["started_by"] == "rita" and vote["outcome"] is None
            assert vote["binding_voters"] == ["alice", "bob", "dave"]
            assert [fp.upper() for fp in vote["signing_keys"]] == [SIGNER]

            # Three binding +1, one binding -0 changed to +1, one non-binding +1.
            ballot = await h.cast_ballot(PMC[0], "httpd", "2.4.68", "+1", comment="checked the signature")
            assert (ballot.value, ballot.comment, ballot.release.version) == ("+1", "checked the signature", "2.4.68")
            await h.cast_ballot(PMC[1], "httpd", "2.4.68", "-0")
            await h.cast_ballot(PMC[1], "httpd", "2.4.68", "+1")
            await h.cast_ballot(PMC[2], "httpd", "2.4.68", "+1")
            await h.cast_ballot(CAROL, "httpd", "2.4.68", "+1")
            with pytest.raises(atr.InvalidInput):
                await h.cast_ballot(CAROL, "httpd", "2.4.68", "+2")
            tally = await h.tally("httpd", "2.4.68")
            assert tally is not None
            assert (tally.binding.plus_one, tally.binding.minus_zero, tally.binding.minus_one) == (3, 0, 0)
            assert (tally.non_binding.plus_one, tally.non_binding.minus_one) == (1, 0)
            assert (tally.passes, tally.verdict, tally.round) == (True, "passes", "committee")
            counted = {v.voter: (v.value, v.binding) for v in tally.votes}
            assert counted == {
                ("user", "alice"): ("+1", True),
                ("user", "bob"): ("+1", True),
                ("user", "dave"): ("+1", True),
                ("user", "carol"): ("+1", False),
            }

            # Resolving and announcing need `perform actions`: a committer is refused.
            with pytest.raises(atr.Forbidden):
                await h.resolve(CAROL, "httpd", "2.4.68", "passed")
            preview = await h.resolve(RITA, "httpd", "2.4.68", "passed")
            assert preview.phase == "preview"
            assert preview.to_dict()["vote"]["outcome"] == "passed"
            assert preview.to_dict()["vote"]["resolved_at"] is not None
            with pytest.raises(atr.Conflict):
                await h.cast_ballot(PMC[0], "httpd", "2.4.68", "-1")
            assert [r.key.version for r in await h.releases("httpd", stage="current")] == []

            released = await h.announce(RITA, "httpd", "2.4.68", confirmed=True)
            assert released.phase == "release" and released.released_at is not None
            assert released.latest_revision == 1
            current = await h.releases("httpd", stage="current")
            assert [r.key.version for r in current] == ["2.4.68"]
            assert [r.key.version for r in await h.releases("httpd")] == []
            served = await h.revisions("httpd", "2.4.68")
            assert [r.number for r in served] == [1]
            assert sorted(f.path for f in served.items[0].files) == sorted(
                [TARBALL, f"{TARBALL}.asc", f"{TARBALL}.sha512"]
            )
            kinds = [e.kind for e in await h.events(PMC[0], project="httpd", version="2.4.68")]
            for kind in ("announced", "vote_resolved", "vote_tallied", "ballot_cast", "vote_started"):
                assert kind in kinds, (kind, kinds)
            with pytest.raises(atr.Conflict):
                await h.announce(RITA, "httpd", "2.4.68", confirmed=True)

    run(main)
