-- The initial schema (PostgreSQL). The SQLite schema in ../sqlite has the same migrations.
-- Entities are stored as JSON documents in `data`; the columns beside them are what queries
-- filter, order, join and guard on. Flags and times (unix seconds) are 64-bit integers, so that
-- one query text serves both engines.

CREATE TABLE committees (
    key TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE persons (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    asf_member BIGINT NOT NULL DEFAULT 0,
    admin BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE consents (
    user_id TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES persons (id),
    name TEXT,
    email TEXT,
    given_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE projects (
    key TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    committee TEXT NOT NULL REFERENCES committees (key),
    data TEXT NOT NULL
);

CREATE TABLE check_ignores (
    id BIGSERIAL PRIMARY KEY,
    project TEXT NOT NULL REFERENCES projects (key),
    data TEXT NOT NULL
);
CREATE INDEX check_ignores_project ON check_ignores (project);

CREATE TABLE releases (
    id BIGSERIAL PRIMARY KEY,
    project TEXT NOT NULL REFERENCES projects (key),
    -- '' for the project's main product.
    product TEXT NOT NULL,
    version TEXT NOT NULL,
    -- Version::sort_key: byte order is version order.
    version_key TEXT COLLATE "C" NOT NULL,
    -- candidate, current, revoked; NULL for drafts and previews.
    stage TEXT,
    phase TEXT NOT NULL,
    latest_revision BIGINT,
    revoked BIGINT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (project, product, version)
);
CREATE INDEX releases_by_stage ON releases (project, product, stage, version_key);

CREATE TABLE revisions (
    release_id BIGINT NOT NULL REFERENCES releases (id),
    number BIGINT NOT NULL,
    parent BIGINT,
    data TEXT NOT NULL,
    PRIMARY KEY (release_id, number)
);

CREATE TABLE check_results (
    id BIGSERIAL PRIMARY KEY,
    release_id BIGINT NOT NULL REFERENCES releases (id),
    revision BIGINT NOT NULL,
    checker TEXT NOT NULL,
    path TEXT NOT NULL,
    member TEXT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (release_id, revision, checker, path, member)
);

CREATE TABLE signing_keys (
    fingerprint TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    key_id TEXT NOT NULL,
    owner TEXT,
    data TEXT NOT NULL
);
CREATE INDEX signing_keys_key_id ON signing_keys (key_id);
CREATE INDEX signing_keys_owner ON signing_keys (owner);

CREATE TABLE key_committees (
    fingerprint TEXT NOT NULL REFERENCES signing_keys (fingerprint),
    committee TEXT NOT NULL REFERENCES committees (key),
    PRIMARY KEY (fingerprint, committee)
);
CREATE INDEX key_committees_committee ON key_committees (committee, fingerprint);

CREATE TABLE key_uses (
    fingerprint TEXT NOT NULL REFERENCES signing_keys (fingerprint),
    release_id BIGINT NOT NULL REFERENCES releases (id),
    PRIMARY KEY (fingerprint, release_id)
);

CREATE TABLE ballots (
    id BIGSERIAL PRIMARY KEY,
    release_id BIGINT NOT NULL REFERENCES releases (id),
    round TEXT NOT NULL,
    -- user:<id>, email:<address> or anonymous:<label>.
    voter TEXT NOT NULL,
    cast_at BIGINT NOT NULL,
    active BIGINT NOT NULL,
    data TEXT NOT NULL
);
CREATE UNIQUE INDEX ballots_one_active ON ballots (release_id, round, voter) WHERE active = 1;
CREATE INDEX ballots_voter ON ballots (voter);

CREATE TABLE cves (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE cve_links (
    cve_id TEXT NOT NULL REFERENCES cves (id),
    release_id BIGINT NOT NULL REFERENCES releases (id),
    link TEXT NOT NULL,
    PRIMARY KEY (cve_id, release_id, link)
);
CREATE INDEX cve_links_release ON cve_links (release_id, link);

CREATE TABLE distributions (
    id BIGSERIAL PRIMARY KEY,
    release_id BIGINT NOT NULL REFERENCES releases (id),
    platform TEXT NOT NULL,
    owner_namespace TEXT NOT NULL,
    package TEXT NOT NULL,
    environment TEXT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (release_id, platform, owner_namespace, package, environment)
);

-- The append-only audit log. Each event's hash covers its content and its predecessor's hash.
CREATE TABLE events (
    id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    project TEXT,
    product TEXT,
    -- project/product/version of the release, if any.
    release_key TEXT,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX events_project ON events (project, product, id);
CREATE INDEX events_release ON events (release_key, id);

-- The head of the event chain: one row, locked by every append.
CREATE TABLE event_chain (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    last_id BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO event_chain (id, last_id, last_hash) VALUES (1, 0, '');

CREATE TABLE tasks (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    release_id BIGINT NOT NULL REFERENCES releases (id),
    revision BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    error TEXT
);
CREATE UNIQUE INDEX tasks_one_pending ON tasks (kind, release_id, revision) WHERE status IN ('queued', 'active');
CREATE INDEX tasks_release ON tasks (release_id, revision, status);
