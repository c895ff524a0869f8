//! People, committees, projects and signing keys.

use async_trait::async_trait;
use atr_core::model::{CheckIgnore, Committee, Consent, Person, Project, ReleaseKey, RoleChange, SigningKey, Voter};
use atr_core::ports::{
    CommitteeRepository, KeyRepository, PageRequest, PersonRepository, ProjectRepository, StoreError, StoreResult,
    Write,
};
use atr_core::types::{CommitteeKey, Fingerprint, KeyId, ProductKey, ProjectKey, Timestamp, UserId, Version};
use sqlx::AnyConnection;

use super::releases::voter_col;
use super::{
    SqlStore, backend, db_error, document_by_key, documents_after, from_json, get_i64, get_opt_i64, get_str, limit_of,
    release_id, to_json,
};

impl SqlStore {
    /// Creates or updates a person's global roles (from the foundation's directory).
    pub async fn put_person(&self, person: &Person) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO persons (id, asf_member, admin) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET asf_member = excluded.asf_member, admin = excluded.admin",
        )
        .bind(person.id.as_str())
        .bind(i64::from(person.asf_member))
        .bind(i64::from(person.admin))
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }
}

async fn ensure_person(conn: &mut AnyConnection, id: &UserId) -> StoreResult<()> {
    sqlx::query("INSERT INTO persons (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl PersonRepository for SqlStore {
    async fn get(&self, id: &UserId) -> StoreResult<Option<Person>> {
        let Some(row) = sqlx::query("SELECT asf_member, admin FROM persons WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let consent = sqlx::query("SELECT name, email, given_at, revoked_at FROM consents WHERE user_id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let consent = match consent {
            Some(c) => Some(Consent {
                user: id.clone(),
                name: sqlx::Row::try_get::<Option<String>, _>(&c, "name").map_err(backend)?.unwrap_or_default(),
                email: sqlx::Row::try_get::<Option<String>, _>(&c, "email").map_err(backend)?.unwrap_or_default(),
                given_at: Timestamp::from_unix(get_i64(&c, "given_at")?),
                revoked_at: get_opt_i64(&c, "revoked_at")?.map(Timestamp::from_unix),
            }),
            None => None,
        };
        Ok(Some(Person {
            id: id.clone(),
            asf_member: get_i64(&row, "asf_member")? != 0,
            admin: get_i64(&row, "admin")? != 0,
            consent,
        }))
    }

    async fn put_consent(&self, consent: &Consent) -> StoreResult<()> {
        self.commit_writes(vec![Write::PutConsent(consent.clone())]).await
    }

    async fn revoke_consent(&self, id: &UserId, anonymous: &Voter, at: Timestamp) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        revoke_consent(&mut tx, id, anonymous, at).await?;
        tx.commit().await.map_err(backend)
    }
}

#[async_trait]
impl CommitteeRepository for SqlStore {
    async fn get(&self, key: &CommitteeKey) -> StoreResult<Option<Committee>> {
        document_by_key(&self.pool, "SELECT data FROM committees WHERE key = $1", key.as_str()).await
    }

    async fn put(&self, committee: &Committee) -> StoreResult<()> {
        self.commit_writes(vec![Write::PutCommittee(committee.clone())]).await
    }

    async fn list(&self, page: PageRequest<CommitteeKey>) -> StoreResult<Vec<Committee>> {
        let after = page.after.as_ref().map_or("", CommitteeKey::as_str);
        let sql = "SELECT data FROM committees WHERE key > $1 ORDER BY key LIMIT $2";
        documents_after(&self.pool, sql, after, limit_of(&page)).await
    }

    async fn change_role(&self, key: &CommitteeKey, change: &RoleChange) -> StoreResult<(Committee, bool)> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // The write comes first: it takes the row's lock (SQLite: the database's write lock)
        // before the read, so no other writer changes the people between read and write.
        let locked = sqlx::query("UPDATE committees SET data = data WHERE key = $1")
            .bind(key.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        if locked.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("committee {key}")));
        }
        let row = sqlx::query("SELECT data FROM committees WHERE key = $1")
            .bind(key.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        let mut committee: Committee = from_json(&get_str(&row, "data")?)?;
        let changed = committee.apply(change);
        if changed {
            sqlx::query("UPDATE committees SET data = $2 WHERE key = $1")
                .bind(key.as_str())
                .bind(to_json(&committee)?)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok((committee, changed))
    }
}

