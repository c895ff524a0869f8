//! Public downloads: what a public path (coordinates) serves. Which release and which of its
//! revisions a stage shows, and whether a file or folder is there, is decided here, once; the
//! adapters only stream the bytes, through [`Services::open_served`].

use std::cell::RefCell;
use std::ops::Range;

use super::{ServiceError, Services};
use crate::model::{FileEntry, Phase, Release, ReleaseKey, RevisionNumber};
use crate::ports::{ByteStream, FileStat, StoreError};
use crate::types::{Coordinates, CoordinatesError, ProductKey, ProjectKey, ReleasePath, Stage, VersionRef};

/// A file name put after a path ending in `/`, so that the coordinates parser validates the
/// folder's path like any other; it is dropped again right after.
const FOLDER_PLACEHOLDER: &str = "index";

/// What a public path serves.
#[derive(Debug)]
pub enum Public {
    /// `latest`: the same path with the newest version of the stage, by the version order.
    Latest { path: String },
    /// A file of a release that is public in the path's stage.
    File(ServedFile),
    /// A folder (the path ends in `/`) of a release that is public in the path's stage.
    Folder(ServedFolder),
}

/// A file that a public path serves: only [`Services::public_path`] makes one, so holding one
/// is the proof that its bytes may be streamed.
#[derive(Debug, Clone)]
pub struct ServedFile {
    coordinates: Coordinates,
    release: Release,
    revision: RevisionNumber,
    entry: FileEntry,
}

impl ServedFile {
    /// The stage the path names.
    pub fn stage(&self) -> Stage {
        self.coordinates.stage()
    }
    /// The release.
    pub fn release(&self) -> &Release {
        &self.release
    }
    /// The revision the stage serves.
    pub fn revision(&self) -> RevisionNumber {
        self.revision
    }
    /// The file's manifest entry: path, size and digests.
    pub fn entry(&self) -> &FileEntry {
        &self.entry
    }
}

/// A folder that a public path lists.
#[derive(Debug, Clone)]
pub struct ServedFolder {
    coordinates: Coordinates,
    release: Release,
    revision: RevisionNumber,
    folder: Option<ReleasePath>,
    files: Vec<FileEntry>,
}

impl ServedFolder {
    /// The stage the path names.
    pub fn stage(&self) -> Stage {
        self.coordinates.stage()
    }
    /// The release.
    pub fn release(&self) -> &Release {
        &self.release
    }
    /// The revision the stage serves.
    pub fn revision(&self) -> RevisionNumber {
        self.revision
    }
    /// The folder, `None` for the release's root.
    pub fn folder(&self) -> Option<&ReleasePath> {
        self.folder.as_ref()
    }
    /// Every file under the folder (at any depth), sorted by path.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }
}

