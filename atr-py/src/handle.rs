//! The handle on the platform: storage opened as `atr serve` opens it, and every read and write
//! through `atr_core::services`.
//!
//! Each method parses its arguments (a refusal raises at once), then spawns one service call on
//! the runtime and hands its answer to Python as the JSON of the `atr-api` wire type, so a data
//! class's `to_dict()` is the JSON API's shape by construction.

#![expect(clippy::needless_pass_by_value, reason = "pyo3 hands the methods their arguments as owned values")]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use atr_core::auth::{MachineToken, Principal};
use atr_core::model::{Committee, Person, ReleaseKey, RevisionNumber, TaskStatus, VoteOutcome, VoteValue};
use atr_core::policy::VotePolicy;
use atr_core::ports::{ByteStream, EventFilter, FileChange, PageRequest};
use atr_core::services::{CommitteeUpdate, Parent, Services};
use atr_core::types::{CommitteeKey, ProductKey, ProjectKey, ReleasePath, Stage, UserId, Version};
use atr_store::{Storage, StorageConfig};
use pyo3::prelude::*;
use serde::Serialize;

use crate::clock::now;
use crate::errors::{Failure, Kind};
use crate::rules::{PyPrincipal, committee_key, user_id};
use crate::runtime::{Answer, Operation, Reply, spawn};

/// Most files one upload may name.
const MAX_UPLOAD_FILES: usize = atr_core::services::MAX_CHANGES;
/// Longest `wait` accepted, in seconds.
const MAX_WAIT_SECS: f64 = 24.0 * 3600.0;
/// How often `wait` looks at a task.
const WAIT_POLL: Duration = Duration::from_millis(100);
/// Longest policy document accepted, in bytes of JSON (templates included).
const MAX_POLICY_BYTES: usize = 256 * 1024;

#[derive(Debug)]
struct Inner {
    storage: Storage,
    services: Services,
    admins: BTreeSet<UserId>,
    closed: AtomicBool,
}

/// An open handle (`atr._atr.Handle`); the Python class `atr.Handle` wraps it.
#[pyclass(module = "atr._atr", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct Handle {
    inner: Arc<Inner>,
}

fn json<T: Serialize>(value: &T) -> Answer {
    serde_json::to_string(value)
        .map(Reply::Json)
        .map_err(|e| Failure::unavailable(format!("cannot encode the answer: {e}")))
}

fn json_list<'a, C: 'a, W: Serialize + From<&'a C>>(values: &'a [C]) -> Answer {
    json(&values.iter().map(W::from).collect::<Vec<W>>())
}

fn project_key(value: &str) -> Result<ProjectKey, Failure> {
    ProjectKey::parse(value).map_err(|e| Failure::invalid(format!("project {value:?}: {e}")))
}

fn release_key(project: &str, version: &str, product: Option<&str>) -> Result<ReleaseKey, Failure> {
    let product = product
        .map(|p| ProductKey::parse(p).map_err(|e| Failure::invalid(format!("product {p:?}: {e}"))))
        .transpose()?;
    let version = Version::parse(version).map_err(|e| Failure::invalid(format!("version {version:?}: {e}")))?;
    Ok(ReleaseKey::new(project_key(project)?, product, version))
}

fn revision_number(n: u32) -> Result<RevisionNumber, Failure> {
    RevisionNumber::new(n).ok_or_else(|| Failure::invalid(format!("{n} is not a revision number (they start at 1)")))
}

/// A value named by its wire text (`"+1"`, `"passed"`, `"current"`), as the core's serde reads it.
fn named<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, Failure> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| Failure::invalid(format!("{text:?} is not a {what}")))
}

fn users(names: &[String]) -> Result<BTreeSet<UserId>, Failure> {
    names.iter().map(|n| user_id(n)).collect()
}

fn page_limit(limit: u32) -> Result<u32, Failure> {
    if limit == 0 || limit > atr_core::ports::MAX_PAGE_SIZE {
        return Err(Failure::invalid(format!("limit must be 1 to {}", atr_core::ports::MAX_PAGE_SIZE)));
    }
    Ok(limit)
}

/// Raises a failure at call time, in Python.
fn raise<T>(py: Python<'_>, result: Result<T, Failure>) -> PyResult<T> {
    result.map_err(|f| f.into_pyerr(py))
}

