//! The search index: SQLite FTS5 tables and PostgreSQL `tsvector` columns, both written by the
//! database in the transaction of every write (`migrations/*/0005_search.sql`), read here.
//!
//! The terms come validated from `atr_core::search::SearchTerms`: letters and digits with `.`,
//! `-`, `_`, `@` and `+` inside, never a quote, backslash, colon or operator. They are still
//! quoted for each engine's query language (and a quote doubled), and bound as parameters:
//! SQLite gets one FTS5 expression, `"term"* "term"*` (every term, each a prefix); PostgreSQL
//! gets each term twice, as the exact lexeme `'term':*` (identifiers are stored so) or the
//! lexemes the `simple` configuration parses it into (names and descriptions are stored so).

use async_trait::async_trait;
use atr_core::ports::{SearchIndex, StoreResult};
use atr_core::search::{MAX_LABEL_CHARS, MAX_SEARCH_HITS, SearchHit, SearchKind, SearchSubject, SearchTerms};
use atr_core::types::{CveId, Fingerprint, ProjectKey};

use super::people::release_key_of;
use super::{Engine, SqlStore, backend, get_str};

/// One kind's query on SQLite: `$1` the FTS5 expression, `$2` the limit. The FTS table is read
/// by its index and joined to its table by key; ranked by bm25 with identifiers weighing ten
/// times the words.
fn sqlite_query(kind: SearchKind) -> &'static str {
    match kind {
        SearchKind::Project => {
            "SELECT p.key AS key, substr(coalesce(json_extract(p.data, '$.metadata.display_name'), ''), 1, 200) AS label \
             FROM projects_search JOIN projects p ON p.key = projects_search.key \
             WHERE projects_search MATCH $1 ORDER BY bm25(projects_search, 0.0, 10.0, 1.0), p.key LIMIT $2"
        }
        SearchKind::Release => {
            "SELECT r.project AS project, r.product AS product, r.version AS version, \
             coalesce(r.stage, r.phase) AS label \
             FROM releases_search JOIN releases r ON r.id = releases_search.rowid \
             WHERE releases_search MATCH $1 ORDER BY bm25(releases_search, 10.0, 1.0), r.version_key DESC, r.id \
             LIMIT $2"
        }
        SearchKind::Key => {
            "SELECT k.fingerprint AS key, substr(coalesce(json_extract(k.data, '$.user_ids[0]'), ''), 1, 200) AS label \
             FROM keys_search JOIN signing_keys k ON k.fingerprint = keys_search.fingerprint \
             WHERE keys_search MATCH $1 ORDER BY bm25(keys_search, 0.0, 10.0, 1.0), k.fingerprint LIMIT $2"
        }
        SearchKind::Cve => {
            "SELECT c.id AS key, substr(coalesce(json_extract(c.data, '$.title'), ''), 1, 200) AS label \
             FROM cves_search JOIN cves c ON c.id = cves_search.id \
             WHERE cves_search MATCH $1 ORDER BY bm25(cves_search, 0.0, 10.0, 1.0), c.id DESC LIMIT $2"
        }
    }
}

/// One kind's query on PostgreSQL, `{q}` standing for the tsquery; the GIN index on `search`
/// answers the match, `ts_rank` (weight A for identifiers, B for words) orders.
fn postgres_query(kind: SearchKind) -> &'static str {
    match kind {
        SearchKind::Project => {
            "SELECT p.key AS key, substr(coalesce(p.data::jsonb #>> '{metadata,display_name}', ''), 1, 200) AS label \
             FROM projects p WHERE p.search @@ ({q}) ORDER BY ts_rank(p.search, ({q})) DESC, p.key LIMIT {limit}"
        }
        SearchKind::Release => {
            "SELECT r.project AS project, r.product AS product, r.version AS version, \
             coalesce(r.stage, r.phase) AS label \
             FROM releases r WHERE r.search @@ ({q}) \
             ORDER BY ts_rank(r.search, ({q})) DESC, r.version_key DESC, r.id LIMIT {limit}"
        }
        SearchKind::Key => {
            "SELECT k.fingerprint AS key, substr(coalesce(k.data::jsonb -> 'user_ids' ->> 0, ''), 1, 200) AS label \
             FROM signing_keys k WHERE k.search @@ ({q}) \
             ORDER BY ts_rank(k.search, ({q})) DESC, k.fingerprint LIMIT {limit}"
        }
        SearchKind::Cve => {
            "SELECT c.id AS key, substr(coalesce(c.data::jsonb ->> 'title', ''), 1, 200) AS label \
             FROM cves c WHERE c.search @@ ({q}) ORDER BY ts_rank(c.search, ({q})) DESC, c.id DESC LIMIT {limit}"
        }
    }
}