/// Why a public path serves nothing.
#[derive(Debug, thiserror::Error)]
pub enum NotServed {
    /// The path is not coordinates.
    #[error("invalid download path: {0}")]
    BadPath(CoordinatesError),
    #[error("project {0} not found")]
    NoProject(ProjectKey),
    /// `latest` of a stage that holds no release of the project (or product).
    #[error("{} has no release in stage {stage}", name(project, product.as_ref()))]
    NoRelease { project: ProjectKey, product: Option<ProductKey>, stage: Stage },
    /// The release does not exist, or is not public in this stage (drafts and previews never
    /// are); `public` names the stage it is public in, if any.
    #[error("{}", not_in_stage(release, *stage, *public))]
    NotInStage { release: ReleaseKey, stage: Stage, public: Option<Stage> },
    /// The release is public in the stage but serves no revision.
    #[error("release {0} has no files")]
    NoFiles(ReleaseKey),
    #[error("folder {folder}/ not found in release {release}")]
    NoFolder { release: ReleaseKey, folder: ReleasePath },
    /// No such file; `is_folder` when the path names a folder (to be listed with a `/`).
    #[error("{}", no_file(release, path, *is_folder))]
    NoFile { release: ReleaseKey, path: ReleasePath, is_folder: bool },
    /// Storage failed.
    #[error(transparent)]
    Failed(#[from] ServiceError),
}

impl From<StoreError> for NotServed {
    fn from(error: StoreError) -> Self {
        NotServed::Failed(error.into())
    }
}

fn name(project: &ProjectKey, product: Option<&ProductKey>) -> String {
    match product {
        Some(product) => format!("{project}/{product}"),
        None => project.to_string(),
    }
}

fn not_in_stage(release: &ReleaseKey, stage: Stage, public: Option<Stage>) -> String {
    match public {
        Some(public) => {
            let product = release.product.as_ref().map(|p| format!("{p}/")).unwrap_or_default();
            format!(
                "release {release} not found in stage {stage}: it is {public}, under /{public}/{}/{product}{}/",
                release.project, release.version
            )
        }
        None => format!("release {release} not found in stage {stage}"),
    }
}

fn no_file(release: &ReleaseKey, path: &ReleasePath, is_folder: bool) -> String {
    if is_folder {
        format!("{path} is a folder of release {release}; list it as {path}/")
    } else {
        format!("file {path} not found in release {release}")
    }
}

/// The revision a release serves in its public stage: the voted one while under vote (later
/// changes are not what was voted on), the latest one once released (announce freezes it). A
/// release revoked before it was ever released serves the revision that was under vote, and
/// nothing if it never was a candidate.
pub fn served_revision(release: &Release) -> Option<RevisionNumber> {
    match release.phase {
        Phase::Release => release.latest_revision,
        Phase::Candidate | Phase::Draft | Phase::Preview => release.vote.as_ref().map(|vote| vote.revision),
    }
}

/// A failure of release storage about a revision the database says is public: the storage's
/// fault, not the client's.
fn missing_from_storage(error: StoreError) -> ServiceError {
    match error {
        StoreError::NotFound(what) => {
            ServiceError::Store(format!("{what} is recorded but missing from release storage"))
        }
        other => other.into(),
    }
}

impl Services {
    /// What a public path (still percent-encoded, as received) serves: `/<stage>/<project>/
    /// [<product>/]<version|latest>/<path>`, a folder when it ends in `/`. A release is served
    /// only in its public stage ([`Release::stage`]), from the revision [`served_revision`]
    /// names.
    pub async fn public_path(&self, url_path: &str) -> Result<Public, NotServed> {
        let is_folder = url_path.ends_with('/');
        let parsed_path = if is_folder { format!("{url_path}{FOLDER_PLACEHOLDER}") } else { url_path.to_owned() };
        let coordinates = self.coordinates(&parsed_path).await?;
        let stage = coordinates.stage();
        let product = coordinates.product().cloned();
        let project = coordinates.project().clone();
        let release = match coordinates.version() {
            VersionRef::Latest => {
                let Some(release) = self.ports.releases.latest(&project, product.clone(), stage).await? else {
                    return Err(NotServed::NoRelease { project, product, stage });
                };
                let target = coordinates.with_version(release.key.version).to_string();
                let path = if is_folder {
                    target.strip_suffix(FOLDER_PLACEHOLDER).map_or(target.clone(), str::to_owned)
                } else {
                    target
                };
                return Ok(Public::Latest { path });
            }
            VersionRef::Exact(version) => {
                let key = ReleaseKey::new(project, product, version.clone());
                match self.ports.releases.get(&key).await? {
                    Some(release) if release.stage() == Some(stage) => release,
                    found => {
                        let public = found.and_then(|r| r.stage());
                        return Err(NotServed::NotInStage { release: key, stage, public });
                    }
                }
            }
        };
        let Some(revision) = served_revision(&release) else {
            return Err(NotServed::NoFiles(release.key));
        };
        let mut manifest = self.ports.files.manifest(&release.key, revision).await.map_err(missing_from_storage)?;
        if is_folder {
            let folder = coordinates.path().parent();
            let prefix = folder.as_ref().map(|f| format!("{f}/")).unwrap_or_default();
            manifest.retain(|entry| entry.path.as_str().starts_with(&prefix));
            if let Some(folder) = folder.as_ref().filter(|_| manifest.is_empty()) {
                return Err(NotServed::NoFolder { release: release.key, folder: folder.clone() });
            }
            return Ok(Public::Folder(ServedFolder { coordinates, release, revision, folder, files: manifest }));
        }
        let path = coordinates.path();
        let Some(at) = manifest.iter().position(|entry| &entry.path == path) else {
            let folder = format!("{path}/");
            let is_folder = manifest.iter().any(|entry| entry.path.as_str().starts_with(&folder));
            return Err(NotServed::NoFile { release: release.key, path: path.clone(), is_folder });
        };
        let entry = manifest.swap_remove(at);
        Ok(Public::File(ServedFile { coordinates, release, revision, entry }))
    }

    /// Parses coordinates, loading the project to tell its products from versions.
    async fn coordinates(&self, url_path: &str) -> Result<Coordinates, NotServed> {
        // First pass: the parser asks about products only once the project is valid and the path
        // is long enough for a product. If it does not ask, the answer does not matter.
        let asked: RefCell<Option<ProjectKey>> = RefCell::new(None);
        let first = Coordinates::parse(url_path, |project, _| {
            asked.replace(Some(project.clone()));
            false
        });
        let key = match (&first, asked.into_inner()) {
            (_, Some(key)) => key,
            (Ok(coordinates), None) => coordinates.project().clone(),
            (Err(error), None) => return Err(NotServed::BadPath(error.clone())),
        };
        let project = self.ports.projects.get(&key).await?;
        let coordinates = match &project {
            Some(project) if !project.products.is_empty() => {
                Coordinates::parse(url_path, |_, product| project.has_product(product))
            }
            _ => first,
        }
        .map_err(NotServed::BadPath)?;
        if project.is_none() {
            return Err(NotServed::NoProject(key));
        }
        Ok(coordinates)
    }

    /// The size and time of a served file, as release storage holds it.
    pub async fn stat_served(&self, file: &ServedFile) -> Result<FileStat, ServiceError> {
        let (release, revision, path) = (&file.release.key, file.revision, &file.entry.path);
        self.ports.files.stat(release, revision, path).await.map_err(missing_from_storage)
    }

    /// Streams the bytes `range` of a served file.
    pub async fn open_served(&self, file: &ServedFile, range: Range<u64>) -> Result<ByteStream, ServiceError> {
        let (release, revision, path) = (&file.release.key, file.revision, &file.entry.path);
        self.ports.files.open_range(release, revision, path, range).await.map_err(missing_from_storage)
    }
}

#[cfg(test)]
mod tests;