impl Handle {
    /// Spawns `work` over the open handle; a closed handle refuses at once.
    fn run<F, Fut>(&self, py: Python<'_>, done: Py<PyAny>, work: F) -> PyResult<Operation>
    where
        F: FnOnce(Arc<Inner>) -> Fut,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        raise(py, self.open())?;
        let inner = self.inner.clone();
        let fut = work(inner.clone());
        raise(
            py,
            spawn(
                async move {
                    // A handle closed meanwhile answers no more.
                    if inner.closed.load(Ordering::SeqCst) {
                        return Err(closed());
                    }
                    fut.await
                },
                done,
            ),
        )
    }

    fn open(&self) -> Result<(), Failure> {
        if self.inner.closed.load(Ordering::SeqCst) { Err(closed()) } else { Ok(()) }
    }
}

fn closed() -> Failure {
    let mut failure = Failure::unavailable("the handle is closed");
    failure.code = "closed";
    failure
}

impl Inner {
    /// The core's principal for a Python one: the person as the platform knows them (their
    /// consent and global roles), with the global roles the caller vouches for added, and the
    /// admins named at `connect`. Per-project roles come from the platform's committee records.
    ///
    /// A principal that carries a token (from [`Handle::token_principal`]) is the core's token
    /// principal: the token is looked up again by its id, so a token revoked or expired since is
    /// refused at every call, and its stored grant (not the one Python shows) limits what it does.
    async fn principal(&self, principal: Option<PyPrincipal>) -> Result<Principal, Failure> {
        let Some((p, uid)) = principal.and_then(|p| p.uid.clone().map(|uid| (p, uid))) else {
            return Ok(Principal::Anonymous);
        };
        let id = user_id(&uid)?;
        if let Some(token) = &p.token {
            return match self.services.held_token_principal(&token.id, &id, now()).await? {
                Principal::Token { mut owner, token } => {
                    owner.admin |= self.admins.contains(&owner.id);
                    Ok(Principal::Token { owner, token })
                }
                other => Ok(other),
            };
        }
        let known = self.services.ports().persons.get(&id).await?;
        let mut person = known.unwrap_or(Person { id: id.clone(), asf_member: false, admin: false, consent: None });
        person.asf_member |= p.is_asf_member;
        person.admin |= p.is_admin || self.admins.contains(&id);
        Ok(Principal::Person(person))
    }

    /// As [`Inner::principal`], for a write: nobody signed in is `NotAuthenticated` before any
    /// permission is looked at.
    async fn person(&self, principal: Option<PyPrincipal>) -> Result<Principal, Failure> {
        match self.principal(principal).await? {
            Principal::Anonymous => Err(Failure::new(Kind::NotAuthenticated, "not signed in: this needs a person")),
            person => Ok(person),
        }
    }
}

/// What Python makes an `atr.Principal` of for a token principal: the owner as the platform
/// knows them, their roles on the committees of the token's projects, and the token's grant.
#[derive(Debug, Serialize)]
struct TokenPrincipal {
    uid: String,
    is_admin: bool,
    is_asf_member: bool,
    member_of: Vec<String>,
    participant_of: Vec<String>,
    token: atr_api::Grant,
}

impl TokenPrincipal {
    fn new(owner: &Person, token: &MachineToken, committees: &[Committee]) -> Self {
        let names = |holds: fn(&Committee, &UserId) -> bool| {
            committees.iter().filter(|c| holds(c, &owner.id)).map(|c| c.key.to_string()).collect::<Vec<_>>()
        };
        Self {
            uid: owner.id.to_string(),
            is_admin: owner.admin,
            is_asf_member: owner.asf_member,
            member_of: names(|c, id| c.pmc_members.contains(id)),
            participant_of: names(|c, id| c.pmc_members.contains(id) || c.committers.contains(id)),
            token: atr_api::Grant::from(token),
        }
    }
}

