//! CVE records, distributions and the task queue.

use async_trait::async_trait;
use atr_core::model::{CveLink, CveRecord, Distribution, ReleaseKey, RevisionNumber, Task, TaskDescriptor};
use atr_core::ports::{CveRepository, DistributionRepository, PageRequest, StoreResult, TaskRepository};
use atr_core::types::CveId;

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
        sqlx::query("INSERT INTO cves (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data")
            .bind(record.id.as_str())
            .bind(to_json(record)?)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn link(&self, id: &CveId, release: &ReleaseKey, link: CveLink) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let release_id = release_id(&mut conn, release).await?;
        sqlx::query("INSERT INTO cve_links (cve_id, release_id, link) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(id.as_str())
            .bind(release_id)
            .bind(name_of(&link)?)
            .execute(&mut *conn)
            .await
            .map_err(db_error("link", &format!("CVE {id}")))?;
        Ok(())
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
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let id = release_id(&mut conn, &distribution.release).await?;
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

fn analyze_task(descriptor: &TaskDescriptor) -> StoreResult<NewTask> {
    Ok(NewTask {
        kind: name_of(&descriptor.kind)?,
        args: serde_json::json!({ "release": descriptor.release, "revision": descriptor.revision }),
        release: Some(descriptor.release.clone()),
        revision: Some(descriptor.revision.get()),
        priority: descriptor.priority,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
        scheduled_at_ms: now_ms(),
    })
}

/// Attempts a task queued through the port gets.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// The store's clock, for tasks queued through the port (which carries no time).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[async_trait]
impl TaskRepository for SqlStore {
    async fn enqueue(&self, task: &TaskDescriptor) -> StoreResult<Task> {
        let (queued, _) = self.queue_task(&analyze_task(task)?, now_ms()).await?;
        Ok(Task {
            id: u64::try_from(queued.id).map_err(backend)?,
            descriptor: task.clone(),
            status: queued.status,
            attempts: queued.attempts,
            error: queued.error,
        })
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
