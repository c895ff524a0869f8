-- The search index (SQLite): one FTS5 table per kind, written by triggers in the transaction of
-- every write of its table, and filled here from the rows that exist. `ident` holds what names
-- the thing (a project's and its products' keys, a version, a fingerprint and key id, a CVE id)
-- and ranks above `words` (names, descriptions, user ids, titles). '.' stays inside a token, so
-- that a version is one token and `2.4` is a prefix of `2.4.68` only. The tables without an
-- integer primary key are joined by key (their rowids may change on VACUUM); a trigger finds the
-- old entry through the index (a MATCH on its key) and checks the key exactly.

CREATE VIRTUAL TABLE projects_search USING fts5 (key UNINDEXED, ident, words, tokenize = "unicode61 tokenchars '.'");
CREATE VIRTUAL TABLE releases_search USING fts5 (ident, words, tokenize = "unicode61 tokenchars '.'");
CREATE VIRTUAL TABLE keys_search USING fts5 (fingerprint UNINDEXED, ident, words, tokenize = "unicode61 tokenchars '.'");
CREATE VIRTUAL TABLE cves_search USING fts5 (id UNINDEXED, ident, words, tokenize = "unicode61 tokenchars '.'");

-- Projects: key and product keys; name, description and product names.
CREATE TRIGGER projects_search_insert AFTER INSERT ON projects BEGIN
    INSERT INTO projects_search (key, ident, words) VALUES (
        NEW.key,
        NEW.key || ' ' || coalesce((SELECT group_concat(json_extract(value, '$.key'), ' ') FROM json_each(NEW.data, '$.products')), ''),
        coalesce(json_extract(NEW.data, '$.metadata.display_name'), '') || ' ' ||
        coalesce(json_extract(NEW.data, '$.metadata.description'), '') || ' ' ||
        coalesce((SELECT group_concat(json_extract(value, '$.metadata.display_name'), ' ') FROM json_each(NEW.data, '$.products')), '')
    );
END;
CREATE TRIGGER projects_search_delete AFTER DELETE ON projects BEGIN
    DELETE FROM projects_search
    WHERE projects_search MATCH 'ident : "' || replace(OLD.key, '"', '""') || '"' AND key = OLD.key;
END;
CREATE TRIGGER projects_search_update AFTER UPDATE OF key, data ON projects BEGIN
    DELETE FROM projects_search
    WHERE projects_search MATCH 'ident : "' || replace(OLD.key, '"', '""') || '"' AND key = OLD.key;
    INSERT INTO projects_search (key, ident, words) VALUES (
        NEW.key,
        NEW.key || ' ' || coalesce((SELECT group_concat(json_extract(value, '$.key'), ' ') FROM json_each(NEW.data, '$.products')), ''),
        coalesce(json_extract(NEW.data, '$.metadata.display_name'), '') || ' ' ||
        coalesce(json_extract(NEW.data, '$.metadata.description'), '') || ' ' ||
        coalesce((SELECT group_concat(json_extract(value, '$.metadata.display_name'), ' ') FROM json_each(NEW.data, '$.products')), '')
    );
END;
INSERT INTO projects_search (key, ident, words)
SELECT
    key,
    key || ' ' || coalesce((SELECT group_concat(json_extract(value, '$.key'), ' ') FROM json_each(data, '$.products')), ''),
    coalesce(json_extract(data, '$.metadata.display_name'), '') || ' ' ||
    coalesce(json_extract(data, '$.metadata.description'), '') || ' ' ||
    coalesce((SELECT group_concat(json_extract(value, '$.metadata.display_name'), ' ') FROM json_each(data, '$.products')), '')
FROM projects;

-- Releases (rowid = releases.id, which never changes): version; project and product keys.
CREATE TRIGGER releases_search_insert AFTER INSERT ON releases BEGIN
    INSERT INTO releases_search (rowid, ident, words) VALUES (NEW.id, NEW.version, NEW.project || ' ' || NEW.product);
