//! Releases, revisions, check results and ballots.

use async_trait::async_trait;
use atr_core::model::{Ballot, CheckResult, CheckRun, Release, ReleaseKey, Revision, RevisionNumber, VoteRound, Voter};
use atr_core::ports::{
    BallotRepository, PageRequest, ReleaseRepository, RevisionRepository, StoreError, StoreResult, Write,
};
use atr_core::types::{ProductKey, ProjectKey, Stage, Version};
use sqlx::AnyConnection;

use super::people::release_key_of;
use super::{
    SqlStore, backend, db_error, from_json, get_i64, get_opt_i64, get_str, limit_of, name_of, product_col, release_id,
    to_json,
};

/// The voter column: `user:<id>`, `email:<address>`, `anonymous:<label>`.
pub(crate) fn voter_col(voter: &Voter) -> String {
    match voter {
        Voter::User(id) => format!("user:{id}"),
        Voter::Email(address) => format!("email:{address}"),
        Voter::Anonymous(label) => format!("anonymous:{label}"),
    }
}

fn stage_col(release: &Release) -> StoreResult<Option<String>> {
    release.stage().map(|s| name_of(&s)).transpose()
}

fn revision_col(number: Option<RevisionNumber>) -> i64 {
    number.map_or(0, |n| i64::from(n.get()))
}

fn show_revision(number: Option<i64>) -> String {
    match number {
        Some(n) if n > 0 => format!("{n:05}"),
        _ => "none".into(),
    }
}

/// A release row: the document, with the latest revision and the lock version taken from their
/// columns (which `record` and every update move).
fn release_of(row: &sqlx::any::AnyRow) -> StoreResult<Release> {
    let mut release: Release = from_json(&get_str(row, "data")?)?;
    release.lock_version = u64::try_from(get_i64(row, "lock_version")?).map_err(backend)?;
    release.latest_revision = match get_opt_i64(row, "latest_revision")? {
        Some(n) => Some(
            u32::try_from(n)
                .ok()
                .and_then(RevisionNumber::new)
                .ok_or_else(|| StoreError::Backend(format!("bad revision number {n}")))?,
        ),
        None => None,
    };
    Ok(release)
}

