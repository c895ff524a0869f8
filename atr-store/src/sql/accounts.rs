//! Local accounts, browser sessions and personal access tokens.
//!
//! Nothing stored here is a secret: a password is kept as the PHC string of its argon2 hash, and
//! session and token secrets as their SHA-256. The HTTP side computes both and compares in
//! constant time; this module only keeps and finds the rows. [`AccountRepository`] is the port
//! the core's account services use; the inherent methods remain for operator commands and tests.

use std::collections::BTreeSet;

use async_trait::async_trait;
pub use atr_core::auth::StoredToken;
use atr_core::auth::{Activity, MachineToken, PasswordHash};
use atr_core::model::Person;
use atr_core::ports::{AccountRepository, StoreError, StoreResult};
use atr_core::types::{ProjectKey, Sha256Digest, Timestamp, UserId};
use sqlx::{AnyConnection, Row};

use super::{SqlStore, backend, db_error, from_json, get_i64, get_opt_i64, get_str, to_json};

/// The tables of this module, for [`SqlStore::account_table_text`].
const ACCOUNT_TABLES: [&str; 3] = ["accounts", "sessions", "access_tokens"];

async fn ensure_person(conn: &mut AnyConnection, id: &UserId) -> StoreResult<()> {
    sqlx::query("INSERT INTO persons (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

impl SqlStore {
    /// Creates the local account of `user` (and the person, without global roles, if missing).
    /// `password_hash` is a PHC string, never a password. `Conflict` if the account exists.
    pub async fn create_account(&self, user: &UserId, password_hash: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        ensure_person(&mut tx, user).await?;
        sqlx::query("INSERT INTO accounts (user_id, password_hash) VALUES ($1, $2)")
            .bind(user.as_str())
            .bind(password_hash)
            .execute(&mut *tx)
            .await
            .map_err(db_error(&format!("the account of {user}"), &format!("person {user}")))?;
        tx.commit().await.map_err(backend)
    }

    /// The PHC string of the account's password, or `None` without a local account.
    pub async fn password_hash(&self, user: &UserId) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT password_hash FROM accounts WHERE user_id = $1")
            .bind(user.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|r| get_str(&r, "password_hash")).transpose()
    }

    /// Replaces the account's password hash. `NotFound` without a local account.
    pub async fn set_password_hash(&self, user: &UserId, password_hash: &str) -> StoreResult<()> {
        let done = sqlx::query("UPDATE accounts SET password_hash = $2 WHERE user_id = $1")
            .bind(user.as_str())
            .bind(password_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("the account of {user}")));
        }
        Ok(())
    }

    /// Records a session of `user` under the SHA-256 of its secret, and drops the user's
    /// sessions that have expired by `created_at`.
    pub async fn create_session(
        &self,
        secret_hash: &str,
        user: &UserId,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2")
            .bind(user.as_str())
            .bind(created_at.unix())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query("INSERT INTO sessions (secret_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(secret_hash)
            .bind(user.as_str())
            .bind(created_at.unix())
            .bind(expires_at.unix())
            .execute(&mut *tx)
            .await
            .map_err(db_error("session", &format!("person {user}")))?;
        tx.commit().await.map_err(backend)
    }

    /// The user of the session with this secret hash, if it is still live at `now`.
    pub async fn session_user(&self, secret_hash: &str, now: Timestamp) -> StoreResult<Option<UserId>> {
        let row = sqlx::query("SELECT user_id FROM sessions WHERE secret_hash = $1 AND expires_at > $2")
            .bind(secret_hash)
            .bind(now.unix())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|r| UserId::parse(&get_str(&r, "user_id")?).map_err(backend)).transpose()
    }

    /// Ends the session with this secret hash; false if there was none.
    pub async fn delete_session(&self, secret_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE secret_hash = $1")
            .bind(secret_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    /// Drops every session expired at `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.unix())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    /// Records a new personal access token under the SHA-256 of its secret. `Conflict` if the
    /// id is taken, `NotFound` if the owner is not a known person.
    pub async fn create_token(&self, grant: &MachineToken, name: &str, secret_hash: &str) -> StoreResult<()> {
        let projects: Vec<&str> = grant.projects().iter().map(ProjectKey::as_str).collect();
        let activities: Vec<&str> = grant.activities().iter().map(|a| a.as_str()).collect();
        sqlx::query(
            "INSERT INTO access_tokens (id, owner, name, secret_hash, projects, activities, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(grant.id())
        .bind(grant.owner().as_str())
        .bind(name)
        .bind(secret_hash)
        .bind(to_json(&projects)?)
        .bind(to_json(&activities)?)
        .bind(grant.created_at().unix())
        .bind(grant.expires_at().unix())
        .execute(&self.pool)
        .await
        .map_err(db_error(&format!("token {}", grant.id()), &format!("person {}", grant.owner())))?;
        Ok(())
    }

    /// The token with this id, revoked and expired ones included.
    pub async fn token_by_id(&self, id: &str) -> StoreResult<Option<StoredToken>> {
        let row = sqlx::query(
            "SELECT id, owner, name, secret_hash, projects, activities, created_at, expires_at, revoked_at, \
             last_used_at FROM access_tokens WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(token_of_row).transpose()
    }

    /// The owner's tokens, newest first, revoked and expired ones included.
    pub async fn list_tokens(&self, owner: &UserId) -> StoreResult<Vec<StoredToken>> {
        let rows = sqlx::query(
            "SELECT id, owner, name, secret_hash, projects, activities, created_at, expires_at, revoked_at, \
             last_used_at FROM access_tokens WHERE owner = $1 ORDER BY created_at DESC, id",
        )
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(token_of_row).collect()
    }

    /// Revokes the owner's token at `at`. Revoking a revoked token keeps the first time.
    /// `NotFound` if the owner has no token with this id.
    pub async fn revoke_token(&self, id: &str, owner: &UserId, at: Timestamp) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND owner = $2")
                .bind(id)
                .bind(owner.as_str())
                .bind(at.unix())
                .execute(&self.pool)
                .await
                .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("token {id}")));
        }
        Ok(())
    }

    /// Notes that the token was used at `now`; at most one write a minute per token.
    pub async fn touch_token(&self, id: &str, now: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "UPDATE access_tokens SET last_used_at = $2 \
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)",
        )
        .bind(id)
        .bind(now.unix())
        .bind(now.unix() - 60)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    /// Every row of one of the account tables (`accounts`, `sessions`, `access_tokens`) as
    /// text, for tests that prove no secret is stored.
    #[doc(hidden)]
    pub async fn account_table_text(&self, table: &str) -> StoreResult<Vec<String>> {
        let table = ACCOUNT_TABLES
            .into_iter()
            .find(|t| *t == table)
            .ok_or_else(|| StoreError::Refused(format!("{table} is not an account table")))?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}")))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut cells = Vec::new();
            for index in 0..row.len() {
                let cell = if let Ok(text) = row.try_get::<Option<String>, _>(index) {
                    text.unwrap_or_default()
                } else {
                    row.try_get::<Option<i64>, _>(index).map_err(backend)?.map(|n| n.to_string()).unwrap_or_default()
                };
                cells.push(cell);
            }
            out.push(cells.join("|"));
        }
        Ok(out)
    }
}

