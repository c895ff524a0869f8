-- The search index (PostgreSQL): a generated `tsvector` column per searched table with a GIN
-- index, computed by the database in the statement (and so the transaction) of every write, and
-- for the rows that exist when the column is added. What names the thing (a project's key, a
-- version, a fingerprint and key id, a CVE id) is one lexeme of weight A, lower case, exactly as
-- written (the text search parser would split `CVE-2024-1234` or some hex); product keys are A
-- as the parser reads them; names, descriptions, user ids and titles are B, as the `simple`
-- configuration reads them (no stemming, no stop words). Identifiers hold only ASCII letters,
-- digits, '.', '+' and '-', so they need no quoting inside the tsvector literal.

ALTER TABLE projects ADD COLUMN search tsvector GENERATED ALWAYS AS (
    ('''' || lower(key) || ''':1A')::tsvector
    || setweight(to_tsvector('simple', jsonb_path_query_array(data::jsonb, '$.products[*].key')), 'A')
    || setweight(to_tsvector('simple',
        key || ' ' || coalesce(data::jsonb #>> '{metadata,display_name}', '') || ' '
        || coalesce(data::jsonb #>> '{metadata,description}', '')), 'B')
    || setweight(to_tsvector('simple', jsonb_path_query_array(data::jsonb, '$.products[*].metadata.display_name')), 'B')
) STORED;
CREATE INDEX projects_search ON projects USING GIN (search);

ALTER TABLE releases ADD COLUMN search tsvector GENERATED ALWAYS AS (
    ('''' || lower(version) || ''':1A')::tsvector
    || setweight(to_tsvector('simple', version || ' ' || project || ' ' || product), 'B')
) STORED;
CREATE INDEX releases_search ON releases USING GIN (search);

ALTER TABLE signing_keys ADD COLUMN search tsvector GENERATED ALWAYS AS (
    ('''' || lower(fingerprint) || ''':1A ''' || lower(key_id) || ''':2A')::tsvector
    || setweight(to_tsvector('simple', coalesce(data::jsonb -> 'user_ids', '[]'::jsonb)), 'B')
    -- The parser keeps an address whole (and reads `<...>` as markup): its parts are found too.
    || setweight(to_tsvector('simple', translate(coalesce(data::jsonb ->> 'user_ids', ''), '@<>', '   ')), 'B')
    || setweight(to_tsvector('simple', coalesce(data::jsonb ->> 'owner', '')), 'B')
) STORED;
CREATE INDEX signing_keys_search ON signing_keys USING GIN (search);

ALTER TABLE cves ADD COLUMN search tsvector GENERATED ALWAYS AS (
    ('''' || lower(id) || ''':1A')::tsvector
    || setweight(to_tsvector('simple',
        id || ' ' || coalesce(data::jsonb ->> 'title', '') || ' ' || coalesce(data::jsonb ->> 'description', '')), 'B')
) STORED;
CREATE INDEX cves_search ON cves USING GIN (search);