/// Opens storage (creating and migrating it as `atr serve` does) and answers a [`Handle`].
#[pyfunction]
#[pyo3(signature = (database_url, data_dir, admins, done))]
pub(crate) fn connect(
    py: Python<'_>,
    database_url: Option<String>,
    data_dir: PathBuf,
    admins: Vec<String>,
    done: Py<PyAny>,
) -> PyResult<Operation> {
    let admins = raise(py, users(&admins))?;
    if let Some(url) = &database_url
        && !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        return Err(
            Failure::invalid("the database URL must start with sqlite:, postgres:// or postgresql://").into_pyerr(py)
        );
    }
    let config = StorageConfig { database_url, ..StorageConfig::new(data_dir) };
    let opened = async move {
        let handle = open_handle(config, admins).await?;
        Ok(Reply::Object(Box::new(move |py: Python<'_>| Ok(Py::new(py, handle)?.into_any()))))
    };
    raise(py, spawn(opened, done))
}

async fn open_handle(config: StorageConfig, admins: BTreeSet<UserId>) -> Result<Handle, Failure> {
    let (storage, _recovery) = Storage::open(&config).await?;
    let services = Services::new(storage.ports(), VotePolicy::foundation_default())
        .map_err(|e| Failure::unavailable(format!("the foundation's vote policy is invalid: {e}")))?;
    Ok(Handle { inner: Arc::new(Inner { storage, services, admins, closed: AtomicBool::new(false) }) })
}

#[pymethods]
impl Handle {
    /// True once `close` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// Closes the database connections; later calls raise `Unavailable` (code `closed`).
    fn close(&self, py: Python<'_>, done: Py<PyAny>) -> PyResult<Operation> {
        let inner = self.inner.clone();
        let already = inner.closed.swap(true, Ordering::SeqCst);
        raise(
            py,
            spawn(
                async move {
                    if !already {
                        inner.storage.sql.close().await;
                    }
                    Ok(Reply::Nothing)
                },
                done,
            ),
        )
    }

    #[pyo3(signature = (after, limit, done))]
    fn committees(&self, py: Python<'_>, after: Option<String>, limit: u32, done: Py<PyAny>) -> PyResult<Operation> {
        let after = raise(py, after.as_deref().map(committee_key).transpose())?;
        let limit = raise(py, page_limit(limit))?;
        self.run(py, done, |inner| async move {
            let found = inner.services.list_committees(PageRequest { after, limit }).await?;
            json_list::<_, atr_api::Committee>(&found)
        })
    }

    #[pyo3(signature = (key, done))]
    fn committee(&self, py: Python<'_>, key: &str, done: Py<PyAny>) -> PyResult<Operation> {
        let key = raise(py, committee_key(key))?;
        self.run(py, done, |inner| async move {
            json(&atr_api::Committee::from(&inner.services.get_committee(&key).await?))
        })
    }

    #[pyo3(signature = (after, limit, done))]
    fn projects(&self, py: Python<'_>, after: Option<String>, limit: u32, done: Py<PyAny>) -> PyResult<Operation> {
        let after = raise(py, after.as_deref().map(project_key).transpose())?;
        let limit = raise(py, page_limit(limit))?;
        self.run(py, done, |inner| async move {
            let found = inner.services.list_projects(PageRequest { after, limit }).await?;
            json_list::<_, atr_api::Project>(&found)
        })
    }

    #[pyo3(signature = (key, done))]
    fn project(&self, py: Python<'_>, key: &str, done: Py<PyAny>) -> PyResult<Operation> {
        let key = raise(py, project_key(key))?;
        self.run(py, done, |inner| async move {
            json(&atr_api::Project::from(&inner.services.get_project(&key).await?.project))
        })
    }

    #[pyo3(signature = (principal, project, product, stage, after, limit, done))]
    #[expect(clippy::too_many_arguments, reason = "one argument per keyword of the Python method")]
    fn releases(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: &str,
        product: Option<String>,
        stage: Option<String>,
        after: Option<String>,
        limit: u32,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let project = raise(py, project_key(project))?;
        let product = raise(
            py,
            product
                .as_deref()
                .map(|p| ProductKey::parse(p).map_err(|e| Failure::invalid(format!("product {p:?}: {e}"))))
                .transpose(),
        )?;
        let stage: Option<Stage> = raise(py, stage.as_deref().map(|s| named("stage", s)).transpose())?;
        let after = raise(
            py,
            after
                .as_deref()
                .map(|v| Version::parse(v).map_err(|e| Failure::invalid(format!("version {v:?}: {e}"))))
                .transpose(),
        )?;
        let limit = raise(py, page_limit(limit))?;
        self.run(py, done, |inner| async move {
            let who = inner.principal(principal).await?;
            let found = inner
                .services
                .list_releases(&who, &project, product, stage, PageRequest { after, limit }, now())
                .await?;
            json_list::<_, atr_api::Release>(&found)
        })
    }

    #[pyo3(signature = (principal, project, version, product, done))]
    fn release(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: &str,
        version: &str,
        product: Option<&str>,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let key = raise(py, release_key(project, version, product))?;
        self.run(py, done, |inner| async move {
            let who = inner.principal(principal).await?;
            let view = inner.services.release_view(&who, &key, now()).await?;
            json(&atr_api::Release::from(&view.release))
        })
    }

    #[pyo3(signature = (principal, project, version, product, after, limit, done))]
    #[expect(clippy::too_many_arguments, reason = "one argument per keyword of the Python method")]
    fn revisions(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: &str,
        version: &str,
        product: Option<&str>,
        after: Option<u32>,
        limit: u32,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let key = raise(py, release_key(project, version, product))?;
        let after = raise(py, after.map(revision_number).transpose())?;
        let limit = raise(py, page_limit(limit))?;
        self.run(py, done, |inner| async move {
            let who = inner.principal(principal).await?;
            let found = inner.services.list_revisions(&who, &key, PageRequest { after, limit }, now()).await?;
            json_list::<_, atr_api::Revision>(&found)
        })
    }

    #[pyo3(signature = (principal, project, version, product, revision, done))]
    #[expect(clippy::too_many_arguments, reason = "one argument per keyword of the Python method")]
    fn check_results(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: &str,
        version: &str,
        product: Option<&str>,
        revision: u32,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let key = raise(py, release_key(project, version, product))?;
        let number = raise(py, revision_number(revision))?;
        self.run(py, done, |inner| async move {
            let who = inner.principal(principal).await?;
            let found = inner.services.revision_checks(&who, &key, number, now()).await?;
            json_list::<_, atr_api::CheckResult>(&found)
        })
    }

    #[pyo3(signature = (committee, done))]
    fn keys(&self, py: Python<'_>, committee: &str, done: Py<PyAny>) -> PyResult<Operation> {
        let committee = raise(py, committee_key(committee))?;
        self.run(py, done, |inner| async move {
            let found = inner.services.committee_keys(&committee).await?;
            json(&found.iter().map(atr_api::SigningKey::summary).collect::<Vec<_>>())
        })
    }

    #[pyo3(signature = (principal, project, version, product, before, limit, done))]
    #[expect(clippy::too_many_arguments, reason = "one argument per keyword of the Python method")]
    fn events(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: Option<&str>,
        version: Option<&str>,
        product: Option<&str>,
        before: Option<u64>,
        limit: u32,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let filter = match (project, version) {
            (Some(project), Some(version)) => {
                let key = raise(py, release_key(project, version, product))?;
                EventFilter { project: Some(key.project.clone()), product: key.product.clone(), release: Some(key) }
            }
            (Some(project), None) => EventFilter {
                project: Some(raise(py, project_key(project))?),
                product: raise(
                    py,
                    product
                        .map(|p| ProductKey::parse(p).map_err(|e| Failure::invalid(format!("product {p:?}: {e}"))))
                        .transpose(),
                )?,
                release: None,
            },
            (None, Some(_)) => return Err(Failure::invalid("a version needs its project").into_pyerr(py)),
            (None, None) => EventFilter::default(),
        };
        let limit = raise(py, page_limit(limit))?;
        self.run(py, done, |inner| async move {
            let who = inner.principal(principal).await?;
            let found = inner.services.list_events(&who, &filter, PageRequest { after: before, limit }, now()).await?;
            json_list::<_, atr_api::Event>(&found)
        })
    }

    #[pyo3(signature = (principal, key, name, pmc_members, committers, release_managers, podling, done))]
    #[expect(clippy::too_many_arguments, reason = "one argument per keyword of the Python method")]
    fn put_committee(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        key: &str,
        name: Option<String>,
        pmc_members: Vec<String>,
        committers: Vec<String>,
        release_managers: Vec<String>,
        podling: Option<bool>,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let key: CommitteeKey = raise(py, committee_key(key))?;
        let update = CommitteeUpdate {
            name,
            podling,
            parent: None,
            pmc_members: raise(py, users(&pmc_members))?,
            committers: raise(py, users(&committers))?,
            release_managers: raise(py, users(&release_managers))?,
        };
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            let committee = inner.services.put_committee(&who, &key, update, now()).await?;
            json(&atr_api::Committee::from(&committee))
        })
    }

    #[pyo3(signature = (principal, key, committee, name, done))]
    fn create_project(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        key: &str,
        committee: &str,
        name: String,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let project = atr_core::model::Project {
            key: raise(py, project_key(key))?,
            committee: raise(py, committee_key(committee))?,
            metadata: atr_core::model::Metadata { display_name: name, ..Default::default() },
            policy: atr_core::policy::PolicyOverrides::default(),
            products: Vec::new(),
        };
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            let created = inner.services.create_project(&who, project, now()).await?;
            json(&atr_api::Project::from(&created))
        })
    }

    #[pyo3(signature = (principal, project, version, product, done))]
    fn start_release(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: &str,
        version: &str,
        product: Option<&str>,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let key = raise(py, release_key(project, version, product))?;
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            json(&atr_api::Release::from(&inner.services.start_release(&who, key, now()).await?))
        })
    }

    /// A new revision with `files` (release path, local file) put in. The files are streamed
    /// from disk by the runtime; their bytes never pass through Python.
    #[pyo3(signature = (principal, project, version, product, files, description, done))]
    #[expect(clippy::too_many_arguments, reason = "one argument per keyword of the Python method")]
    fn upload(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: &str,
        version: &str,
        product: Option<&str>,
        files: Vec<(String, PathBuf)>,
        description: Option<String>,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let key = raise(py, release_key(project, version, product))?;
        if files.is_empty() || files.len() > MAX_UPLOAD_FILES {
            return Err(Failure::invalid(format!("an upload needs 1 to {MAX_UPLOAD_FILES} files")).into_pyerr(py));
        }
        let mut named = Vec::with_capacity(files.len());
        for (path, local) in files {
            let path = raise(
                py,
                ReleasePath::parse(&path).map_err(|e| Failure::invalid(format!("release path {path:?}: {e}"))),
            )?;
            named.push((path, local));
        }
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            let mut changes = Vec::with_capacity(named.len());
            for (path, local) in named {
                changes.push(FileChange::Put { path, content: open_stream(&local).await? });
            }
            let new = inner.services.add_revision(&who, &key, Parent::Latest, changes, description, now()).await?;
            json(&atr_api::NewRevision::from(&new))
        })
    }

    #[pyo3(signature = (principal, project, version, product, revision, done))]
    #[expect(clippy::too_many_arguments, reason = "one argument per keyword of the Python method")]
    fn start_vote(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: &str,
        version: &str,
        product: Option<&str>,
        revision: u32,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let key = raise(py, release_key(project, version, product))?;
        let number = raise(py, revision_number(revision))?;
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            json(&atr_api::Release::from(&inner.services.start_vote(&who, &key, number, now()).await?))
        })
    }

    #[pyo3(signature = (principal, project, version, product, value, comment, done))]
    #[expect(clippy::too_many_arguments, reason = "one argument per keyword of the Python method")]
    fn cast_ballot(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: &str,
        version: &str,
        product: Option<&str>,
        value: &str,
        comment: Option<String>,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let key = raise(py, release_key(project, version, product))?;
        let value: VoteValue = raise(py, named("vote value (+1, +0, 0, -0 or -1)", value))?;
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            let ballot = inner.services.cast_ballot(&who, &key, value, comment, now()).await?;
            json(&atr_api::Ballot::from(&ballot))
        })
    }

    #[pyo3(signature = (principal, project, version, product, outcome, done))]
    #[expect(clippy::too_many_arguments, reason = "one argument per keyword of the Python method")]
    fn resolve(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: &str,
        version: &str,
        product: Option<&str>,
        outcome: &str,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let key = raise(py, release_key(project, version, product))?;
        let outcome: VoteOutcome = raise(py, named("vote outcome (passed, failed or cancelled)", outcome))?;
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            json(&atr_api::Release::from(&inner.services.resolve_vote(&who, &key, outcome, now()).await?))
        })
    }

    #[pyo3(signature = (principal, project, version, product, confirmed, done))]
    #[expect(clippy::too_many_arguments, reason = "one argument per keyword of the Python method")]
    fn announce(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: &str,
        version: &str,
        product: Option<&str>,
        confirmed: bool,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let key = raise(py, release_key(project, version, product))?;
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            json(&atr_api::Release::from(&inner.services.announce(&who, &key, confirmed, now()).await?))
        })
    }

    /// Adds one armored OpenPGP public key and links it to the committee.
    #[pyo3(signature = (principal, committee, armored, done))]
    fn add_key(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        committee: &str,
        armored: String,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        use atr_tasks::analyze::signature::{MAX_KEYS_FILE_BYTES, SignaturePolicy, read_keys};
        let committee = raise(py, committee_key(committee))?;
        if armored.len() > MAX_KEYS_FILE_BYTES {
            return Err(Failure::invalid(format!("a key is at most {MAX_KEYS_FILE_BYTES} bytes")).into_pyerr(py));
        }
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            let at = now();
            let read =
                tokio::task::spawn_blocking(move || read_keys(armored.as_bytes(), &SignaturePolicy::default(), at))
                    .await
                    .map_err(|e| Failure::unavailable(format!("reading the key failed: {e}")))?;
            let added = inner.services.add_one_key(&who, &committee, read, at).await?;
            json(&atr_api::SigningKey::full(&added.key))
        })
    }

    /// The principal of a presented bearer string (`atr_<id>_<secret>`), checked by the core
    /// (its shape, the secret's digest in constant time, revocation, expiry), or
    /// `NotAuthenticated`. Notes the token's use.
    #[pyo3(signature = (bearer, done))]
    fn token_principal(&self, py: Python<'_>, bearer: String, done: Py<PyAny>) -> PyResult<Operation> {
        self.run(py, done, |inner| async move {
            // A use that could not be noted still signs the token in, as in the HTTP service;
            // the module has no log to report it to.
            let (principal, _unnoted) = inner.services.bearer_principal(&bearer, now()).await?;
            let Principal::Token { mut owner, token } = principal else {
                return Err(Failure::unavailable("the core answered a token with another principal"));
            };
            owner.admin |= inner.admins.contains(&owner.id);
            let committees = inner.services.token_committees(&token).await?;
            json(&TokenPrincipal::new(&owner, &token, &committees))
        })
    }

    /// Creates a personal access token for the signed-in person (never with a token); the
    /// answer holds the bearer string, shown this once.
    #[pyo3(signature = (principal, name, projects, activities, expires_in_days, done))]
    #[expect(clippy::too_many_arguments, reason = "one argument per keyword of the Python method")]
    fn create_token(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        name: String,
        projects: Vec<String>,
        activities: Vec<String>,
        expires_in_days: u32,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        if projects.len() > atr_core::auth::MAX_TOKEN_PROJECTS {
            let most = atr_core::auth::MAX_TOKEN_PROJECTS;
            return Err(Failure::invalid(format!("a token is scoped to at most {most} projects")).into_pyerr(py));
        }
        let projects = raise(py, projects.iter().map(|p| project_key(p)).collect::<Result<BTreeSet<_>, _>>())?;
        let activities = raise(
            py,
            activities
                .iter()
                .map(|a| {
                    atr_core::auth::Activity::parse(a)
                        .ok_or_else(|| Failure::invalid(format!("{a:?} is not an activity")))
                })
                .collect::<Result<BTreeSet<_>, _>>(),
        )?;
        let request = atr_core::services::NewToken { name, projects, activities, expires_in_days };
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            let at = now();
            let (stored, secret) = inner.services.create_token(&who, request, at).await?;
            let view = atr_api::Token::new(
                &stored.grant,
                &stored.name,
                stored.status(at).into(),
                stored.revoked_at,
                stored.last_used_at,
            );
            let bearer = atr_core::auth::bearer::bearer(stored.grant.id(), &secret);
            json(&atr_api::CreatedToken::new(bearer, view))
        })
    }

    /// Revokes one of the principal's tokens (a token may revoke itself).
    #[pyo3(signature = (principal, id, done))]
    fn revoke_token(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        id: String,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            inner.services.revoke_token(&who, &id, now()).await?;
            Ok(Reply::Nothing)
        })
    }

    /// Imports every usable key of a KEYS file (its bytes: real ones are not always UTF-8) into
    /// the committee (`manage keys`) and answers what happened to each key.
    #[pyo3(signature = (principal, committee, keys, done))]
    fn import_keys(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        committee: &str,
        keys: Vec<u8>,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        use atr_tasks::analyze::signature::{MAX_KEYS_FILE_BYTES, SignaturePolicy, read_keys};
        let committee = raise(py, committee_key(committee))?;
        if keys.len() > MAX_KEYS_FILE_BYTES {
            return Err(Failure::invalid(format!("a KEYS file is at most {MAX_KEYS_FILE_BYTES} bytes")).into_pyerr(py));
        }
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            let at = now();
            let read = tokio::task::spawn_blocking(move || read_keys(&keys, &SignaturePolicy::default(), at))
                .await
                .map_err(|e| Failure::unavailable(format!("reading the keys failed: {e}")))?;
            let report = inner.services.import_keys(&who, &committee, read, at).await?;
            json(&atr_api::KeyImportReport::from(&report))
        })
    }

    /// Replaces the project's vote policy settings (`manage policy`): `policy` is the JSON of
    /// the API's `PolicyOverrides` (fields left out inherit the foundation default).
    #[pyo3(signature = (principal, project, policy, done))]
    fn set_project_policy(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: &str,
        policy: &str,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let project = raise(py, project_key(project))?;
        if policy.len() > MAX_POLICY_BYTES {
            return Err(
                Failure::invalid(format!("a policy is at most {MAX_POLICY_BYTES} bytes of JSON")).into_pyerr(py)
            );
        }
        let policy: atr_api::PolicyOverrides =
            raise(py, serde_json::from_str(policy).map_err(|e| Failure::invalid(format!("policy: {e}"))))?;
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            let updated = inner.services.set_project_policy(&who, &project, policy.into(), now()).await?;
            json(&atr_api::Project::from(&updated))
        })
    }

    /// The tally of the release's current or last vote, counted by the core at this moment, or
    /// `None` if it never had one.
    #[pyo3(signature = (principal, project, version, product, done))]
    fn tally(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        project: &str,
        version: &str,
        product: Option<&str>,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        let key = raise(py, release_key(project, version, product))?;
        self.run(py, done, |inner| async move {
            let who = inner.principal(principal).await?;
            let view = inner.services.release_view(&who, &key, now()).await?;
            match &view.tally {
                Some(tally) => json(&atr_api::Tally::from(tally)),
                None => Ok(Reply::Nothing),
            }
        })
    }

    #[pyo3(signature = (principal, id, done))]
    fn task(&self, py: Python<'_>, principal: Option<PyPrincipal>, id: u64, done: Py<PyAny>) -> PyResult<Operation> {
        self.run(py, done, |inner| async move {
            let who = inner.principal(principal).await?;
            json(&atr_api::Task::from(&inner.services.task(&who, id, now()).await?))
        })
    }

    #[pyo3(signature = (principal, id, done))]
    fn cancel_task(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        id: u64,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        self.run(py, done, |inner| async move {
            let who = inner.person(principal).await?;
            json(&atr_api::Task::from(&inner.services.cancel_task(&who, id, now()).await?))
        })
    }

    /// Answers the task once it has ended (succeeded, failed or cancelled); `None` after
    /// `timeout` seconds.
    #[pyo3(signature = (principal, id, timeout, done))]
    fn wait(
        &self,
        py: Python<'_>,
        principal: Option<PyPrincipal>,
        id: u64,
        timeout: f64,
        done: Py<PyAny>,
    ) -> PyResult<Operation> {
        if !(timeout.is_finite() && (0.0..=MAX_WAIT_SECS).contains(&timeout)) {
            return Err(Failure::invalid(format!("timeout must be 0 to {MAX_WAIT_SECS} seconds")).into_pyerr(py));
        }
        let timeout = Duration::from_secs_f64(timeout);
        self.run(py, done, |inner| async move {
            let who = inner.principal(principal).await?;
            let ended = tokio::time::timeout(timeout, async {
                loop {
                    let view = inner.services.task(&who, id, now()).await?;
                    if matches!(view.task.status, TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled) {
                        return Ok::<_, Failure>(view);
                    }
                    tokio::time::sleep(WAIT_POLL).await;
                }
            })
            .await;
            match ended {
                Ok(view) => json(&atr_api::Task::from(&view?)),
                Err(_) => Ok(Reply::Nothing),
            }
        })
    }
}

/// A local file as a stream of chunks read by the runtime.
async fn open_stream(path: &std::path::Path) -> Result<ByteStream, Failure> {
    // A local file that cannot be read is bad input of the call, not a missing platform object.
    let file = tokio::fs::File::open(path).await.map_err(|e| {
        let mut failure = Failure::invalid(format!("cannot read {}: {e}", path.display()));
        failure.code = "unreadable_file";
        failure
    })?;
    Ok(Box::pin(tokio_util::io::ReaderStream::new(file)))
}
