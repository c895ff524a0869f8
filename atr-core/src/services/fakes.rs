//! A harness for unit tests of the read side and of the key and CVE rules: mockall mocks of every
//! port, configured by each test and then frozen into `Services`, with a few shared fixtures.

use std::sync::{Arc, Mutex};

use super::{Ports, Services};
use crate::auth::Principal;
use crate::model::{Committee, Event, EventKind, Metadata, Person, Project, Release, ReleaseKey};
use crate::policy::{PolicyOverrides, VotePolicy};
use crate::ports::{
    Change, Committed, MockAccountRepository, MockAuditLog, MockBallotRepository, MockCommitteeRepository,
    MockCredentials, MockCveRepository, MockDistributionRepository, MockEventRepository, MockKeyRepository,
    MockPersonRepository, MockProjectRepository, MockReleaseFiles, MockReleaseRepository, MockRevisionRepository,
    MockSearchIndex, MockTaskQueue, MockTaskRepository, MockUnitOfWork, StoreError, Write,
};
use crate::types::{CommitteeKey, ProjectKey, Timestamp, UserId, Version};

pub(super) const T0: Timestamp = Timestamp::from_unix(1_750_000_000);

pub(super) fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

pub(super) fn person(id: &str) -> Principal {
    Principal::Person(Person { id: uid(id), asf_member: false, admin: false, consent: None })
}

pub(super) fn asf_member(id: &str) -> Principal {
    Principal::Person(Person { id: uid(id), asf_member: true, admin: false, consent: None })
}

/// The httpd committee: PMC members `pmc1` and `pmc2`, committer `dev1`, release manager `rm`.
pub(super) fn httpd() -> Committee {
    let mut c = Committee::new(CommitteeKey::parse("httpd").unwrap(), "Apache HTTP Server");
    c.pmc_members = ["pmc1", "pmc2"].into_iter().map(uid).collect();
    c.committers = ["dev1"].into_iter().map(uid).collect();
    c.release_managers = ["rm"].into_iter().map(uid).collect();
    c
}

/// The httpd project, owned by the httpd committee.
pub(super) fn httpd_project() -> Project {
    Project {
        key: ProjectKey::parse("httpd").unwrap(),
        committee: CommitteeKey::parse("httpd").unwrap(),
        metadata: Metadata::default(),
        policy: PolicyOverrides::default(),
        products: vec![],
    }
}

pub(super) fn release_key(version: &str) -> ReleaseKey {
    ReleaseKey::new(ProjectKey::parse("httpd").unwrap(), None, Version::parse(version).unwrap())
}

pub(super) fn draft(version: &str) -> Release {
    Release::new_draft(release_key(version), CommitteeKey::parse("httpd").unwrap(), uid("rm"), T0)
}

/// The changes committed, in order.
#[derive(Debug, Clone, Default)]
pub(super) struct Log(Arc<Mutex<Vec<Change>>>);

impl Log {
    /// The kinds of the events committed, in order.
    pub(super) fn events(&self) -> Vec<EventKind> {
        self.0.lock().unwrap().iter().flat_map(|c| c.events.iter().map(|e| e.kind.clone())).collect()
    }

    /// How many changes were committed.
    pub(super) fn commits(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Every task queued, in order.
    pub(super) fn tasks(&self) -> Vec<crate::model::TaskDescriptor> {
        self.0.lock().unwrap().iter().flat_map(|c| c.tasks.clone()).collect()
    }

    /// Every write committed, in order.
    pub(super) fn writes(&self) -> Vec<Write> {
        self.0.lock().unwrap().iter().flat_map(|c| c.writes.clone()).collect()
    }
}

/// The mocks, configured by each test before [`Fakes::services`] freezes them.
#[derive(Default)]
pub(super) struct Fakes {
    pub persons: MockPersonRepository,
    pub committees: MockCommitteeRepository,
    pub projects: MockProjectRepository,
    pub releases: MockReleaseRepository,
    pub revisions: MockRevisionRepository,
    pub files: MockReleaseFiles,
    pub keys: MockKeyRepository,
    pub ballots: MockBallotRepository,
    pub cves: MockCveRepository,
    pub distributions: MockDistributionRepository,
    pub events: MockEventRepository,
    pub tasks: MockTaskRepository,
    pub changes: MockUnitOfWork,
    pub accounts: MockAccountRepository,
    pub credentials: MockCredentials,
    pub queue: MockTaskQueue,
    pub audit: MockAuditLog,
    pub search: MockSearchIndex,
}

impl Fakes {
    /// Mocks that know these committees and projects (any number of lookups).
    pub(super) fn knowing(committees: Vec<Committee>, projects: Vec<Project>) -> Self {
        let mut f = Fakes::default();
        f.committees.expect_get().returning(move |k| Ok(committees.iter().find(|c| &c.key == k).cloned()));
        f.projects.expect_get().returning(move |k| Ok(projects.iter().find(|p| &p.key == k).cloned()));
        f.releases.expect_numbered_after().returning(|_| Ok(None));
        f
    }

    /// Mocks that know the httpd committee and project.
    pub(super) fn httpd() -> Self {
        Self::knowing(vec![httpd()], vec![httpd_project()])
    }

    /// Knows these releases by key.
    #[must_use]
    pub(super) fn with_releases(mut self, releases: Vec<Release>) -> Self {
        self.releases.expect_get().returning(move |k| Ok(releases.iter().find(|r| &r.key == k).cloned()));
        self
    }

    /// Commits every change, recording it, except those `refuse` answers with an error (which
    /// store nothing, as the unit of work promises).
    pub(super) fn commit_unless(&mut self, refuse: impl Fn(&Change) -> Option<StoreError> + Send + 'static) -> Log {
        let log = Log::default();
        let sink = log.clone();
        self.changes.expect_commit().returning(move |change| {
            if let Some(error) = refuse(&change) {
                return Err(error);
            }
            let mut changes = sink.0.lock().unwrap();
            let first = changes.iter().map(|c| c.events.len() as u64).sum::<u64>() + 1;
            let events = (first..).zip(&change.events).map(|(id, e)| Event { id, event: e.clone() }).collect();
            changes.push(change);
            Ok(Committed { events, tasks: vec![] })
        });
        log
    }

    /// Commits every change, recording it.
    pub(super) fn commit_all(&mut self) -> Log {
        self.commit_unless(|_| None)
    }

    pub(super) fn services(self) -> Services {
        let ports = Ports {
            persons: Arc::new(self.persons),
            committees: Arc::new(self.committees),
            projects: Arc::new(self.projects),
            releases: Arc::new(self.releases),
            revisions: Arc::new(self.revisions),
            files: Arc::new(self.files),
            keys: Arc::new(self.keys),
            ballots: Arc::new(self.ballots),
            cves: Arc::new(self.cves),
            distributions: Arc::new(self.distributions),
            events: Arc::new(self.events),
            tasks: Arc::new(self.tasks),
            changes: Arc::new(self.changes),
            accounts: Arc::new(self.accounts),
            credentials: Arc::new(self.credentials),
            queue: Arc::new(self.queue),
            audit: Arc::new(self.audit),
            search: Arc::new(self.search),
        };
        Services::new(ports, VotePolicy::foundation_default()).unwrap()
    }
}