/// The FTS5 expression of the terms: each a quoted string, a prefix, all required.
fn fts5_expression(terms: &SearchTerms) -> String {
    terms.terms().iter().map(|t| format!("\"{}\"*", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
}

/// The tsquery of `n` terms bound as `$1..$n`: each the exact lexeme or its parsed lexemes, as a
/// prefix, all required. Only placeholders are written into the text.
fn tsquery_of(n: usize) -> String {
    (1..=n).map(|i| format!("(${i}::tsquery || to_tsquery('simple', ${i}))")).collect::<Vec<_>>().join(" && ")
}

/// A term as a tsquery lexeme with prefix matching.
fn tsquery_term(term: &str) -> String {
    format!("'{}':*", term.replace('\\', "\\\\").replace('\'', "''"))
}

/// A label cut to [`MAX_LABEL_CHARS`] characters (the queries cut it already; this keeps the
/// promise whatever a query says).
fn label(text: String) -> String {
    match text.char_indices().nth(MAX_LABEL_CHARS) {
        Some((at, _)) => text[..at].to_owned(),
        None => text,
    }
}

fn subject(kind: SearchKind, row: &sqlx::any::AnyRow) -> StoreResult<SearchSubject> {
    Ok(match kind {
        SearchKind::Project => SearchSubject::Project(ProjectKey::parse(&get_str(row, "key")?).map_err(backend)?),
        SearchKind::Release => SearchSubject::Release(release_key_of(row)?),
        SearchKind::Key => SearchSubject::Key(Fingerprint::parse(&get_str(row, "key")?).map_err(backend)?),
        SearchKind::Cve => SearchSubject::Cve(CveId::parse(&get_str(row, "key")?).map_err(backend)?),
    })
}

/// The SQLite queries with the FTS table and the alias of the table each joins, for the test
/// that reads their plans.
#[doc(hidden)]
pub fn search_queries_for_plans() -> Vec<(&'static str, &'static str, &'static str)> {
    let names = [("projects_search", "p"), ("releases_search", "r"), ("keys_search", "k"), ("cves_search", "c")];
    SearchKind::ALL.into_iter().zip(names).map(|(kind, (fts, base))| (sqlite_query(kind), fts, base)).collect()
}

#[async_trait]
impl SearchIndex for SqlStore {
    async fn search(&self, terms: &SearchTerms, limit: u32) -> StoreResult<Vec<SearchHit>> {
        let limit = i64::from(limit.clamp(1, MAX_SEARCH_HITS));
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let mut hits = Vec::new();
        for kind in SearchKind::ALL {
            let rows = match self.engine {
                Engine::Sqlite => sqlx::query(sqlite_query(kind))
                    .bind(fts5_expression(terms))
                    .bind(limit)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(backend)?,
                Engine::Postgres => {
                    let n = terms.terms().len();
                    let sql =
                        postgres_query(kind).replace("{q}", &tsquery_of(n)).replace("{limit}", &format!("${}", n + 1));
                    // The text holds placeholders only; every term is bound.
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for term in terms.terms() {
                        query = query.bind(tsquery_term(term));
                    }
                    query.bind(limit).fetch_all(&mut *conn).await.map_err(backend)?
                }
            };
            for row in &rows {
                hits.push(SearchHit { subject: subject(kind, row)?, label: label(get_str(row, "label")?) });
            }
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_quoted_for_each_engine() {
        let terms = SearchTerms::parse("HTTPD 2.4 jane@apache.org").unwrap();
        assert_eq!(fts5_expression(&terms), "\"httpd\"* \"2.4\"* \"jane@apache.org\"*");
        assert_eq!(tsquery_term("o'brien\\"), "'o''brien\\\\':*");
        assert_eq!(
            tsquery_of(2),
            "($1::tsquery || to_tsquery('simple', $1)) && ($2::tsquery || to_tsquery('simple', $2))"
        );
        assert_eq!(label("é".repeat(300)).chars().count(), MAX_LABEL_CHARS);
    }
}
