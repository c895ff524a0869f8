//! The git repository and commit a release's source archive was made from.

use super::{ServiceError, ServiceResult, Services, actor};
use crate::auth::{Activity, Principal};
use crate::lifecycle;
use crate::model::{Analyze, EventKind, NewEvent, Release, ReleaseKey, SourceOrigin, Task, TaskDescriptor};
use crate::ports::{Change, Write};
use crate::types::Timestamp;

/// A release with its source set, and the checks queued again on its latest revision.
#[derive(Debug)]
pub struct SourceSet {
    pub release: Release,
    /// The Analyze task of the latest revision, which now compares the source archive with the
    /// commit; `None` while the release has no revision.
    pub analyze: Option<Task>,
}

impl Services {
    /// Sets (or, with `None`, clears) the repository and commit the release's source archive was
    /// made from, and queues the checks of its latest revision again in the same transaction, so
    /// that the archive is compared with that commit. Needs `manage release`; only while the
    /// release's files may change ([`lifecycle::check_can_set_source`]), and only as it was read
    /// (`Conflict` if another change moved it on meanwhile).
    pub async fn set_release_source(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        source: Option<SourceOrigin>,
        now: Timestamp,
    ) -> ServiceResult<SourceSet> {
        let (_, before) = self.authorized_release(principal, Activity::ManageRelease, key, now).await?;
        lifecycle::check_can_set_source(&before)?;
        let mut release = before;
        let kind = EventKind::SourceSet { commit: source.as_ref().map(|s| s.commit.clone()) };
        release.source = source;
        let mut change = Change::new().write(Write::UpdateRelease(release.clone())).event(NewEvent::for_release(
            now,
            actor(principal),
            key,
            kind,
        ));
        if let Some(revision) = release.latest_revision {
            let analyze = TaskDescriptor::of(&Analyze { release: key.clone(), revision, force: false })
                .map_err(|e| ServiceError::Invalid(e.to_string()))?;
            change = change.task(analyze);
        }
        let committed = self.commit(change).await?;
        release.lock_version += 1;
        Ok(SourceSet { release, analyze: committed.tasks.into_iter().next() })
    }
}

#[cfg(test)]
mod tests;