#[async_trait]
impl ProjectRepository for SqlStore {
    async fn get(&self, key: &ProjectKey) -> StoreResult<Option<Project>> {
        document_by_key(&self.pool, "SELECT data FROM projects WHERE key = $1", key.as_str()).await
    }

    async fn create(&self, project: &Project) -> StoreResult<()> {
        self.commit_writes(vec![Write::CreateProject(project.clone())]).await
    }

    async fn update(&self, project: &Project) -> StoreResult<()> {
        self.commit_writes(vec![Write::UpdateProject(project.clone())]).await
    }

    async fn list(&self, page: PageRequest<ProjectKey>) -> StoreResult<Vec<Project>> {
        let after = page.after.as_ref().map_or("", ProjectKey::as_str);
        let sql = "SELECT data FROM projects WHERE key > $1 ORDER BY key LIMIT $2";
        documents_after(&self.pool, sql, after, limit_of(&page)).await
    }

    async fn ignores(&self, project: &ProjectKey) -> StoreResult<Vec<CheckIgnore>> {
        let rows = sqlx::query("SELECT id, data FROM check_ignores WHERE project = $1 ORDER BY id")
            .bind(project.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let mut ignore: CheckIgnore = from_json(&get_str(r, "data")?)?;
                ignore.id = u64::try_from(get_i64(r, "id")?).map_err(backend)?;
                Ok(ignore)
            })
            .collect()
    }
}

/// Reads a key row with its committee links (the links table is the truth for them).
async fn key_from_row(conn: &mut AnyConnection, data: &str) -> StoreResult<SigningKey> {
    let mut key: SigningKey = from_json(data)?;
    let rows = sqlx::query("SELECT committee FROM key_committees WHERE fingerprint = $1 ORDER BY committee")
        .bind(key.fingerprint.to_hex())
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    key.committees = rows
        .iter()
        .map(|r| CommitteeKey::parse(&get_str(r, "committee")?).map_err(backend))
        .collect::<StoreResult<_>>()?;
    Ok(key)
}

async fn keys_where(store: &SqlStore, sql: &'static str, value: &str) -> StoreResult<Vec<SigningKey>> {
    let mut conn = store.pool.acquire().await.map_err(backend)?;
    let rows = sqlx::query(sql).bind(value).fetch_all(&mut *conn).await.map_err(backend)?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        keys.push(key_from_row(&mut conn, &get_str(&row, "data")?).await?);
    }
    Ok(keys)
}

pub(crate) async fn link_key(
    conn: &mut AnyConnection,
    fingerprint: &Fingerprint,
    committee: &CommitteeKey,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO key_committees (fingerprint, committee) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(fingerprint.to_hex())
        .bind(committee.as_str())
        .execute(&mut *conn)
        .await
        .map_err(db_error("link", &format!("key {fingerprint} or committee {committee}")))?;
    Ok(())
}

pub(crate) fn release_key_of(row: &sqlx::any::AnyRow) -> StoreResult<ReleaseKey> {
    let product = get_str(row, "product")?;
    Ok(ReleaseKey::new(
        ProjectKey::parse(&get_str(row, "project")?).map_err(backend)?,
        if product.is_empty() { None } else { Some(ProductKey::parse(&product).map_err(backend)?) },
        Version::parse(&get_str(row, "version")?).map_err(backend)?,
    ))
}

#[async_trait]
impl KeyRepository for SqlStore {
    async fn get(&self, fingerprint: &Fingerprint) -> StoreResult<Option<SigningKey>> {
        Ok(keys_where(self, "SELECT data FROM signing_keys WHERE fingerprint = $1", &fingerprint.to_hex()).await?.pop())
    }

    async fn find_by_key_id(&self, id: &KeyId) -> StoreResult<Vec<SigningKey>> {
        keys_where(self, "SELECT data FROM signing_keys WHERE key_id = $1 ORDER BY fingerprint", &id.to_hex()).await
    }

