//! The read side: what a principal may see of releases, revisions, checks, SBOM files, events,
//! CVE records and signing keys. Each visibility rule is decided here, once, so that every
//! frontend (the API, web pages, the CLI, Python) shows the same.

use super::{Scope, ServiceError, ServiceResult, Services};
use crate::auth::{self, Activity, Principal, Target};
use crate::model::key::keys_file;
use crate::model::revision::{SBOM_CHECKER, is_sbom};
use crate::model::{
    CheckResult, CveLink, CveRecord, Event, FileEntry, PackageListing, Release, ReleaseKey, Revision, RevisionNumber,
    SigningKey, derive_packages,
};
use crate::ports::{EventFilter, PageRequest};
use crate::search::{MAX_SEARCH_HITS, SearchHit, SearchSubject, SearchTerms};
use crate::tally::Tally;
use crate::types::{CommitteeKey, CveId, Fingerprint, ProductKey, ProjectKey, Stage, Timestamp, UserId, Version};

/// A release as its page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseView {
    pub release: Release,
    /// Its public stage, `None` for a draft or a preview.
    pub stage: Option<Stage>,
    /// The packages of its latest revision, `None` before the first file.
    pub packages: Option<PackageListing>,
    /// The tally of its current or last vote, `None` if it never had one.
    pub tally: Option<Tally>,
}

/// An SBOM file of a revision with the results of its validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbomFile {
    pub file: FileEntry,
    pub checks: Vec<CheckResult>,
}

/// The SBOM files of a release's latest revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SbomListing {
    /// The latest revision, `None` before the first file.
    pub revision: Option<RevisionNumber>,
    pub sboms: Vec<SbomFile>,
}

impl Services {
    /// Whether `principal` may read `release`: its state, revisions, files and checks. This is the
    /// one place that decides it; listings, searches and every read of a release go through it,
    /// and a release one may not read is not found. A release in a public stage (a candidate
    /// under vote, current, revoked) is readable by everyone; before its vote (a draft, a
    /// preview) only by whom the project lets [`Activity::ViewDrafts`]. `project` is the
    /// release's project scope when the caller has loaded it already.
    pub(super) async fn may_read_release(
        &self,
        principal: &Principal,
        release: &Release,
        project: Option<&Scope>,
        now: Timestamp,
    ) -> ServiceResult<bool> {
        if release.stage().is_some() {
            return Ok(true);
        }
        let loaded;
        let scope = if let Some(scope) = project {
            scope
        } else {
            loaded = self.scope(&release.key.project).await?;
            &loaded
        };
        Ok(auth::authorize(principal, Activity::ViewDrafts, &scope.target(), now).is_ok())
    }

    /// The release, if `principal` may read it; a release they may not read is not found.
    pub(super) async fn readable_release(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        now: Timestamp,
    ) -> ServiceResult<Release> {
        let release = self.release(key).await?;
        if self.may_read_release(principal, &release, None, now).await? {
            Ok(release)
        } else {
            Err(ServiceError::NotFound(format!("release {key}")))
        }
    }

    /// Releases of a project (and product; `None` is the main product) in a public stage
    /// (`None`: drafts and previews), newest version first, after the cursor, as far as
    /// `principal` may read them.
    pub async fn list_releases(
        &self,
        principal: &Principal,
        project: &ProjectKey,
        product: Option<ProductKey>,
        stage: Option<Stage>,
        page: PageRequest<Version>,
        now: Timestamp,
    ) -> ServiceResult<Vec<Release>> {
        let listed = self.ports.releases.list(project, product, stage, page).await?;
        // One project: its scope is loaded once, and only if a release needs it.
        let mut scope = None;
        let mut readable = Vec::with_capacity(listed.len());
        for release in listed {
            if release.stage().is_none() && scope.is_none() {
                scope = Some(self.scope(project).await?);
            }
            if self.may_read_release(principal, &release, scope.as_ref(), now).await? {
                readable.push(release);
            }
        }
        Ok(readable)
    }

    /// One release with its stage, the packages of its latest revision and its tally.
    pub async fn release_view(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        now: Timestamp,
    ) -> ServiceResult<ReleaseView> {
        let release = self.readable_release(principal, key, now).await?;
        let revision = match release.latest_revision {
            Some(number) => self.ports.revisions.get(key, number).await?,
            None => None,
        };
        let packages = revision.as_ref().map(|r| derive_packages(r.files.iter().map(|f| &f.path)));
        let tally = match &release.vote {
            Some(_) => Some(self.tally(key, now).await?),
            None => None,
        };
        Ok(ReleaseView { stage: release.stage(), release, packages, tally })
    }

