"""The trusted-release platform for Python: its rules, and an async handle on its storage.

The rules (roles, activities, :func:`can`, :func:`authorize`) are the core's, called through the
native module ``atr._atr``; nothing here decides a permission itself.
"""

from __future__ import annotations

import atexit as _atexit

from . import _atr, blocking
from ._errors import (
    AtrError,
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidSession,
    NotAuthenticated,
    NotFound,
    Unavailable,
)
from ._handle import Handle, connect
from ._model import (
    Ballot,
    CheckResult,
    Committee,
    CountedVote,
    CreatedToken,
    Event,
    FileEntry,
    KeyImport,
    NewRevision,
    Page,
    Project,
    Release,
    ReleaseKey,
    Revision,
    SigningKey,
    Tally,
    Task,
    VoteCounts,
)
from ._rules import Activity, Principal, Role, TokenGrant, authorize, can

__all__ = [
    "Activity",
    "AtrError",
    "Ballot",
    "CheckResult",
    "Committee",
    "Conflict",
    "CountedVote",
    "CreatedToken",
    "Event",
    "FileEntry",
    "Forbidden",
    "Handle",
    "InvalidInput",
    "InvalidSession",
    "KeyImport",
    "NewRevision",
    "NotAuthenticated",
    "NotFound",
    "Page",
    "Principal",
    "Project",
    "Release",
    "ReleaseKey",
    "Revision",
    "Role",
    "SigningKey",
    "Tally",
    "Task",
    "TokenGrant",
    "Unavailable",
    "VoteCounts",
    "authorize",
    "blocking",
    "can",
    "connect",
]

# Stop the runtime before the interpreter is finalized: no runtime thread may call into Python
# after that.
_atexit.register(_atr.shutdown)