    async fn upsert(&self, key: &SigningKey) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let added = upsert_key(&mut tx, key).await?;
        tx.commit().await.map_err(backend)?;
        Ok(added)
    }

    async fn link(&self, fingerprint: &Fingerprint, committee: &CommitteeKey) -> StoreResult<()> {
        self.commit_writes(vec![Write::LinkKey { fingerprint: fingerprint.clone(), committee: committee.clone() }])
            .await
    }

    async fn by_committee(&self, committee: &CommitteeKey) -> StoreResult<Vec<SigningKey>> {
        keys_where(
            self,
            "SELECT k.data FROM signing_keys k JOIN key_committees c ON c.fingerprint = k.fingerprint \
             WHERE c.committee = $1 ORDER BY k.fingerprint",
            committee.as_str(),
        )
        .await
    }

    async fn by_owner(&self, owner: &UserId) -> StoreResult<Vec<SigningKey>> {
        keys_where(self, "SELECT data FROM signing_keys WHERE owner = $1 ORDER BY fingerprint", owner.as_str()).await
    }

    async fn record_use(&self, fingerprint: &Fingerprint, release: &ReleaseKey) -> StoreResult<()> {
        self.commit_writes(vec![Write::RecordKeyUse { fingerprint: fingerprint.clone(), release: release.clone() }])
            .await
    }

    async fn releases_signed(&self, fingerprint: &Fingerprint) -> StoreResult<Vec<ReleaseKey>> {
        let rows = sqlx::query(
            "SELECT r.project, r.product, r.version FROM key_uses u JOIN releases r ON r.id = u.release_id \
             WHERE u.fingerprint = $1 ORDER BY r.project, r.product, r.version_key",
        )
        .bind(fingerprint.to_hex())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(release_key_of).collect()
    }

    async fn delete(&self, fingerprint: &Fingerprint) -> StoreResult<()> {
        self.commit_writes(vec![Write::DeleteKey(fingerprint.clone())]).await
    }
}

/// Records consent.
pub(crate) async fn put_consent(conn: &mut AnyConnection, consent: &Consent) -> StoreResult<()> {
    ensure_person(conn, &consent.user).await?;
    sqlx::query(
        "INSERT INTO consents (user_id, name, email, given_at, revoked_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, email = excluded.email, \
         given_at = excluded.given_at, revoked_at = excluded.revoked_at",
    )
    .bind(consent.user.as_str())
    .bind(consent.name.as_str())
    .bind(consent.email.as_str())
    .bind(consent.given_at.unix())
    .bind(consent.revoked_at.map(Timestamp::unix))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Revokes consent and anonymizes the ballots cast under it.
pub(crate) async fn revoke_consent(
    conn: &mut AnyConnection,
    id: &UserId,
    anonymous: &Voter,
    at: Timestamp,
) -> StoreResult<()> {
    // The write comes first so that SQLite takes its lock before reading.
    let done = sqlx::query(
        "UPDATE consents SET name = NULL, email = NULL, revoked_at = $2 \
         WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(id.as_str())
    .bind(at.unix())
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("active consent of {id}")));
    }
    let given_at = sqlx::query("SELECT given_at FROM consents WHERE user_id = $1")
        .bind(id.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    let given_at = get_i64(&given_at, "given_at")?;
    // Ballots cast while the consent was in force become anonymous.
    let rows = sqlx::query("SELECT id, data FROM ballots WHERE voter = $1 AND cast_at >= $2 AND cast_at <= $3")
        .bind(voter_col(&Voter::User(id.clone())))
        .bind(given_at)
        .bind(at.unix())
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    for row in rows {
        let mut ballot: atr_core::model::Ballot = from_json(&get_str(&row, "data")?)?;
        ballot.voter = anonymous.clone();
        sqlx::query("UPDATE ballots SET voter = $1, data = $2 WHERE id = $3")
            .bind(voter_col(anonymous))
            .bind(to_json(&ballot)?)
            .bind(get_i64(&row, "id")?)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

/// Creates or replaces a committee.
pub(crate) async fn put_committee(conn: &mut AnyConnection, committee: &Committee) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO committees (key, data) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET data = excluded.data",
    )
    .bind(committee.key.as_str())
    .bind(to_json(committee)?)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Creates a project.
pub(crate) async fn create_project(conn: &mut AnyConnection, project: &Project) -> StoreResult<()> {
    sqlx::query("INSERT INTO projects (key, committee, data) VALUES ($1, $2, $3)")
        .bind(project.key.as_str())
        .bind(project.committee.as_str())
        .bind(to_json(project)?)
        .execute(&mut *conn)
        .await
        .map_err(db_error(&format!("project {}", project.key), &format!("committee {}", project.committee)))?;
    Ok(())
}

/// Replaces a project's metadata, policy and products.
pub(crate) async fn update_project(conn: &mut AnyConnection, project: &Project) -> StoreResult<()> {
    let done = sqlx::query("UPDATE projects SET committee = $2, data = $3 WHERE key = $1")
        .bind(project.key.as_str())
        .bind(project.committee.as_str())
        .bind(to_json(project)?)
        .execute(&mut *conn)
        .await
        .map_err(db_error("project", &format!("committee {}", project.committee)))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("project {}", project.key)));
    }
    for product in &project.products {
        // A product named like a version of the main product would make coordinates ambiguous.
        let clash = sqlx::query("SELECT id FROM releases WHERE project = $1 AND product = '' AND version = $2")
            .bind(project.key.as_str())
            .bind(product.key.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
        if clash.is_some() {
            return Err(StoreError::Conflict(format!(
                "product {} of {} is named like an existing version",
                product.key, project.key
            )));
        }
    }
    Ok(())
}

