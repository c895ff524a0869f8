//! What a page may offer a principal: the actions on a release or project they are allowed to
//! take and that the release's phase allows now. Pages show a form only for what is offered here;
//! the use case still decides when the form is posted (a release may change between the two).

use std::collections::BTreeSet;

use super::{ServiceResult, Services};
use crate::auth::{self, Activity, Principal, Role};
use crate::lifecycle;
use crate::model::{CheckResult, Phase, Release, ReleaseKey, RevisionNumber};
use crate::types::{ProjectKey, Timestamp};

/// The actions on one release a principal may take now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[expect(clippy::struct_excessive_bools, reason = "one flag per action a page may offer")]
pub struct ReleaseOffers {
    /// Upload, move or delete files: a new revision (`manage release`, a draft or preview).
    pub change_files: bool,
    /// Start the vote on the latest revision (`perform actions`, a draft with a revision).
    pub start_vote: bool,
    /// Cast or change a ballot (`vote`, a vote in progress).
    pub vote: bool,
    /// Whether such a ballot would bind (`binding vote` and on the round's snapshot).
    pub binding: bool,
    /// Resolve the vote in progress (`perform actions`).
    pub resolve: bool,
    /// Announce a preview (`perform actions`).
    pub announce: bool,
    /// Revoke the release (`manage release`, not revoked yet).
    pub revoke: bool,
}

impl ReleaseOffers {
    /// Whether any action is offered.
    pub fn any(&self) -> bool {
        self.change_files || self.start_vote || self.vote || self.resolve || self.announce || self.revoke
    }
}

/// What pages show for one project: the principal's roles on it and whether they may start a
/// release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectOffers {
    /// The principal's roles for the project (empty when nobody is signed in).
    pub roles: BTreeSet<Role>,
    /// Start a release (`manage release`).
    pub start_release: bool,
    /// Read its drafts and previews (`view drafts`): whether a page lists them at all.
    pub view_drafts: bool,
    /// Import a KEYS file into the project's committee (`manage keys` on the committee, as
    /// [`Services::import_keys`] decides).
    pub import_keys: bool,
}

/// A check result as a page shows it: with whether one of the project's ignores silences it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewedCheck {
    pub result: CheckResult,
    /// Silenced by an ignore of the project ([`crate::model::CheckIgnore::matches`]; a success never is).
    pub ignored: bool,
    /// The id of the first ignore that silences it (the oldest), if one does.
    pub ignored_by: Option<u64>,
}

impl Services {
    /// Every check result of a revision, each marked ignored or not by the project's ignores.
    pub async fn reviewed_checks(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        number: RevisionNumber,
        now: Timestamp,
    ) -> ServiceResult<Vec<ReviewedCheck>> {
        let results = self.revision_checks(principal, key, number, now).await?;
        let silencers = self.ports.projects.ignores(&key.project).await?;
        Ok(results
            .into_iter()
            .map(|result| {
                let ignored_by = silencers.iter().find(|i| i.matches(&result)).map(|i| i.id);
                ReviewedCheck { result, ignored: ignored_by.is_some(), ignored_by }
            })
            .collect())
    }

    /// The principal's roles on a project and the project actions offered to them.
    pub async fn project_offers(
        &self,
        principal: &Principal,
        project: &ProjectKey,
        now: Timestamp,
    ) -> ServiceResult<ProjectOffers> {
        let scope = self.scope(project).await?;
        let target = scope.target();
        let roles = match principal {
            Principal::Anonymous => BTreeSet::new(),
            Principal::Person(person) | Principal::Token { owner: person, .. } => auth::roles(person, &target),
        };
        let may = |activity| auth::authorize(principal, activity, &target, now).is_ok();
        let import_keys = super::keys::may_import_keys(principal, &scope.committee, now).is_ok();
        Ok(ProjectOffers {
            roles,
            start_release: may(Activity::ManageRelease),
            view_drafts: may(Activity::ViewDrafts),
            import_keys,
        })
    }

    /// The actions on `release` offered to the principal now: allowed to them by
    /// [`auth::authorize`] and by the release's phase ([`crate::lifecycle`]).
    pub async fn release_offers(
        &self,
        principal: &Principal,
        release: &Release,
        now: Timestamp,
    ) -> ServiceResult<ReleaseOffers> {
        let scope = self.scope(&release.key.project).await?;
        let target = scope.target();
        let may = |activity| auth::authorize(principal, activity, &target, now).is_ok();
        Ok(offers(release, may, principal))
    }
}

/// The offers for a release given what the principal may do (`may`).
fn offers(release: &Release, may: impl Fn(Activity) -> bool, principal: &Principal) -> ReleaseOffers {
    let open = lifecycle::open_vote(release).ok();
    let revoked = release.is_revoked();
    let binding = open.is_some_and(|vote| {
        super::person_id(principal).is_some_and(|id| vote.binding_voters.contains(id)) && may(Activity::Vote)
    });
    ReleaseOffers {
        change_files: may(Activity::ManageRelease) && lifecycle::check_can_change_files(release).is_ok(),
        start_vote: may(Activity::PerformActions)
            && !revoked
            && release.phase == Phase::Draft
            && release.latest_revision.is_some(),
        vote: open.is_some() && may(Activity::Vote),
        binding,
        resolve: open.is_some() && may(Activity::PerformActions),
        announce: may(Activity::PerformActions) && !revoked && release.phase == Phase::Preview,
        revoke: may(Activity::ManageRelease) && !revoked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Person;
    use crate::types::{CommitteeKey, UserId, Version};

    fn draft() -> Release {
        let key = ReleaseKey::new(ProjectKey::parse("demo").unwrap(), None, Version::parse("1.0.0").unwrap());
        Release::new_draft(
            key,
            CommitteeKey::parse("demo").unwrap(),
            UserId::parse("rm").unwrap(),
            Timestamp::from_unix(0),
        )
    }

    fn person() -> Principal {
        Principal::Person(Person { id: UserId::parse("rm").unwrap(), asf_member: false, admin: false, consent: None })
    }

    #[test]
    fn an_empty_draft_offers_uploads_and_revoke_but_no_vote() {
        let release = draft();
        let all = offers(&release, |_| true, &person());
        assert!(all.change_files && all.revoke);
        assert!(!all.start_vote && !all.vote && !all.resolve && !all.announce);
        let nothing = offers(&release, |_| false, &person());
        assert!(!nothing.any());
    }

    #[test]
    fn a_revoked_release_offers_nothing() {
        let mut release = draft();
        release.latest_revision = crate::model::RevisionNumber::new(1);
        assert!(offers(&release, |_| true, &person()).start_vote);
        lifecycle::revoke(&mut release, UserId::parse("rm").unwrap(), "bad", Timestamp::from_unix(1)).unwrap();
        assert!(!offers(&release, |_| true, &person()).any());
    }

    #[test]
    fn a_preview_offers_announce_and_only_to_those_who_may_act() {
        let mut release = draft();
        release.latest_revision = crate::model::RevisionNumber::new(1);
        release.phase = Phase::Preview;
        let rm = offers(&release, |a| a != Activity::Vote, &person());
        assert!(rm.announce && rm.change_files && !rm.start_vote);
        let voter = offers(&release, |a| a == Activity::Vote, &person());
        assert!(!voter.announce && !voter.change_files && !voter.vote);
    }
}
