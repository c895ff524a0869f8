-- The highest revision number deleted releases used, by coordinates: a release started again
-- under the same coordinates numbers its revisions after it, so a revision number is never used
-- twice (PostgreSQL).
CREATE TABLE revision_numbers (
    project TEXT NOT NULL,
    -- '' for the project's main product.
    product TEXT NOT NULL,
    version TEXT NOT NULL,
    last_used BIGINT NOT NULL,
    PRIMARY KEY (project, product, version)
);