#[async_trait]
impl ReleaseRepository for SqlStore {
    async fn get(&self, key: &ReleaseKey) -> StoreResult<Option<Release>> {
        let row = sqlx::query(
            "SELECT data, latest_revision, lock_version FROM releases WHERE project = $1 AND product = $2 AND version = $3",
        )
        .bind(key.project.as_str())
        .bind(product_col(key))
        .bind(key.version.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(release_of).transpose()
    }

    async fn create(&self, release: &Release) -> StoreResult<()> {
        self.commit_writes(vec![Write::CreateRelease(release.clone())]).await
    }

    async fn update(&self, release: &Release, expected: &Release) -> StoreResult<()> {
        if release.key != expected.key {
            return Err(StoreError::Refused("a release's key never changes".into()));
        }
        let mut release = release.clone();
        release.lock_version = expected.lock_version;
        self.commit_writes(vec![Write::UpdateRelease(release)]).await
    }

    async fn list(
        &self,
        project: &ProjectKey,
        product: Option<ProductKey>,
        stage: Option<Stage>,
        page: PageRequest<Version>,
    ) -> StoreResult<Vec<Release>> {
        // Version keys are ASCII letters, digits and '!': '~' sorts after all of them.
        let before = page.after.as_ref().map_or_else(|| "~".to_owned(), Version::sort_key);
        let product = product.as_ref().map_or("", ProductKey::as_str);
        let sql = if stage.is_some() {
            "SELECT data, latest_revision, lock_version FROM releases WHERE project = $1 AND product = $2 AND stage = $3 \
             AND version_key < $4 ORDER BY version_key DESC LIMIT $5"
        } else {
            "SELECT data, latest_revision, lock_version FROM releases WHERE project = $1 AND product = $2 AND stage IS NULL \
             AND $3 = '' AND version_key < $4 ORDER BY version_key DESC LIMIT $5"
        };
        let rows = sqlx::query(sql)
            .bind(project.as_str())
            .bind(product)
            .bind(stage.map(|s| name_of(&s)).transpose()?.unwrap_or_default())
            .bind(before)
            .bind(limit_of(&page))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(release_of).collect()
    }

    async fn numbered_after(&self, key: &ReleaseKey) -> StoreResult<Option<RevisionNumber>> {
        let row =
            sqlx::query("SELECT last_used FROM revision_numbers WHERE project = $1 AND product = $2 AND version = $3")
                .bind(key.project.as_str())
                .bind(product_col(key))
                .bind(key.version.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let last = u32::try_from(get_i64(&row, "last_used")?).map_err(backend)?;
        Ok(RevisionNumber::new(last))
    }

    async fn latest(
        &self,
        project: &ProjectKey,
        product: Option<ProductKey>,
        stage: Stage,
    ) -> StoreResult<Option<Release>> {
        let page = PageRequest::first(1);
        Ok(ReleaseRepository::list(self, project, product, Some(stage), page).await?.into_iter().next())
    }
}

/// Creates a release in the transaction.
pub(crate) async fn create_release(conn: &mut AnyConnection, release: &Release) -> StoreResult<()> {
    let key = &release.key;
    sqlx::query(
        "INSERT INTO releases (project, product, version, version_key, stage, phase, latest_revision, revoked, \
         lock_version, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
    )
    .bind(key.project.as_str())
    .bind(product_col(key))
    .bind(key.version.as_str())
    .bind(key.version.sort_key())
    .bind(stage_col(release)?)
    .bind(name_of(&release.phase)?)
    .bind(release.latest_revision.map(|n| i64::from(n.get())))
    .bind(i64::from(release.is_revoked()))
    .bind(to_json(release)?)
    .execute(&mut *conn)
    .await
    .map_err(db_error(&format!("release {key}"), &format!("project {}", key.project)))?;
    Ok(())
}

fn lock_col(release: &Release) -> StoreResult<i64> {
    i64::try_from(release.lock_version).map_err(backend)
}

/// Writes the release if its stored lock version is still `release.lock_version`, bumping it.
/// The latest revision is kept from the row: only recording a revision moves it, and that bumps
/// the lock version too, so the version alone tells a stale writer apart.
pub(crate) async fn update_release(conn: &mut AnyConnection, release: &Release) -> StoreResult<()> {
    let key = &release.key;
    let expected = lock_col(release)?;
    let done = sqlx::query(
        "UPDATE releases SET stage = $4, phase = $5, revoked = $6, data = $7, lock_version = lock_version + 1 \
         WHERE project = $1 AND product = $2 AND version = $3 AND lock_version = $8",
    )
    .bind(key.project.as_str())
    .bind(product_col(key))
    .bind(key.version.as_str())
    .bind(stage_col(release)?)
    .bind(name_of(&release.phase)?)
    .bind(i64::from(release.is_revoked()))
    .bind(to_json(release)?)
    .bind(expected)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    let row = sqlx::query(
        "SELECT data, latest_revision, lock_version FROM releases WHERE project = $1 AND product = $2 AND version = $3",
    )
    .bind(key.project.as_str())
    .bind(product_col(key))
    .bind(key.version.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let Some(row) = row else {
        return Err(StoreError::NotFound(format!("release {key}")));
    };
    let found = release_of(&row)?;
    Err(StoreError::Conflict(format!(
        "release {key} moved on: it was read at version {expected} and is now at version {} (phase {} at revision \
         {}{})",
        found.lock_version,
        found.phase.as_str(),
        show_revision(Some(revision_col(found.latest_revision))),
        if found.is_revoked() { ", revoked" } else { "" },
    )))
}

/// Deletes the rows of a release, table by table, before the release itself.
const DELETE_RELEASE_ROWS: [&str; 8] = [
    "DELETE FROM check_results WHERE release_id = $1",
    "DELETE FROM check_runs WHERE release_id = $1",
    "DELETE FROM revisions WHERE release_id = $1",
    "DELETE FROM key_uses WHERE release_id = $1",
    "DELETE FROM ballots WHERE release_id = $1",
    "DELETE FROM cve_links WHERE release_id = $1",
    "DELETE FROM distributions WHERE release_id = $1",
    "DELETE FROM tasks WHERE release_id = $1",
];

/// Deletes a release and every row of it if its stored lock version is still
/// `release.lock_version`; `Conflict` naming what it found otherwise. Events are kept.
pub(crate) async fn delete_release(conn: &mut AnyConnection, release: &Release) -> StoreResult<()> {
    let key = &release.key;
    let expected = lock_col(release)?;
    let id = super::release_id(conn, key).await?;
    let row = sqlx::query("SELECT data, latest_revision, lock_version FROM releases WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    let found = release_of(&row)?;
    if found.lock_version != release.lock_version {
        return Err(StoreError::Conflict(format!(
            "release {key} moved on: it was read at version {expected} and is now at version {} (phase {} at \
             revision {})",
            found.lock_version,
            found.phase.as_str(),
            show_revision(Some(revision_col(found.latest_revision))),
        )));
    }
    // The numbers it used stay used: a release started again numbers after them.
    if let Some(last) = found.latest_revision.or(found.numbered_after) {
        sqlx::query(
            "INSERT INTO revision_numbers (project, product, version, last_used) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (project, product, version) DO UPDATE SET last_used = CASE \
             WHEN excluded.last_used > revision_numbers.last_used THEN excluded.last_used \
             ELSE revision_numbers.last_used END",
        )
        .bind(key.project.as_str())
        .bind(product_col(key))
        .bind(key.version.as_str())
        .bind(i64::from(last.get()))
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    }
    for statement in DELETE_RELEASE_ROWS {
        sqlx::query(statement).bind(id).execute(&mut *conn).await.map_err(backend)?;
    }
    sqlx::query("DELETE FROM releases WHERE id = $1").bind(id).execute(&mut *conn).await.map_err(backend)?;
    Ok(())
}

/// Records a revision and moves the release's latest revision to it (bumping its lock version),
/// guarded by the expected parent.
pub(crate) async fn record_revision(conn: &mut AnyConnection, revision: &Revision) -> StoreResult<()> {
    let key = &revision.release;
    let number = i64::from(revision.number.get());
    let parent = revision_col(revision.parent);
    if number <= parent {
        return Err(StoreError::Refused(format!("revision {number:05} must come after its parent")));
    }
    // The guarded move of the latest revision comes first: it takes the write lock and is the
    // race's referee.
    let moved = sqlx::query(
        "UPDATE releases SET latest_revision = $4, lock_version = lock_version + 1 \
         WHERE project = $1 AND product = $2 AND version = $3 AND COALESCE(latest_revision, 0) = $5",
    )
    .bind(key.project.as_str())
    .bind(product_col(key))
    .bind(key.version.as_str())
    .bind(number)
    .bind(parent)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    if moved.rows_affected() == 0 {
        let row =
            sqlx::query("SELECT latest_revision FROM releases WHERE project = $1 AND product = $2 AND version = $3")
                .bind(key.project.as_str())
                .bind(product_col(key))
                .bind(key.version.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(backend)?;
        let Some(row) = row else {
            return Err(StoreError::NotFound(format!("release {key}")));
        };
        return Err(StoreError::Conflict(format!(
            "expected revision {} to be the latest of {key}, but it is {}",
            show_revision(Some(parent)),
            show_revision(get_opt_i64(&row, "latest_revision")?)
        )));
    }
    let id = release_id(conn, key).await?;
    sqlx::query("INSERT INTO revisions (release_id, number, parent, data) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(number)
        .bind(revision.parent.map(|p| i64::from(p.get())))
        .bind(to_json(revision)?)
        .execute(&mut *conn)
        .await
        .map_err(db_error(&format!("revision {number:05} of {key}"), &format!("release {key}")))?;
    Ok(())
}

/// Stores check results (with their releases' row ids). The results of a checker on a revision
/// replace all its earlier results there, so running a check again, or committing the same
/// results twice, leaves one set.
pub(crate) async fn insert_checks(
    conn: &mut sqlx::AnyConnection,
    results: &[CheckResult],
    ids: &[i64],
) -> StoreResult<()> {
    let mut replaced = std::collections::BTreeSet::new();
    for (result, id) in results.iter().zip(ids) {
        let revision = i64::from(result.revision.get());
        if replaced.insert((*id, revision, result.checker.as_str())) {
            sqlx::query("DELETE FROM check_results WHERE release_id = $1 AND revision = $2 AND checker = $3")
                .bind(*id)
                .bind(revision)
                .bind(result.checker.as_str())
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
        }
        sqlx::query("INSERT INTO check_results (release_id, revision, checker, data) VALUES ($1, $2, $3, $4)")
            .bind(*id)
            .bind(revision)
            .bind(result.checker.as_str())
            .bind(to_json(result)?)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

impl SqlStore {
    /// Every recorded revision, by release: what the start-up reconciliation compares with the
    /// folders on disk.
    pub async fn recorded_revisions(&self) -> StoreResult<Vec<(ReleaseKey, RevisionNumber)>> {
        let rows = sqlx::query(
            "SELECT r.project, r.product, r.version, v.number FROM revisions v JOIN releases r ON r.id = v.release_id \
             ORDER BY r.id, v.number",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let number = u32::try_from(get_i64(row, "number")?)
                    .ok()
                    .and_then(RevisionNumber::new)
                    .ok_or_else(|| StoreError::Backend("bad revision number".into()))?;
                Ok((release_key_of(row)?, number))
            })
            .collect()
    }
}

#[async_trait]
impl RevisionRepository for SqlStore {
    async fn get(&self, release: &ReleaseKey, number: RevisionNumber) -> StoreResult<Option<Revision>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let Ok(id) = release_id(&mut conn, release).await else {
            return Ok(None);
        };
        let row = sqlx::query("SELECT data FROM revisions WHERE release_id = $1 AND number = $2")
            .bind(id)
            .bind(i64::from(number.get()))
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
        row.map(|r| from_json(&get_str(&r, "data")?)).transpose()
    }

    async fn record(&self, revision: &Revision) -> StoreResult<()> {
        self.commit_writes(vec![Write::RecordRevision(revision.clone())]).await
    }

    async fn list(&self, release: &ReleaseKey, page: PageRequest<RevisionNumber>) -> StoreResult<Vec<Revision>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let id = release_id(&mut conn, release).await?;
        let rows =
            sqlx::query("SELECT data FROM revisions WHERE release_id = $1 AND number > $2 ORDER BY number LIMIT $3")
                .bind(id)
                .bind(revision_col(page.after))
                .bind(limit_of(&page))
                .fetch_all(&mut *conn)
                .await
                .map_err(backend)?;
        rows.iter().map(|r| from_json(&get_str(r, "data")?)).collect()
    }

    async fn record_checks(&self, results: &[CheckResult]) -> StoreResult<()> {
        let mut ids = Vec::with_capacity(results.len());
        {
            let mut conn = self.pool.acquire().await.map_err(backend)?;
            for result in results {
                ids.push(release_id(&mut conn, &result.release).await?);
            }
        }
        let mut tx = self.pool.begin().await.map_err(backend)?;
        insert_checks(&mut tx, results, &ids).await?;
        tx.commit().await.map_err(backend)
    }

    async fn check_run(&self, release: &ReleaseKey, number: RevisionNumber) -> StoreResult<Option<CheckRun>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let Ok(id) = release_id(&mut conn, release).await else {
            return Ok(None);
        };
        let row = sqlx::query("SELECT data FROM check_runs WHERE release_id = $1 AND revision = $2")
            .bind(id)
            .bind(i64::from(number.get()))
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
        row.map(|r| from_json(&get_str(&r, "data")?)).transpose()
    }

    async fn checks(&self, release: &ReleaseKey, number: RevisionNumber) -> StoreResult<Vec<CheckResult>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let id = release_id(&mut conn, release).await?;
        let rows = sqlx::query("SELECT data FROM check_results WHERE release_id = $1 AND revision = $2 ORDER BY id")
            .bind(id)
            .bind(i64::from(number.get()))
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        rows.iter().map(|r| from_json(&get_str(r, "data")?)).collect()
    }
}

#[async_trait]
impl BallotRepository for SqlStore {
    async fn cast(&self, ballot: &Ballot) -> StoreResult<()> {
        self.commit_writes(vec![Write::CastBallot(ballot.clone())]).await
    }

    async fn active(&self, release: &ReleaseKey, round: VoteRound) -> StoreResult<Vec<Ballot>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let id = release_id(&mut conn, release).await?;
        let rows = sqlx::query(
            "SELECT data FROM ballots WHERE release_id = $1 AND round = $2 AND active = 1 ORDER BY cast_at, id",
        )
        .bind(id)
        .bind(name_of(&round)?)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
        rows.iter().map(|r| from_json(&get_str(r, "data")?)).collect()
    }
}

/// Stores a ballot; the voter's earlier ballot of the round stops being active.
pub(crate) async fn cast_ballot(conn: &mut AnyConnection, ballot: &Ballot) -> StoreResult<()> {
    let round = name_of(&ballot.round)?;
    let voter = voter_col(&ballot.voter);
    let id = release_id(conn, &ballot.release).await?;
    sqlx::query("UPDATE ballots SET active = 0 WHERE release_id = $1 AND round = $2 AND voter = $3 AND active = 1")
        .bind(id)
        .bind(&round)
        .bind(&voter)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    sqlx::query("INSERT INTO ballots (release_id, round, voter, cast_at, active, data) VALUES ($1, $2, $3, $4, 1, $5)")
        .bind(id)
        .bind(&round)
        .bind(&voter)
        .bind(ballot.cast_at.unix())
        .bind(to_json(ballot)?)
        .execute(&mut *conn)
        .await
        .map_err(db_error(&format!("an active ballot of {voter}"), "release"))?;
    Ok(())
}
