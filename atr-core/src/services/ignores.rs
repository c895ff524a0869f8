//! A project's check ignores: the results its release managers have reviewed and found to be
//! false positives, left out of the counts a vote is decided on.

use super::{ServiceError, ServiceResult, Services, actor};
use crate::auth::{Activity, Principal};
use crate::model::check::MAX_IGNORES;
use crate::model::{CheckIgnore, EventKind, NewEvent};
use crate::ports::{Change, Write};
use crate::types::{ProjectKey, Timestamp};

impl Services {
    /// The project's check ignores with their ids, oldest first. Everyone may read them, as they
    /// may read the project's configuration. `NotFound` for an unknown project.
    pub async fn list_ignores(&self, project: &ProjectKey) -> ServiceResult<Vec<CheckIgnore>> {
        self.scope(project).await?;
        Ok(self.ports.projects.ignores(project).await?)
    }

    /// Adds a check ignore to the project and returns it with its id. Needs `manage policy` (an
    /// ignore changes what a vote may start on, as the policy does). The ignore must pass
    /// [`CheckIgnore::check`]; an ignore with the same selectors as one the project has is a
    /// `Conflict` naming that one's id, and a project keeps at most [`MAX_IGNORES`].
    pub async fn add_ignore(
        &self,
        principal: &Principal,
        project: &ProjectKey,
        ignore: CheckIgnore,
        now: Timestamp,
    ) -> ServiceResult<CheckIgnore> {
        self.authorized_project(principal, Activity::ManagePolicy, project, now).await?;
        let mut ignore = CheckIgnore { id: 0, project: project.clone(), ..ignore };
        ignore.reason = ignore.reason.trim().to_owned();
        ignore.check().map_err(|e| ServiceError::field(e.field, e.reason))?;
        let existing = self.ports.projects.ignores(project).await?;
        if let Some(same) = existing.iter().find(|e| same_selectors(e, &ignore)) {
            return Err(ServiceError::Conflict(format!(
                "project {project} has an ignore with the same selectors already (id {})",
                same.id
            )));
        }
        if existing.len() >= MAX_IGNORES {
            return Err(ServiceError::Invalid(format!(
                "project {project} has {MAX_IGNORES} ignores, the most it may keep; delete one first"
            )));
        }
        // The ignore takes the id of the event that records it (see `Write::AddIgnore`).
        let event = NewEvent::for_project(now, actor(principal), project, EventKind::IgnoreAdded);
        let committed = self.commit(Change::new().write(Write::AddIgnore(ignore.clone())).event(event)).await?;
        ignore.id = committed
            .events
            .first()
            .map(|e| e.id)
            .ok_or_else(|| ServiceError::Store("the ignore's event was not recorded".into()))?;
        Ok(ignore)
    }

    /// Deletes a check ignore of the project and returns it. Needs `manage policy`. `NotFound`
    /// if the project has no ignore of that id.
    pub async fn delete_ignore(
        &self,
        principal: &Principal,
        project: &ProjectKey,
        id: u64,
        now: Timestamp,
    ) -> ServiceResult<CheckIgnore> {
        self.authorized_project(principal, Activity::ManagePolicy, project, now).await?;
        let Some(ignore) = self.ports.projects.ignores(project).await?.into_iter().find(|i| i.id == id) else {
            return Err(ServiceError::NotFound(format!("ignore {id} of project {project}")));
        };
        let event = NewEvent::for_project(now, actor(principal), project, EventKind::IgnoreDeleted { id });
        self.commit(Change::new().write(Write::DeleteIgnore { project: project.clone(), id }).event(event)).await?;
        Ok(ignore)
    }
}

/// True if two ignores select the same results (their reasons may differ).
fn same_selectors(a: &CheckIgnore, b: &CheckIgnore) -> bool {
    CheckIgnore { id: 0, reason: String::new(), ..a.clone() }
        == CheckIgnore { id: 0, reason: String::new(), ..b.clone() }
}

#[cfg(test)]
mod tests;
