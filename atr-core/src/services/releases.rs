//! Starting releases, adding revisions, announcing and revoking.

use super::{ServiceError, ServiceResult, Services, actor, person_id};
use crate::auth::{Activity, Principal};
use crate::lifecycle;
use crate::model::{Analyze, EventKind, NewEvent, Release, ReleaseKey, Revision, RevisionNumber, Task, TaskDescriptor};
use crate::ports::{Change, FileChange, Write};
use crate::types::Timestamp;

/// Longest revision description accepted, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 4096;
/// Most changes in one revision.
pub const MAX_CHANGES: usize = 10_000;

/// Which revision a new one must be made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    /// Whatever revision is the latest when the change is made (the caller names none).
    Latest,
    /// Exactly this one (`None`: the release must have no revision yet); if another change made
    /// a newer one meanwhile, the new revision is refused with `Conflict`.
    Exactly(Option<RevisionNumber>),
}

impl From<Option<RevisionNumber>> for Parent {
    fn from(expected: Option<RevisionNumber>) -> Self {
        Parent::Exactly(expected)
    }
}

/// A deleted draft.
#[derive(Debug, Clone)]
pub struct DeletedDraft {
    /// The draft as it was when it was deleted.
    pub release: Release,
    /// Why its files could not be removed, if they could not (the next start removes them).
    pub files_left: Option<String>,
}

/// A new revision and the Analyze task queued for it.
#[derive(Debug)]
pub struct NewRevision {
    pub revision: Revision,
    pub analyze: Task,
}

impl Services {
    /// Starts a release as an empty draft. Needs `manage release` on the project; the product,
    /// if any, must exist; a release of the same version must not (in any stage). If a draft of
    /// the same version was deleted, the new one numbers its revisions after the deleted one's.
    pub async fn start_release(
        &self,
        principal: &Principal,
        key: ReleaseKey,
        now: Timestamp,
    ) -> ServiceResult<Release> {
        let scope = self.authorized_project(principal, Activity::ManageRelease, &key.project, now).await?;
        if let Some(product) = &key.product
            && !scope.project.has_product(product)
        {
            return Err(ServiceError::NotFound(format!("product {product} of project {}", key.project)));
        }
        let by = person_id(principal).ok_or_else(|| ServiceError::Invalid("a release needs a person".into()))?;
        let mut release = Release::new_draft(key, scope.committee.key.clone(), by.clone(), now);
        // A draft of these coordinates deleted before: numbers go on after its revisions.
        release.numbered_after = self.ports.releases.numbered_after(&release.key).await?;
        let started = NewEvent::for_release(now, actor(principal), &release.key, EventKind::ReleaseStarted);
        self.commit(Change::new().write(Write::CreateRelease(release.clone())).event(started)).await?;
        Ok(release)
    }