END;
CREATE TRIGGER releases_search_delete AFTER DELETE ON releases BEGIN
    DELETE FROM releases_search WHERE rowid = OLD.id;
END;
CREATE TRIGGER releases_search_update AFTER UPDATE OF id, project, product, version ON releases BEGIN
    DELETE FROM releases_search WHERE rowid = OLD.id;
    INSERT INTO releases_search (rowid, ident, words) VALUES (NEW.id, NEW.version, NEW.project || ' ' || NEW.product);
END;
INSERT INTO releases_search (rowid, ident, words) SELECT id, version, project || ' ' || product FROM releases;

-- Signing keys: fingerprint and key id; user ids and owner.
CREATE TRIGGER keys_search_insert AFTER INSERT ON signing_keys BEGIN
    INSERT INTO keys_search (fingerprint, ident, words) VALUES (
        NEW.fingerprint,
        NEW.fingerprint || ' ' || NEW.key_id,
        coalesce((SELECT group_concat(value, ' ') FROM json_each(NEW.data, '$.user_ids')), '') || ' ' ||
        coalesce(json_extract(NEW.data, '$.owner'), '')
    );
END;
CREATE TRIGGER keys_search_delete AFTER DELETE ON signing_keys BEGIN
    DELETE FROM keys_search
    WHERE keys_search MATCH 'ident : "' || replace(OLD.fingerprint, '"', '""') || '"' AND fingerprint = OLD.fingerprint;
END;
CREATE TRIGGER keys_search_update AFTER UPDATE OF fingerprint, key_id, data ON signing_keys BEGIN
    DELETE FROM keys_search
    WHERE keys_search MATCH 'ident : "' || replace(OLD.fingerprint, '"', '""') || '"' AND fingerprint = OLD.fingerprint;
    INSERT INTO keys_search (fingerprint, ident, words) VALUES (
        NEW.fingerprint,
        NEW.fingerprint || ' ' || NEW.key_id,
        coalesce((SELECT group_concat(value, ' ') FROM json_each(NEW.data, '$.user_ids')), '') || ' ' ||
        coalesce(json_extract(NEW.data, '$.owner'), '')
    );
END;
INSERT INTO keys_search (fingerprint, ident, words)
SELECT
    fingerprint,
    fingerprint || ' ' || key_id,
    coalesce((SELECT group_concat(value, ' ') FROM json_each(data, '$.user_ids')), '') || ' ' ||
    coalesce(json_extract(data, '$.owner'), '')
FROM signing_keys;

-- CVE records: id; title and description.
CREATE TRIGGER cves_search_insert AFTER INSERT ON cves BEGIN
    INSERT INTO cves_search (id, ident, words) VALUES (
        NEW.id,
        NEW.id,
        coalesce(json_extract(NEW.data, '$.title'), '') || ' ' || coalesce(json_extract(NEW.data, '$.description'), '')
    );
END;
CREATE TRIGGER cves_search_delete AFTER DELETE ON cves BEGIN
    DELETE FROM cves_search WHERE cves_search MATCH 'ident : "' || replace(OLD.id, '"', '""') || '"' AND id = OLD.id;
END;
CREATE TRIGGER cves_search_update AFTER UPDATE OF id, data ON cves BEGIN
    DELETE FROM cves_search WHERE cves_search MATCH 'ident : "' || replace(OLD.id, '"', '""') || '"' AND id = OLD.id;
    INSERT INTO cves_search (id, ident, words) VALUES (
        NEW.id,
        NEW.id,
        coalesce(json_extract(NEW.data, '$.title'), '') || ' ' || coalesce(json_extract(NEW.data, '$.description'), '')
    );
END;
INSERT INTO cves_search (id, ident, words)
SELECT id, id, coalesce(json_extract(data, '$.title'), '') || ' ' || coalesce(json_extract(data, '$.description'), '')
FROM cves;