#[async_trait]
impl AccountRepository for SqlStore {
    async fn password_hash(&self, user: &UserId) -> StoreResult<Option<PasswordHash>> {
        Ok(SqlStore::password_hash(self, user).await?.map(PasswordHash::new))
    }

    async fn create_account(&self, person: &Person, password: &PasswordHash) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Roles first (the account's row needs the person's), then the account, whose conflict
        // rolls the roles back too.
        sqlx::query(
            "INSERT INTO persons (id, asf_member, admin) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET asf_member = excluded.asf_member, admin = excluded.admin",
        )
        .bind(person.id.as_str())
        .bind(i64::from(person.asf_member))
        .bind(i64::from(person.admin))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query("INSERT INTO accounts (user_id, password_hash) VALUES ($1, $2)")
            .bind(person.id.as_str())
            .bind(password.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error(&format!("the account of {}", person.id), &format!("person {}", person.id)))?;
        tx.commit().await.map_err(backend)
    }

    async fn put_person(&self, person: &Person) -> StoreResult<()> {
        SqlStore::put_person(self, person).await
    }

    async fn create_session(
        &self,
        secret: &Sha256Digest,
        user: &UserId,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        SqlStore::create_session(self, &secret.to_hex(), user, created_at, expires_at).await
    }

    async fn session_user(&self, secret: &Sha256Digest, now: Timestamp) -> StoreResult<Option<UserId>> {
        SqlStore::session_user(self, &secret.to_hex(), now).await
    }

    async fn delete_session(&self, secret: &Sha256Digest) -> StoreResult<bool> {
        SqlStore::delete_session(self, &secret.to_hex()).await
    }

    async fn create_token(&self, grant: &MachineToken, name: &str, secret: &Sha256Digest) -> StoreResult<()> {
        SqlStore::create_token(self, grant, name, &secret.to_hex()).await
    }

    async fn token(&self, id: &str) -> StoreResult<Option<StoredToken>> {
        self.token_by_id(id).await
    }

    async fn tokens(&self, owner: &UserId) -> StoreResult<Vec<StoredToken>> {
        self.list_tokens(owner).await
    }

    async fn revoke_token(&self, id: &str, owner: &UserId, at: Timestamp) -> StoreResult<()> {
        SqlStore::revoke_token(self, id, owner, at).await
    }

    async fn touch_token(&self, id: &str, now: Timestamp) -> StoreResult<()> {
        SqlStore::touch_token(self, id, now).await
    }
}

fn token_of_row(row: &sqlx::any::AnyRow) -> StoreResult<StoredToken> {
    let projects: Vec<String> = from_json(&get_str(row, "projects")?)?;
    let projects = projects.iter().map(|p| ProjectKey::parse(p).map_err(backend)).collect::<StoreResult<_>>()?;
    let activities: Vec<String> = from_json(&get_str(row, "activities")?)?;
    let activities: BTreeSet<Activity> = activities
        .iter()
        .map(|a| Activity::parse(a).ok_or_else(|| StoreError::Backend(format!("unknown stored activity {a:?}"))))
        .collect::<StoreResult<_>>()?;
    let grant = MachineToken::new(
        get_str(row, "id")?,
        UserId::parse(&get_str(row, "owner")?).map_err(backend)?,
        projects,
        activities,
        Timestamp::from_unix(get_i64(row, "created_at")?),
        Timestamp::from_unix(get_i64(row, "expires_at")?),
    )
    .map_err(|e| StoreError::Backend(format!("a stored token does not decode: {e}")))?;
    Ok(StoredToken {
        grant,
        name: get_str(row, "name")?,
        secret_hash: get_str(row, "secret_hash")?,
        revoked_at: get_opt_i64(row, "revoked_at")?.map(Timestamp::from_unix),
        last_used_at: get_opt_i64(row, "last_used_at")?.map(Timestamp::from_unix),
    })
}