    /// Makes a new revision of a draft or preview from its latest one with `changes` applied,
    /// and queues its Analyze task in the same transaction as the revision and its event.
    ///
    /// `expected_parent` is the revision the caller saw as latest ([`Parent::Exactly`]); if another
    /// change made a newer one meanwhile, the call fails with `Conflict` naming the expected
    /// revision, and the files built for it are discarded. [`Parent::Latest`] builds on whatever
    /// is the latest now (the store still refuses a writer that lost a race to record).
    pub async fn add_revision(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        expected_parent: impl Into<Parent>,
        changes: Vec<FileChange>,
        description: Option<String>,
        now: Timestamp,
    ) -> ServiceResult<NewRevision> {
        let (_, release) = self.authorized_release(principal, Activity::ManageRelease, key, now).await?;
        lifecycle::check_can_change_files(&release)?;
        if changes.is_empty() || changes.len() > MAX_CHANGES {
            return Err(ServiceError::Invalid(format!("a revision needs 1 to {MAX_CHANGES} changes")));
        }
        if description.as_ref().is_some_and(|d| d.len() > MAX_DESCRIPTION_LEN) {
            return Err(ServiceError::Invalid(format!("description is longer than {MAX_DESCRIPTION_LEN} bytes")));
        }
        let expected_parent = match expected_parent.into() {
            Parent::Latest => release.latest_revision,
            Parent::Exactly(expected) => expected,
        };
        if release.latest_revision != expected_parent {
            return Err(ServiceError::Conflict(format!(
                "expected revision {} to be the latest, but it is {}",
                show(expected_parent),
                show(release.latest_revision)
            )));
        }
        let number = RevisionNumber::after(expected_parent.or(release.numbered_after))
            .ok_or_else(|| ServiceError::Invalid("no revision number left".into()))?;
        let by = person_id(principal).ok_or_else(|| ServiceError::Invalid("a revision needs a person".into()))?;
        let files = self.ports.files.create_revision(key, expected_parent, number, changes).await?;
        let revision = Revision {
            release: key.clone(),
            number,
            parent: expected_parent,
            phase: release.phase,
            created_at: now,
            created_by: by.clone(),
            description,
            files,
        };
        let kind = EventKind::RevisionCreated { revision: number, files: revision.files.len() };
        let analyze = TaskDescriptor::of(&Analyze { release: key.clone(), revision: number, force: false })
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let change = Change::new()
            .write(Write::RecordRevision(revision.clone()))
            .event(NewEvent::for_release(now, actor(principal), key, kind))
            .task(analyze);
        let committed = match self.commit(change).await {
            Ok(committed) => committed,
            Err(error) => {
                // The loser of a race: its folder was never recorded, so nothing refers to it.
                let _ = self.ports.files.discard_revision(key, number).await;
                return Err(error);
            }
        };
        let analyze = committed
            .tasks
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::Store("the revision's Analyze task was not queued".into()))?;
        Ok(NewRevision { revision, analyze })
    }

    /// Deletes a draft with its revisions, their files and check results, so that its version
    /// can be started again. Needs `manage release`; only a draft may be deleted
    /// ([`lifecycle::check_can_delete`]), and only as it was read (`Conflict` if another change
    /// moved it on meanwhile). The event log keeps its history. Its files are removed after the
    /// commit; if that fails, the draft is deleted all the same (its rows are gone, and the
    /// reconciliation at the next start removes the folders) and the answer says so in
    /// [`DeletedDraft::files_left`], for the service's log.
    pub async fn delete_draft(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        now: Timestamp,
    ) -> ServiceResult<DeletedDraft> {
        let (_, release) = self.authorized_release(principal, Activity::ManageRelease, key, now).await?;
        lifecycle::check_can_delete(&release)?;
        let revisions = release.latest_revision.map_or(0, RevisionNumber::get);
        let event = NewEvent::for_release(now, actor(principal), key, EventKind::DraftDeleted { revisions });
        self.commit(Change::new().write(Write::DeleteRelease(release.clone())).event(event)).await?;
        let files_left = self.ports.files.delete_release(key).await.err().map(|e| e.to_string());
        Ok(DeletedDraft { release, files_left })
    }

    /// Announces a release in preview: it becomes `current`. Needs `perform actions`.
    pub async fn announce(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        confirmed: bool,
        now: Timestamp,
    ) -> ServiceResult<Release> {
        let (_, before) = self.authorized_release(principal, Activity::PerformActions, key, now).await?;
        let mut release = before.clone();
        let phase = lifecycle::announce(&mut release, confirmed, now)?;
        let revision = release.latest_revision.ok_or(lifecycle::TransitionError::NoRevision)?;
        let who = actor(principal);
        let mut change = Change::new().write(Write::UpdateRelease(release.clone()));
        for fingerprint in &release.signing_keys {
            change = change.write(Write::RecordKeyUse { fingerprint: fingerprint.clone(), release: key.clone() });
        }
        let change = change
            .event(NewEvent::for_release(now, who.clone(), key, EventKind::Announced { revision }))
            .event(NewEvent::for_release(now, who, key, EventKind::PhaseChanged { from: phase.from, to: phase.to }));
        self.commit(change).await?;
        release.lock_version += 1;
        Ok(release)
    }

    /// Revokes a release: its stage becomes `revoked`, its files and history stay. Needs
    /// `manage release`.
    pub async fn revoke(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        reason: &str,
        now: Timestamp,
    ) -> ServiceResult<Release> {
        let (_, before) = self.authorized_release(principal, Activity::ManageRelease, key, now).await?;
        let by = person_id(principal).ok_or_else(|| ServiceError::Invalid("revoking needs a person".into()))?;
        let mut release = before.clone();
        lifecycle::revoke(&mut release, by.clone(), reason, now)?;
        let kind = EventKind::Revoked { reason: reason.trim().to_owned() };
        let change = Change::new().write(Write::UpdateRelease(release.clone())).event(NewEvent::for_release(
            now,
            actor(principal),
            key,
            kind,
        ));
        self.commit(change).await?;
        release.lock_version += 1;
        Ok(release)
    }
}

fn show(revision: Option<RevisionNumber>) -> String {
    revision.map_or_else(|| "none".to_owned(), |r| r.to_string())
}
