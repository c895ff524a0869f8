//! The unit of work: a change's events, writes and tasks in one database transaction.
//!
//! [`UnitOfWork::commit`] opens one transaction (on SQLite with `BEGIN IMMEDIATE`, so that it
//! holds the write lock from its first statement and never fails to upgrade a read lock), appends
//! the change's events to the chain, applies its writes in order and queues its tasks, then
//! commits. Any error rolls all of it back: after a crash or a refused guard, either the whole
//! change is stored or none of it. Events come first because one write (revoking consent) names
//! the anonymous voter after the change's first event.

use async_trait::async_trait;
use atr_core::model::Voter;
use atr_core::ports::{Change, Committed, StoreError, StoreResult, UnitOfWork, Write};
use sqlx::{Any, AnyConnection, Transaction};

use super::{Engine, SqlStore, backend, events, people, queue, records, releases};

impl SqlStore {
    /// Begins a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// transaction that reads before it writes would otherwise fail when another writer
    /// committed in between.
    pub(crate) async fn begin(&self) -> StoreResult<Transaction<'static, Any>> {
        match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend),
            Engine::Postgres => self.pool.begin().await.map_err(backend),
        }
    }

    /// Commits a change of writes alone.
    pub(crate) async fn commit_writes(&self, writes: Vec<Write>) -> StoreResult<()> {
        self.commit(Change { writes, ..Change::default() }).await.map(|_| ())
    }
}

#[async_trait]
impl UnitOfWork for SqlStore {
    async fn commit(&self, change: Change) -> StoreResult<Committed> {
        let mut tx = self.begin().await?;
        let mut events = Vec::with_capacity(change.events.len());
        for event in &change.events {
            events.push(events::append(&mut tx, event).await?);
        }
        let first_event = events.first().map(|e| e.id);
        for write in &change.writes {
            apply(&mut tx, write, first_event).await?;
        }
        let now_ms = records::now_ms();
        let mut tasks = Vec::with_capacity(change.tasks.len());
        for task in &change.tasks {
            let (queued, _) = queue::queue(&mut tx, &records::new_task(task, now_ms), now_ms).await?;
            tasks.push(records::task_view(task, &queued)?);
        }
        tx.commit().await.map_err(backend)?;
        Ok(Committed { events, tasks })
    }
}

/// Applies one write in the transaction.
async fn apply(conn: &mut AnyConnection, write: &Write, first_event: Option<u64>) -> StoreResult<()> {
    match write {
        Write::CreateRelease(release) => releases::create_release(conn, release).await,
        Write::UpdateRelease(release) => releases::update_release(conn, release).await,
        Write::DeleteRelease(release) => releases::delete_release(conn, release).await,
        Write::RecordRevision(revision) => releases::record_revision(conn, revision).await,
        Write::CastBallot(ballot) => releases::cast_ballot(conn, ballot).await,
        Write::CreateProject(project) => people::create_project(conn, project).await,
        Write::UpdateProject(project) => people::update_project(conn, project).await,
        Write::AddIgnore(ignore) => {
            let id = first_event
                .ok_or_else(|| StoreError::Refused("adding an ignore needs an event to take its id from".into()))?;
            people::add_ignore(conn, ignore, id).await
        }
        Write::DeleteIgnore { project, id } => people::delete_ignore(conn, project, *id).await,
        Write::PutCommittee(committee) => people::put_committee(conn, committee).await,
        Write::PutConsent(consent) => people::put_consent(conn, consent).await,
        Write::RevokeConsent { user, at } => {
            let id = first_event.ok_or_else(|| {
                StoreError::Refused("revoking consent needs an event to name the anonymous voter after".into())
            })?;
            people::revoke_consent(conn, user, &Voter::Anonymous(format!("anonymous-{id}")), *at).await
        }
        Write::UpsertKey(key) => people::upsert_key(conn, key).await.map(|_| ()),
        Write::LinkKey { fingerprint, committee } => people::link_key(conn, fingerprint, committee).await,
        Write::RecordKeyUse { fingerprint, release } => people::record_key_use(conn, fingerprint, release).await,
        Write::DeleteKey(fingerprint) => people::delete_key(conn, fingerprint).await,
        Write::PutCve(record) => records::put_cve(conn, record).await,
        Write::LinkCve { id, release, link } => records::link_cve(conn, id, release, *link).await,
        Write::PutDistribution(distribution) => records::put_distribution(conn, distribution).await,
    }
}