    /// The vote policy that resolves for the release now, with the level each value comes from
    /// (foundation, project, product or the release's own settings): what a vote started now
    /// would snapshot. A vote already started keeps the policy it snapshotted.
    pub async fn release_policy(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        now: Timestamp,
    ) -> ServiceResult<crate::policy::SourcedPolicy> {
        let release = self.readable_release(principal, key, now).await?;
        let scope = self.scope(&key.project).await?;
        self.effective_policy_sourced(&scope.project, key.product.as_ref(), Some(&release))
            .map_err(|e| ServiceError::Store(format!("the stored vote policy of release {key} does not resolve: {e}")))
    }

    /// Revisions of a release, oldest first, after the cursor.
    pub async fn list_revisions(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        page: PageRequest<RevisionNumber>,
        now: Timestamp,
    ) -> ServiceResult<Vec<Revision>> {
        self.readable_release(principal, key, now).await?;
        Ok(self.ports.revisions.list(key, page).await?)
    }

    /// One revision of a release, with its manifest.
    pub async fn revision(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        number: RevisionNumber,
        now: Timestamp,
    ) -> ServiceResult<Revision> {
        self.readable_release(principal, key, now).await?;
        self.ports
            .revisions
            .get(key, number)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("revision {number} of {key}")))
    }

    /// Every check result of a revision (none for a revision not checked, or unknown).
    pub async fn revision_checks(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        number: RevisionNumber,
        now: Timestamp,
    ) -> ServiceResult<Vec<CheckResult>> {
        self.readable_release(principal, key, now).await?;
        Ok(self.ports.revisions.checks(key, number).await?)
    }

    /// The SBOM files of the release's latest revision (see
    /// [`crate::model::revision::is_sbom`]), each with the results of its validation.
    pub async fn release_sboms(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        now: Timestamp,
    ) -> ServiceResult<SbomListing> {
        let release = self.readable_release(principal, key, now).await?;
        let Some(number) = release.latest_revision else {
            return Ok(SbomListing::default());
        };
        let revision = self
            .ports
            .revisions
            .get(key, number)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("revision {number} of {key}")))?;
        let checks = self.ports.revisions.checks(key, number).await?;
        let sboms = revision
            .files
            .into_iter()
            .filter(|f| is_sbom(&f.path))
            .map(|file| {
                let checks = checks
                    .iter()
                    .filter(|c| c.checker == SBOM_CHECKER && c.path.as_ref() == Some(&file.path))
                    .cloned()
                    .collect();
                SbomFile { file, checks }
            })
            .collect();
        Ok(SbomListing { revision: Some(number), sboms })
    }

    /// Events matching the filter, newest first, before the cursor. The history of a project (or
    /// of one of its releases) needs `view release events` on the project; the foundation-wide
    /// history (no project named) needs `view all events`.
    pub async fn list_events(
        &self,
        principal: &Principal,
        filter: &EventFilter,
        page: PageRequest<u64>,
        now: Timestamp,
    ) -> ServiceResult<Vec<Event>> {
        // A release's history is read only by whom may read the release itself. A deleted one
        // was a draft (only drafts are deleted): its history is read by whom may read the
        // project's drafts, and is not found for anyone else.
        if let Some(release) = &filter.release {
            if self.ports.releases.get(release).await?.is_some() {
                self.readable_release(principal, release, now).await?;
            } else {
                let not_found = || ServiceError::NotFound(format!("release {release}"));
                let scope = self.scope(&release.project).await.map_err(|e| match e {
                    ServiceError::NotFound(_) => not_found(),
                    other => other,
                })?;
                if auth::authorize(principal, Activity::ViewDrafts, &scope.target(), now).is_err() {
                    return Err(not_found());
                }
            }
        }
        match filter.release.as_ref().map(|r| &r.project).or(filter.project.as_ref()) {
            Some(project) => {
                self.authorized_project(principal, Activity::ViewReleaseEvents, project, now).await?;
            }
            None => auth::authorize(principal, Activity::ViewAllEvents, &Target::Foundation, now)?,
        }
        Ok(self.ports.events.list(filter, page).await?)
    }

    /// What a search text finds, as far as `principal` may see it: up to `limit` (clamped to
    /// 1..=[`MAX_SEARCH_HITS`]) projects, releases, signing keys and CVE records each, best
    /// first, by kind (see [`crate::ports::SearchIndex::search`]). The text is made into terms
    /// by [`SearchTerms::parse`] (refused as the field `q`); a release `principal` may not read
    /// is left out, by the same rule as every other read of a release.
    pub async fn search(
        &self,
        principal: &Principal,
        text: &str,
        limit: u32,
        now: Timestamp,
    ) -> ServiceResult<Vec<SearchHit>> {
        let terms = SearchTerms::parse(text).map_err(|e| ServiceError::field("q", e))?;
        let hits = self.ports.search.search(&terms, limit.clamp(1, MAX_SEARCH_HITS)).await?;
        let releases = hits.iter().filter_map(|hit| match &hit.subject {
            SearchSubject::Release(key) => Some(key.clone()),
            _ => None,
        });
        let readable: std::collections::BTreeSet<ReleaseKey> =
            self.readable_keys(principal, releases.collect::<Vec<_>>(), now).await?.into_iter().collect();
        Ok(hits
            .into_iter()
            .filter(|hit| match &hit.subject {
                SearchSubject::Release(key) => readable.contains(key),
                _ => true,
            })
            .collect())
    }

    /// One CVE record with its links to the releases `principal` may read (a draft it affects
    /// is not shown to whom may not read the draft).
    pub async fn cve(&self, principal: &Principal, id: &CveId, now: Timestamp) -> ServiceResult<CveRecord> {
        let mut record = self.ports.cves.get(id).await?.ok_or_else(|| ServiceError::NotFound(format!("CVE {id}")))?;
        let affects = std::mem::take(&mut record.affects);
        record.affects = self.readable_keys(principal, affects, now).await?.into_iter().collect();
        let resolved_by = std::mem::take(&mut record.resolved_by);
        record.resolved_by = self.readable_keys(principal, resolved_by, now).await?.into_iter().collect();
        Ok(record)
    }

    /// The releases of `keys` that `principal` may read, in order; one that went away since is
    /// left out too. Each project's scope is loaded once, and only for a release before its vote.
    async fn readable_keys(
        &self,
        principal: &Principal,
        keys: impl IntoIterator<Item = ReleaseKey>,
        now: Timestamp,
    ) -> ServiceResult<Vec<ReleaseKey>> {
        let mut scopes: std::collections::BTreeMap<ProjectKey, Scope> = std::collections::BTreeMap::new();
        let mut readable = Vec::new();
        for key in keys {
            let Some(release) = self.ports.releases.get(&key).await? else { continue };
            if release.stage().is_none() && !scopes.contains_key(&key.project) {
                scopes.insert(key.project.clone(), self.scope(&key.project).await?);
            }
            if self.may_read_release(principal, &release, scopes.get(&key.project), now).await? {
                readable.push(key);
            }
        }
        Ok(readable)
    }

    /// CVE records ordered by id, after the cursor.
    pub async fn list_cves(&self, page: PageRequest<CveId>) -> ServiceResult<Vec<CveRecord>> {
        Ok(self.ports.cves.list(page).await?)
    }

    /// The CVE records that affect the release, or that it resolves, by id.
    pub async fn release_cves(
        &self,
        principal: &Principal,
        key: &ReleaseKey,
        link: CveLink,
        now: Timestamp,
    ) -> ServiceResult<Vec<CveRecord>> {
        self.readable_release(principal, key, now).await?;
        let ids = self.ports.cves.for_release(key, link).await?;
        let mut records = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(record) = self.ports.cves.get(id).await? {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// One signing key.
    pub async fn signing_key(&self, fingerprint: &Fingerprint) -> ServiceResult<SigningKey> {
        self.ports.keys.get(fingerprint).await?.ok_or_else(|| ServiceError::NotFound(format!("key {fingerprint}")))
    }

    /// The releases a known key signed, as far as `principal` may read them (a draft signed by
    /// the key is not shown to whom may not read it).
    pub async fn key_releases(
        &self,
        principal: &Principal,
        fingerprint: &Fingerprint,
        now: Timestamp,
    ) -> ServiceResult<Vec<ReleaseKey>> {
        self.signing_key(fingerprint).await?;
        let signed = self.ports.keys.releases_signed(fingerprint).await?;
        self.readable_keys(principal, signed, now).await
    }

    /// The keys of a committee, by fingerprint.
    pub async fn committee_keys(&self, committee: &CommitteeKey) -> ServiceResult<Vec<SigningKey>> {
        self.committee(committee).await?;
        Ok(self.ports.keys.by_committee(committee).await?)
    }

    /// The keys a person owns.
    pub async fn person_keys(&self, owner: &UserId) -> ServiceResult<Vec<SigningKey>> {
        Ok(self.ports.keys.by_owner(owner).await?)
    }

    /// The committee's KEYS file, generated from its keys (see [`keys_file`]).
    pub async fn committee_keys_file(&self, committee: &CommitteeKey) -> ServiceResult<String> {
        let loaded = self.committee(committee).await?;
        let keys = self.ports.keys.by_committee(committee).await?;
        Ok(keys_file(&loaded, &keys))
    }
}

#[cfg(test)]
mod tests;
