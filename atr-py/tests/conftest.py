"""Shared fixtures: fresh databases on every configured engine (SQLite always, PostgreSQL when
ATR_TEST_DATABASE_URL names a server where the user may create databases)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@dataclass
class Database:
    engine: str
    url: str | None
    data_dir: pathlib.Path


def _engines() -> list[str]:
    return ["sqlite", "postgres"] if os.environ.get("ATR_TEST_DATABASE_URL") else ["sqlite"]


def _psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, timeout=60)


@pytest.fixture(params=_engines())
def database(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[Database]:
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        yield Database("sqlite", None, data_dir)
        return
    admin_url = os.environ["ATR_TEST_DATABASE_URL"]
    name = f"atr_py_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    _psql(admin_url, f"CREATE DATABASE {name}")
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield Database("postgres", f"{base}/{name}", data_dir)
    finally:
        _psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def drop_database(url: str) -> None:
    """Drops the database of `url` under its open connections."""
    admin_url = os.environ["ATR_TEST_DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    _psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
