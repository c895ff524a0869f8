-- Local accounts, browser sessions and personal access tokens (PostgreSQL).
-- No secret is ever stored: passwords are kept as argon2 PHC strings, session and token secrets
-- as the lowercase hex SHA-256 of the secret. Times are unix seconds.

CREATE TABLE accounts (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES persons (id),
    -- argon2id PHC string: algorithm, parameters, salt and hash.
    password_hash TEXT NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie's secret.
    secret_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES persons (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, expires_at);

CREATE TABLE access_tokens (
    -- Public: the bearer string is atr_<id>_<secret>.
    id TEXT PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL REFERENCES persons (id),
    name TEXT NOT NULL,
    -- SHA-256 of the secret.
    secret_hash TEXT NOT NULL,
    -- JSON arrays of project keys and activity names.
    projects TEXT NOT NULL,
    activities TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT
);
CREATE INDEX access_tokens_owner ON access_tokens (owner, created_at);