/// Adds a check ignore to its project under the id `id` (the id of the event recording it).
pub(crate) async fn add_ignore(conn: &mut AnyConnection, ignore: &CheckIgnore, id: u64) -> StoreResult<()> {
    let stored = CheckIgnore { id, ..ignore.clone() };
    sqlx::query("INSERT INTO check_ignores (id, project, data) VALUES ($1, $2, $3)")
        .bind(i64::try_from(id).map_err(backend)?)
        .bind(ignore.project.as_str())
        .bind(to_json(&stored)?)
        .execute(&mut *conn)
        .await
        .map_err(db_error("ignore", &format!("project {}", ignore.project)))?;
    Ok(())
}

/// Deletes a check ignore of the project; `NotFound` if it has none of that id.
pub(crate) async fn delete_ignore(conn: &mut AnyConnection, project: &ProjectKey, id: u64) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM check_ignores WHERE project = $1 AND id = $2")
        .bind(project.as_str())
        .bind(i64::try_from(id).map_err(backend)?)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("ignore {id} of project {project}")));
    }
    Ok(())
}

/// Adds or updates a key with its committee links; true if it was added.
pub(crate) async fn upsert_key(conn: &mut AnyConnection, key: &SigningKey) -> StoreResult<bool> {
    let fingerprint = key.fingerprint.to_hex();
    let added = sqlx::query(
        "INSERT INTO signing_keys (fingerprint, key_id, owner, data) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (fingerprint) DO NOTHING",
    )
    .bind(&fingerprint)
    .bind(key.fingerprint.key_id().to_hex())
    .bind(key.owner.as_ref().map(|o| o.as_str().to_owned()))
    .bind(to_json(key)?)
    .execute(&mut *conn)
    .await
    .map_err(backend)?
    .rows_affected()
        == 1;
    if !added {
        sqlx::query("UPDATE signing_keys SET owner = $2, data = $3 WHERE fingerprint = $1")
            .bind(&fingerprint)
            .bind(key.owner.as_ref().map(|o| o.as_str().to_owned()))
            .bind(to_json(key)?)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    for committee in &key.committees {
        link_key(conn, &key.fingerprint, committee).await?;
    }
    Ok(added)
}

/// Records that the key signed files of the release.
pub(crate) async fn record_key_use(
    conn: &mut AnyConnection,
    fingerprint: &Fingerprint,
    release: &ReleaseKey,
) -> StoreResult<()> {
    let id = release_id(conn, release).await?;
    sqlx::query("INSERT INTO key_uses (fingerprint, release_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(fingerprint.to_hex())
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(db_error("key use", &format!("key {fingerprint}")))?;
    Ok(())
}

/// Deletes a key no release used.
pub(crate) async fn delete_key(conn: &mut AnyConnection, fingerprint: &Fingerprint) -> StoreResult<()> {
    let hex = fingerprint.to_hex();
    // Lock the key's row first, so no use is recorded between the check and the delete.
    let found = sqlx::query("UPDATE signing_keys SET owner = owner WHERE fingerprint = $1")
        .bind(&hex)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    if found.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("key {fingerprint}")));
    }
    let used = sqlx::query(
        "SELECT r.project, r.product, r.version FROM key_uses u JOIN releases r ON r.id = u.release_id \
         WHERE u.fingerprint = $1 ORDER BY r.project, r.version_key",
    )
    .bind(&hex)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    if !used.is_empty() {
        let names: Vec<String> =
            used.iter().map(|r| release_key_of(r).map(|k| k.to_string())).collect::<StoreResult<_>>()?;
        return Err(StoreError::Conflict(format!("key {fingerprint} signed {}", names.join(", "))));
    }
    for sql in ["DELETE FROM key_committees WHERE fingerprint = $1", "DELETE FROM signing_keys WHERE fingerprint = $1"]
    {
        sqlx::query(sql).bind(&hex).execute(&mut *conn).await.map_err(backend)?;
    }
    Ok(())
}
