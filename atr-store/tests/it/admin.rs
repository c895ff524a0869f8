//! The account, committee-role, task-queue and audit ports of the store, on every engine.

use atr_core::auth::PasswordHash;
use atr_core::model::{Committee, CommitteeRole, Person, RoleAction, RoleChange, TaskStatus};
use atr_core::ports::{
    AccountRepository, AuditLog, AuditVerdict, CommitteeRepository, PageRequest, PersonRepository, StoreError,
    TaskQueue,
};
use atr_core::types::{CommitteeKey, UserId};
use atr_store::sql::{DEFAULT_MAX_ATTEMPTS, NewTask, SqlStore};
use atr_store::testing::databases;

async fn each<F, Fut>(body: F)
where
    F: Fn(SqlStore) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in databases().await {
        body(db.store.clone()).await;
        db.finish().await;
    }
}

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

#[tokio::test]
async fn an_account_and_its_roles_are_written_together_or_not_at_all() {
    each(|store| async move {
        let erin = Person { id: uid("erin"), asf_member: true, admin: false, consent: None };
        AccountRepository::create_account(&store, &erin, &PasswordHash::new("$argon2id$one")).await.unwrap();
        assert_eq!(PersonRepository::get(&store, &uid("erin")).await.unwrap(), Some(erin.clone()));
        let promoted = Person { admin: true, ..erin.clone() };
        let again = AccountRepository::create_account(&store, &promoted, &PasswordHash::new("$argon2id$two")).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        let kept = PersonRepository::get(&store, &uid("erin")).await.unwrap().unwrap();
        assert!(!kept.admin, "a refused account creation changed the person's roles");
        let hash = AccountRepository::password_hash(&store, &uid("erin")).await.unwrap().unwrap();
        assert_eq!(hash.as_str(), "$argon2id$one");
    })
    .await;
}

#[tokio::test]
async fn concurrent_role_changes_of_one_committee_are_all_kept() {
    each(|store| async move {
        let key = CommitteeKey::parse("httpd").unwrap();
        CommitteeRepository::put(&store, &Committee::new(key.clone(), "Apache HTTP Server")).await.unwrap();
        let mut running = tokio::task::JoinSet::new();
        for n in 0..16 {
            let (store, key) = (store.clone(), key.clone());
            running.spawn(async move {
                let role = if n % 2 == 0 { CommitteeRole::PmcMember } else { CommitteeRole::Committer };
                let change = RoleChange { user: uid(&format!("p{n}")), role, action: RoleAction::Add };
                store.change_role(&key, &change).await.unwrap()
            });
        }
        while let Some(done) = running.join_next().await {
            assert!(done.unwrap().1, "each change changed something");
        }
        let httpd = CommitteeRepository::get(&store, &key).await.unwrap().unwrap();
        assert_eq!((httpd.pmc_members.len(), httpd.committers.len()), (8, 8));
        let remove = RoleChange { user: uid("p0"), role: CommitteeRole::PmcMember, action: RoleAction::Remove };
        let (after, changed) = store.change_role(&key, &remove).await.unwrap();
        assert!(changed && !after.pmc_members.contains(&uid("p0")));
        let (_, changed) = store.change_role(&key, &remove).await.unwrap();
        assert!(!changed, "removing a role not held changes nothing");
        let nowhere = CommitteeKey::parse("nowhere").unwrap();
        assert!(matches!(store.change_role(&nowhere, &remove).await, Err(StoreError::NotFound(_))));
    })
    .await;
}

#[tokio::test]
async fn the_queue_port_reads_pages_cancels_and_retries() {
    each(|store| async move {
        let mut ids = Vec::new();
        for week in 0..3 {
            let task = NewTask {
                kind: "report".into(),
                args: serde_json::json!({ "week": week }),
                release: None,
                revision: None,
                priority: 0,
                max_attempts: DEFAULT_MAX_ATTEMPTS,
                scheduled_at_ms: i64::MAX / 2,
            };
            ids.push(u64::try_from(store.queue_task(&task, 0).await.unwrap().0.id).unwrap());
        }
        let first = store.with_status(TaskStatus::Queued, PageRequest { after: None, limit: 2 }).await.unwrap();
        assert_eq!(first.iter().map(|t| t.id).collect::<Vec<_>>(), ids[..2]);
        assert!(first.iter().all(|t| t.release.is_none() && t.kind == "report"));
        let rest = store.with_status(TaskStatus::Queued, PageRequest { after: Some(ids[1]), limit: 2 }).await.unwrap();
        assert_eq!(rest.iter().map(|t| t.id).collect::<Vec<_>>(), ids[2..]);

        assert!(store.cancel(ids[0]).await.unwrap());
        assert!(!store.cancel(ids[0]).await.unwrap(), "an ended task is not cancelled again");
        assert!(matches!(store.cancel(999_999).await, Err(StoreError::NotFound(_))));
        let retried = store.retry(ids[0]).await.unwrap();
        assert_eq!((retried.status, retried.attempts), (TaskStatus::Queued, 0));
        assert!(matches!(store.retry(ids[0]).await, Err(StoreError::Conflict(_))), "a queued task is not retried");
        let counts = store.counts().await.unwrap();
        assert!(counts.iter().any(|c| c.kind == "report" && c.status == TaskStatus::Queued && c.count == 3));
        assert_eq!(AuditLog::verify(&store).await.unwrap(), AuditVerdict::Intact { events: 0, head: String::new() });
    })
    .await;
}
