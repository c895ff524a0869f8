//! CVE records, distributions and the task queue.

use async_trait::async_trait;
use atr_core::model::{CveLink, CveRecord, Distribution, ReleaseKey, RevisionNumber, Task, TaskDescriptor};
use atr_core::ports::{
    CveRepository, DistributionRepository, PageRequest, StoreError, StoreResult, TaskRepository, UnitOfWork, Write,
};
use atr_core::types::CveId;
use sqlx::AnyConnection;

use super::people::release_key_of;
use super::queue::NewTask;
use super::{SqlStore, backend, db_error, from_json, get_i64, get_str, limit_of, name_of, release_id, to_json};

#[async_trait]
impl CveRepository for SqlStore {
    async fn get(&self, id: &CveId) -> StoreResult<Option<CveRecord>> {
        let row = sqlx::query("SELECT data FROM cves WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut record: CveRecord = from_json(&get_str(&row, "data")?)?;
        let links = sqlx::query(
            "SELECT l.link, r.project, r.product, r.version FROM cve_links l JOIN releases r ON r.id = l.release_id \
             WHERE l.cve_id = $1",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        record.affects.clear();
        record.resolved_by.clear();
        for link in links {
            let key = release_key_of(&link)?;
            if get_str(&link, "link")? == name_of(&CveLink::Affects)? {
                record.affects.insert(key);
            } else {
                record.resolved_by.insert(key);
            }
        }
        Ok(Some(record))
    }

    async fn put(&self, record: &CveRecord) -> StoreResult<()> {
        self.commit_writes(vec![Write::PutCve(record.clone())]).await
    }

    async fn link(&self, id: &CveId, release: &ReleaseKey, link: CveLink) -> StoreResult<()> {
        self.commit_writes(vec![Write::LinkCve { id: id.clone(), release: release.clone(), link }]).await
    }

    async fn for_release(&self, release: &ReleaseKey, link: CveLink) -> StoreResult<Vec<CveId>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let release_id = release_id(&mut conn, release).await?;
        let rows = sqlx::query("SELECT cve_id FROM cve_links WHERE release_id = $1 AND link = $2 ORDER BY cve_id")
            .bind(release_id)
            .bind(name_of(&link)?)
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        rows.iter().map(|r| CveId::parse(&get_str(r, "cve_id")?).map_err(backend)).collect()
    }

    async fn list(&self, page: PageRequest<CveId>) -> StoreResult<Vec<CveRecord>> {
        let after = page.after.as_ref().map_or("", CveId::as_str);
        let rows = sqlx::query("SELECT id FROM cves WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(limit_of(&page))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            let id = CveId::parse(&get_str(&row, "id")?).map_err(backend)?;
            if let Some(record) = CveRepository::get(self, &id).await? {
                records.push(record);
            }
        }
        Ok(records)
    }
}

#[async_trait]
impl DistributionRepository for SqlStore {
    async fn put(&self, distribution: &Distribution) -> StoreResult<()> {
        self.commit_writes(vec![Write::PutDistribution(distribution.clone())]).await
    }

    async fn for_release(&self, release: &ReleaseKey) -> StoreResult<Vec<Distribution>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let id = release_id(&mut conn, release).await?;
        let rows = sqlx::query("SELECT data FROM distributions WHERE release_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        rows.iter().map(|r| from_json(&get_str(r, "data")?)).collect()
    }
}

/// Creates or replaces a CVE record's fields.
pub(crate) async fn put_cve(conn: &mut AnyConnection, record: &CveRecord) -> StoreResult<()> {
    sqlx::query("INSERT INTO cves (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data")
        .bind(record.id.as_str())
        .bind(to_json(record)?)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Links a CVE to a release.
pub(crate) async fn link_cve(
    conn: &mut AnyConnection,
    id: &CveId,
    release: &ReleaseKey,
    link: CveLink,
) -> StoreResult<()> {
    let release_id = release_id(conn, release).await?;
    sqlx::query("INSERT INTO cve_links (cve_id, release_id, link) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(id.as_str())
        .bind(release_id)
        .bind(name_of(&link)?)
        .execute(&mut *conn)
        .await
        .map_err(db_error("link", &format!("CVE {id}")))?;
    Ok(())
}

/// Adds or replaces a distribution record.
pub(crate) async fn put_distribution(conn: &mut AnyConnection, distribution: &Distribution) -> StoreResult<()> {
    let id = release_id(conn, &distribution.release).await?;
    sqlx::query(
        "INSERT INTO distributions (release_id, platform, owner_namespace, package, environment, data) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (release_id, platform, owner_namespace, package, environment) DO UPDATE SET data = excluded.data",
    )
    .bind(id)
    .bind(name_of(&distribution.platform)?)
    .bind(distribution.owner_namespace.as_str())
    .bind(distribution.package.as_str())
    .bind(name_of(&distribution.environment)?)
    .bind(to_json(distribution)?)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// The queue's row for a descriptor queued through the port.
pub(crate) fn new_task(descriptor: &TaskDescriptor, now_ms: i64) -> NewTask {
    NewTask {
        kind: descriptor.kind.clone(),
        args: descriptor.args.clone(),
        release: descriptor.subject.as_ref().map(|(release, _)| release.clone()),
        revision: descriptor.subject.as_ref().map(|(_, revision)| revision.get()),
        priority: descriptor.priority,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
        scheduled_at_ms: now_ms,
    }
}

/// Attempts a task queued through the port gets.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// The store's clock, for tasks queued through the port (which carries no time).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The port's view of a queued task.
pub(crate) fn task_view(descriptor: &TaskDescriptor, queued: &super::QueuedTask) -> StoreResult<Task> {
    Ok(Task {
        id: u64::try_from(queued.id).map_err(backend)?,
        descriptor: descriptor.clone(),
        status: queued.status,
        attempts: queued.attempts,
        error: queued.error.clone(),
    })
}

#[async_trait]
impl TaskRepository for SqlStore {
    async fn enqueue(&self, task: &TaskDescriptor) -> StoreResult<Task> {
        let committed = self.commit(atr_core::ports::Change::new().task(task.clone())).await?;
        committed.tasks.into_iter().next().ok_or_else(|| StoreError::Backend("the task was not queued".into()))
    }

    async fn pending(&self, release: &ReleaseKey, revision: RevisionNumber) -> StoreResult<u32> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let id = release_id(&mut conn, release).await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM tasks WHERE release_id = $1 AND revision = $2 AND status IN ('queued', 'active')",
        )
        .bind(id)
        .bind(i64::from(revision.get()))
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
        u32::try_from(get_i64(&row, "n")?).map_err(backend)
    }
}
