//! The append-only event log, chained by hashes.
//!
//! Event `n` stores `hash(n) = SHA-256("n" "\n" hash(n-1) "\n" data(n))` beside its data, and the
//! one-row `event_chain` table holds the last id and hash. Appends lock that row, so the chain
//! never forks, and ids are contiguous. [`SqlStore::verify_events`] recomputes the chain: an
//! edited event breaks its own hash, a deleted one leaves a gap or breaks its successor's link,
//! and a deleted tail no longer matches the head. (Someone able to rewrite every row and the head
//! can forge a new chain; anchoring the head elsewhere is what detects that.)

use std::fmt::Write as _;

use async_trait::async_trait;
use atr_core::model::{Event, NewEvent};
use atr_core::ports::{Change, EventFilter, EventRepository, PageRequest, StoreError, StoreResult, UnitOfWork};
use atr_core::types::Sha256Digest;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use super::{SqlStore, backend, from_json, get_i64, get_str, limit_of, release_text, to_json};

/// Events read per query while verifying.
const VERIFY_BATCH: i64 = 1000;

fn chain_hash(id: i64, prev: &str, data: &str) -> String {
    let digest = Sha256::new().chain_update(format!("{id}\n{prev}\n")).chain_update(data).finalize();
    Sha256Digest::from_bytes(digest.into()).to_hex()
}

/// A verified chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Events checked.
    pub events: u64,
    /// The hash of the last event ("" for an empty log).
    pub head: String,
}

/// Where the chain is broken: the first event that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("event {expected} is missing (the next stored event is {found})")]
    Missing { expected: i64, found: i64 },
    #[error("event {id} does not follow its predecessor: an event before it was changed or deleted")]
    BrokenLink { id: i64 },
    #[error("event {id} was changed after it was written")]
    Changed { id: i64 },
    #[error("the log ends at event {found} but its head says {expected}: events at the end were deleted")]
    Truncated { expected: i64, found: i64 },
    #[error("the event log could not be read: {0}")]
    Store(String),
}

impl SqlStore {
    /// Recomputes the whole event chain and compares it with the stored hashes and head.
    pub async fn verify_events(&self) -> Result<ChainReport, ChainError> {
        let store = |e: atr_core::ports::StoreError| ChainError::Store(e.to_string());
        let mut prev = String::new();
        let mut last = 0_i64;
        loop {
            let rows = sqlx::query("SELECT id, data, prev_hash, hash FROM events WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(last)
                .bind(VERIFY_BATCH)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| ChainError::Store(e.to_string()))?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                let id = get_i64(&row, "id").map_err(store)?;
                if id != last + 1 {
                    return Err(ChainError::Missing { expected: last + 1, found: id });
                }
                if get_str(&row, "prev_hash").map_err(store)? != prev {
                    return Err(ChainError::BrokenLink { id });
                }
                let hash = chain_hash(id, &prev, &get_str(&row, "data").map_err(store)?);
                if get_str(&row, "hash").map_err(store)? != hash {
                    return Err(ChainError::Changed { id });
                }
                prev = hash;
                last = id;
            }
        }
        let head = sqlx::query("SELECT last_id, last_hash FROM event_chain WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| ChainError::Store(e.to_string()))?;
        let head_id = get_i64(&head, "last_id").map_err(store)?;
        if head_id != last || get_str(&head, "last_hash").map_err(store)? != prev {
            return Err(ChainError::Truncated { expected: head_id, found: last });
        }
        Ok(ChainReport { events: u64::try_from(last).unwrap_or(0), head: prev })
    }
}

/// Appends an event in the transaction, chained to its predecessor. Taking the next id locks the
/// chain's head row until the transaction ends, so appends are serialized and the chain never
/// forks.
pub(crate) async fn append(conn: &mut AnyConnection, event: &NewEvent) -> StoreResult<Event> {
    let data = to_json(event)?;
    let head = sqlx::query("UPDATE event_chain SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id, last_hash")
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    let id = get_i64(&head, "last_id")?;
    let prev = get_str(&head, "last_hash")?;
    let hash = chain_hash(id, &prev, &data);
    sqlx::query(
        "INSERT INTO events (id, at, project, product, release_key, data, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(event.at.unix())
    .bind(event.project.as_ref().map(|p| p.as_str().to_owned()))
    .bind(event.product.as_ref().map(|p| p.as_str().to_owned()))
    .bind(event.release.as_ref().map(release_text))
    .bind(&data)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    sqlx::query("UPDATE event_chain SET last_hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(Event { id: u64::try_from(id).map_err(backend)?, event: event.clone() })
}

fn event_of(row: &sqlx::any::AnyRow) -> StoreResult<Event> {
    Ok(Event { id: u64::try_from(get_i64(row, "id")?).map_err(backend)?, event: from_json(&get_str(row, "data")?)? })
}

#[async_trait]
impl EventRepository for SqlStore {
    async fn append(&self, event: &NewEvent) -> StoreResult<Event> {
        let committed = self.commit(Change::new().event(event.clone())).await?;
        committed.events.into_iter().next().ok_or_else(|| StoreError::Backend("the event was not appended".into()))
    }

    async fn list(&self, filter: &EventFilter, page: PageRequest<u64>) -> StoreResult<Vec<Event>> {
        let before = page.after.map_or(i64::MAX, |id| i64::try_from(id).unwrap_or(i64::MAX));
        let mut sql = String::from("SELECT id, data FROM events WHERE id < $1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(release) = &filter.release {
            binds.push(release_text(release));
            let _ = write!(sql, " AND release_key = ${}", binds.len() + 1);
        } else if let Some(project) = &filter.project {
            binds.push(project.as_str().to_owned());
            let _ = write!(sql, " AND project = ${}", binds.len() + 1);
            if let Some(product) = &filter.product {
                binds.push(product.as_str().to_owned());
                let _ = write!(sql, " AND product = ${}", binds.len() + 1);
            }
        }
        let _ = write!(sql, " ORDER BY id DESC LIMIT ${}", binds.len() + 2);
        // Built only from the fixed fragments above; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(before);
        for value in binds {
            query = query.bind(value);
        }
        let rows = query.bind(limit_of(&page)).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(event_of).collect()
    }
}
