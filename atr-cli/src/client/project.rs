//! Projects, their products, metadata and vote policy, and the committees they belong to.

use atr_api::Operation as _;
use atr_api::endpoints as op;
use atr_api::{
    Committee, CommitteePeople, Metadata, MetadataUpdate, NewProduct, PassRule, PolicyOverrides, ProductUpdate,
    Project, ProjectDetails, VoteMode,
};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

use super::api::{Api, Failure, Outcome, exit, path_of, segment};
use super::output;

/// A project's or a product's descriptive metadata, as flags; those left out keep their value.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct MetadataFlags {
    /// The name people see, such as `Apache HTTP Server`.
    #[arg(long)]
    pub name: Option<String>,
    /// A short description.
    #[arg(long)]
    pub description: Option<String>,
    /// The home page's address.
    #[arg(long)]
    pub homepage: Option<String>,
    /// The source repository's address.
    #[arg(long)]
    pub repository: Option<String>,
    /// The issue tracker's address.
    #[arg(long)]
    pub issue_tracker: Option<String>,
}

impl MetadataFlags {
    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.homepage.is_none()
            && self.repository.is_none()
            && self.issue_tracker.is_none()
    }

    /// The metadata with these flags applied over `current`.
    fn over(&self, current: &Metadata) -> MetadataUpdate {
        let pick = |flag: &Option<String>, now: &Option<String>| flag.clone().or_else(|| now.clone());
        MetadataUpdate {
            display_name: self.name.clone().unwrap_or_else(|| current.display_name.clone()),
            description: pick(&self.description, &current.description),
            homepage: pick(&self.homepage, &current.homepage),
            repository: pick(&self.repository, &current.repository),
            issue_tracker: pick(&self.issue_tracker, &current.issue_tracker),
        }
    }
}

/// How a vote is held.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Mode {
    Email,
    Ballot,
    Manual,
}

/// A vote policy setting a project (or product) may set, by its API name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub(crate) enum PolicyField {
    MinHours,
    Mode,
    StrictChecking,
    PassRule,
    VoteRecipients,
    AnnounceRecipients,
    VoteSubjectTemplate,
    VoteBodyTemplate,
    ResultSubjectTemplate,
    ResultBodyTemplate,
    AnnounceSubjectTemplate,
    AnnounceBodyTemplate,
    Checklist,
    BinaryGlobs,
    SourceGlobs,
    AutoResolve,
    PauseBeforeAnnounce,
}

/// Vote policy settings, as flags; those left out keep the value the project sets, if any.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct PolicyFlags {
    /// Shortest vote, in hours.
    #[arg(long)]
    pub min_hours: Option<u32>,
    /// How the vote is held.
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Whether warnings of the checks block the vote too: `true` or `false`.
    #[arg(long)]
    pub strict_checking: Option<bool>,
    /// Fewest binding +1 votes to pass (with `--majority-of-binding`).
    #[arg(long)]
    pub min_binding_plus_one: Option<u32>,
    /// Whether binding +1 votes must outnumber binding -1 votes: `true` or `false`.
    #[arg(long, requires = "min_binding_plus_one")]
    pub majority_of_binding: Option<bool>,
    /// Where the vote is sent (repeat, or separate with commas).
    #[arg(long = "vote-recipient", value_delimiter = ',')]
    pub vote_recipients: Option<Vec<String>>,
    /// Where the announcement is sent (repeat, or separate with commas).
    #[arg(long = "announce-recipient", value_delimiter = ',')]
    pub announce_recipients: Option<Vec<String>>,
    /// The vote email's subject template.
    #[arg(long)]
    pub vote_subject_template: Option<String>,
    /// The vote email's body template.
    #[arg(long)]
    pub vote_body_template: Option<String>,
    /// The result email's subject template.
    #[arg(long)]
    pub result_subject_template: Option<String>,
    /// The result email's body template.
    #[arg(long)]
    pub result_body_template: Option<String>,
    /// The announcement's subject template.
    #[arg(long)]
    pub announce_subject_template: Option<String>,
    /// The announcement's body template.
    #[arg(long)]
    pub announce_body_template: Option<String>,
    /// The checklist shown to voters.
    #[arg(long)]
    pub checklist: Option<String>,
    /// Paths of binary packages (repeat, or separate with commas).
    #[arg(long = "binary-glob", value_delimiter = ',')]
    pub binary_globs: Option<Vec<String>>,
    /// Paths of source packages (repeat, or separate with commas).
    #[arg(long = "source-glob", value_delimiter = ',')]
    pub source_globs: Option<Vec<String>>,
    /// Paths of generated files a source archive may hold although its git commit does not, under
    /// the archive's root folder (repeat, or separate with commas).
    #[arg(long = "generated-glob", value_delimiter = ',')]
    pub generated_globs: Option<Vec<String>>,
    /// Whether a vote that passed resolves by itself when it may close: `true` or `false`.
    #[arg(long)]
    pub auto_resolve: Option<bool>,
    /// Whether announcing asks for a confirmation (`atr announce --confirm`): `true` or `false`.
    #[arg(long)]
    pub pause_before_announce: Option<bool>,
    /// Stops setting a field, so that it is inherited again (repeat for more).
    #[arg(long = "inherit", value_enum, value_name = "FIELD")]
    pub inherit: Vec<PolicyField>,
}

impl PolicyFlags {
    fn is_empty(&self) -> bool {
        let mut overrides = PolicyOverrides::default();
        self.apply(&mut overrides);
        overrides == PolicyOverrides::default() && self.inherit.is_empty()
    }

    /// Sets the fields the flags name in `policy`, then clears those `--inherit` names.
    fn apply(&self, policy: &mut PolicyOverrides) {
        fn set<T: Clone>(field: &mut Option<T>, flag: Option<&T>) {
            if let Some(value) = flag {
                *field = Some(value.clone());
            }
        }
        set(&mut policy.min_hours, self.min_hours.as_ref());
        let mode = self.mode.map(|m| match m {
            Mode::Email => VoteMode::Email,
            Mode::Ballot => VoteMode::Ballot,
            Mode::Manual => VoteMode::Manual,
        });
        set(&mut policy.mode, mode.as_ref());
        set(&mut policy.strict_checking, self.strict_checking.as_ref());
        if let Some(min) = self.min_binding_plus_one {
            let majority =
                self.majority_of_binding.or_else(|| policy.pass_rule.map(|r| r.majority_of_binding)).unwrap_or(true);
            policy.pass_rule = Some(PassRule { min_binding_plus_one: min, majority_of_binding: majority });
        }
        set(&mut policy.vote_recipients, self.vote_recipients.as_ref());
        set(&mut policy.announce_recipients, self.announce_recipients.as_ref());
        set(&mut policy.vote_subject_template, self.vote_subject_template.as_ref());
        set(&mut policy.vote_body_template, self.vote_body_template.as_ref());
        set(&mut policy.result_subject_template, self.result_subject_template.as_ref());
        set(&mut policy.result_body_template, self.result_body_template.as_ref());
        set(&mut policy.announce_subject_template, self.announce_subject_template.as_ref());
        set(&mut policy.announce_body_template, self.announce_body_template.as_ref());
        set(&mut policy.checklist, self.checklist.as_ref());
        set(&mut policy.binary_globs, self.binary_globs.as_ref());
        set(&mut policy.source_globs, self.source_globs.as_ref());
        set(&mut policy.generated_globs, self.generated_globs.as_ref());
        set(&mut policy.auto_resolve, self.auto_resolve.as_ref());
        set(&mut policy.pause_before_announce, self.pause_before_announce.as_ref());
        for field in &self.inherit {
            clear(policy, *field);
        }
    }
}

/// Clears one setting of `policy`, by its field's name.
fn clear(policy: &mut PolicyOverrides, field: PolicyField) {
    let Some(name) = field.to_possible_value().map(|v| v.get_name().to_owned()) else { return };
    let mut value = serde_json::to_value(&*policy).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        fields.insert(name, Value::Null);
    }
    if let Ok(cleared) = serde_json::from_value(value) {
        *policy = cleared;
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProjectCommand {
    /// Lists the projects, by key.
    List {
        /// Starts after this project key (for the next page).
        #[arg(long)]
        after: Option<String>,
        /// Most projects listed.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Shows a project: its committee, metadata, products and the vote policy it sets.
    Show {
        /// The project, such as `httpd`.
        project: String,
    },
    /// Creates a project of a committee (admins: sign in with `atr login --user ADMIN`).
    Create {
        /// The new project's key, such as `httpd`.
        project: String,
        /// The committee it belongs to.
        #[arg(long, required = true)]
        committee: String,
        #[command(flatten)]
        metadata: MetadataFlags,
    },
    /// Changes a project's descriptive metadata; the fields left out keep their value.
    Set {
        /// The project, such as `httpd`.
        project: String,
        #[command(flatten)]
        metadata: MetadataFlags,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProductCommand {
    /// Adds a product to a project; its releases are named with `--product KEY`.
    Add {
        /// The project, such as `httpd`.
        project: String,
        /// The new product's key, such as `mod-tools`.
        product: String,
        #[command(flatten)]
        metadata: MetadataFlags,
        #[command(flatten)]
        policy: Box<PolicyFlags>,
    },
    /// Changes a product's metadata or vote policy settings; those left out keep their value.
    Set {
        /// The project, such as `httpd`.
        project: String,
        /// The product's key.
        product: String,
        #[command(flatten)]
        metadata: MetadataFlags,
        #[command(flatten)]
        policy: Box<PolicyFlags>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Shows the vote policy in force for a project's releases, and beside each value what the
    /// project itself sets (`-`: it sets nothing, the value is inherited).
    Show {
        /// The project, such as `httpd`.
        project: String,
    },
    /// Changes the vote policy settings of a project; the settings left out keep what the
    /// project sets, `--inherit FIELD` makes one inherited again.
    Set {
        /// The project, such as `httpd`.
        project: String,
        #[command(flatten)]
        policy: Box<PolicyFlags>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum CommitteeCommand {
    /// Lists the committees, by key, with their people.
    List {
        /// Starts after this committee key (for the next page).
        #[arg(long)]
        after: Option<String>,
        /// Most committees listed.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Shows a committee and its people.
    Show {
        /// The committee, such as `httpd`.
        committee: String,
    },
}

/// A page's query: `?limit=N` and `&after=KEY`.
pub(crate) fn page_query(after: Option<&str>, limit: u32) -> String {
    let after = after.map(|a| format!("&after={}", segment(a))).unwrap_or_default();
    format!("?limit={limit}{after}")
}

async fn project_details(api: &Api, project: &str) -> Outcome<(ProjectDetails, Value)> {
    let answer = api.op(op::GetProject, &path_of(op::GetProject, &[("project", project)], ""), None).await?;
    Ok((answer.body, answer.json))
}

fn project_line(project: &Project) -> String {
    let products: Vec<&str> = project.products.iter().map(|p| p.key.as_str()).collect();
    format!(
        "{:<20} {:<20} {}{}",
        project.key,
        project.committee,
        project.metadata.display_name,
        if products.is_empty() { String::new() } else { format!(" (products {})", products.join(",")) }
    )
}

fn print_metadata(metadata: &Metadata) {
    println!("name        {}", metadata.display_name);
    for (label, value) in [
        ("description", &metadata.description),
        ("homepage   ", &metadata.homepage),
        ("repository ", &metadata.repository),
        ("issues     ", &metadata.issue_tracker),
    ] {
        if let Some(value) = value {
            println!("{label} {value}");
        }
    }
}

/// The settings an overrides object sets, as `field value` lines.
fn set_fields(policy: &PolicyOverrides) -> Vec<(String, String)> {
    let value = serde_json::to_value(policy).unwrap_or_default();
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| !v.is_null())
        .map(|(field, v)| (field.clone(), show_value(v)))
        .collect()
}

/// A setting's value on one line: strings as they are (cut), lists joined, others as JSON.
fn show_value(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let items: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            output::list(&items)
        }
        other => other.to_string(),
    };
    let line = text.replace('\n', "\\n");
    if line.chars().count() > 60 { format!("{}...", line.chars().take(57).collect::<String>()) } else { line }
}

/// `atr project ...`.
pub(crate) async fn project(api: &Api, command: &ProjectCommand, json: bool) -> Outcome {
    match command {
        ProjectCommand::List { after, limit } => {
            let path = path_of(op::ListProjects, &[], &page_query(after.as_deref(), *limit));
            let answer = api.op(op::ListProjects, &path, None).await?;
            if json {
                output::print_json(&answer.json);
                return Ok(());
            }
            for project in &answer.body {
                println!("{}", project_line(project));
            }
            if answer.body.is_empty() {
                eprintln!("no projects");
            } else if answer.body.len() == *limit as usize
                && let Some(last) = answer.body.last()
            {
                eprintln!("more may follow: `atr project list --after {}`", last.key);
            }
        }
        ProjectCommand::Show { project } => {
            let (details, raw) = project_details(api, project).await?;
            if json {
                output::print_json(&raw);
                return Ok(());
            }
            let p = &details.project;
            println!("project     {} of committee {}", p.key, p.committee);
            print_metadata(&p.metadata);
            for product in &p.products {
                println!("product     {}: {}", product.key, product.metadata.display_name);
            }
            let set = set_fields(&p.policy);
            if set.is_empty() {
                println!("policy      sets nothing: `atr policy show {}` shows what is in force", p.key);
            }
            for (field, value) in set {
                println!("policy      {field} = {value}");
            }
        }
        ProjectCommand::Create { project, committee, metadata } => {
            let name = metadata
                .name
                .clone()
                .ok_or_else(|| Failure::usage("a new project needs a name").hint("add --name \"Apache Something\""))?;
            let body = Project {
                key: project.clone(),
                committee: committee.clone(),
                metadata: Metadata {
                    display_name: name,
                    description: metadata.description.clone(),
                    homepage: metadata.homepage.clone(),
                    repository: metadata.repository.clone(),
                    issue_tracker: metadata.issue_tracker.clone(),
                },
                policy: PolicyOverrides::default(),
                products: Vec::new(),
            };
            let answer =
                api.op(op::CreateProject, op::CreateProject::ENDPOINT.path, Some(&body)).await.map_err(|f| {
                    f.hint_for(exit::CONFLICT, format!("the project exists already: `atr project show {project}`"))
                        .hint_for(
                            exit::NOT_FOUND,
                            format!("committee {committee} is not known: `atr committee list` lists them"),
                        )
                        .hint_for(exit::REFUSED, "only admins create projects: sign in with `atr login --user ADMIN`")
                })?;
            if json {
                output::print_json(&answer.json);
            } else {
                println!("project {} created for committee {}", answer.body.key, answer.body.committee);
            }
        }
        ProjectCommand::Set { project, metadata } => {
            if metadata.is_empty() {
                return Err(Failure::usage("nothing to change").hint("name a field: --name, --description, ..."));
            }
            let (details, _) = project_details(api, project).await?;
            let body = metadata.over(&details.project.metadata);
            let path = path_of(op::SetProjectMetadata, &[("project", project)], "");
            let answer = api.op(op::SetProjectMetadata, &path, Some(&body)).await?;
            if json {
                output::print_json(&answer.json);
            } else {
                println!("project {} changed", answer.body.key);
                print_metadata(&answer.body.metadata);
            }
        }
    }
    Ok(())
}

/// `atr product ...`.
pub(crate) async fn product(api: &Api, command: &ProductCommand, json: bool) -> Outcome {
    match command {
        ProductCommand::Add { project, product, metadata, policy } => {
            let name = metadata
                .name
                .clone()
                .ok_or_else(|| Failure::usage("a new product needs a name").hint("add --name \"Some Tools\""))?;
            let mut overrides = PolicyOverrides::default();
            policy.apply(&mut overrides);
            let body = NewProduct {
                key: product.clone(),
                metadata: metadata.over(&Metadata { display_name: name, ..Metadata::default() }),
                policy: (overrides != PolicyOverrides::default()).then_some(overrides),
            };
            let path = path_of(op::AddProduct, &[("project", project)], "");
            let answer = api.op(op::AddProduct, &path, Some(&body)).await.map_err(|f| {
                f.hint_for(exit::CONFLICT, format!("the product exists already: `atr project show {project}`"))
            })?;
            if json {
                output::print_json(&answer.json);
            } else {
                println!("product {project}/{} added", answer.body.key);
                eprintln!("its releases: `atr release start {project} VERSION --product {}`", answer.body.key);
            }
        }
        ProductCommand::Set { project, product, metadata, policy } => {
            if metadata.is_empty() && policy.is_empty() {
                return Err(Failure::usage("nothing to change").hint("name a field: --name, --min-hours, ..."));
            }
            let (details, _) = project_details(api, project).await?;
            let current = details.project.products.iter().find(|p| p.key == *product).ok_or_else(|| {
                Failure::new(exit::NOT_FOUND, format!("project {project} has no product {product}"))
                    .hint(format!("`atr project show {project}` lists its products"))
            })?;
            let body = ProductUpdate {
                metadata: (!metadata.is_empty()).then(|| metadata.over(&current.metadata)),
                policy: (!policy.is_empty()).then(|| {
                    let mut overrides = current.policy.clone();
                    policy.apply(&mut overrides);
                    overrides
                }),
            };
            let path = path_of(op::UpdateProduct, &[("project", project), ("product", product)], "");
            let answer = api.op(op::UpdateProduct, &path, Some(&body)).await?;
            if json {
                output::print_json(&answer.json);
            } else {
                println!("product {project}/{} changed", answer.body.key);
            }
        }
    }
    Ok(())
}

/// A policy level in words, as the service names it.
fn level_name(level: atr_api::PolicyLevel) -> &'static str {
    match level {
        atr_api::PolicyLevel::Foundation => "foundation",
        atr_api::PolicyLevel::Project => "project",
        atr_api::PolicyLevel::Product => "product",
        atr_api::PolicyLevel::Release => "release",
    }
}

/// `atr policy ...`.
pub(crate) async fn policy(api: &Api, command: &PolicyCommand, json: bool) -> Outcome {
    match command {
        PolicyCommand::Show { project } => {
            let (details, raw) = project_details(api, project).await?;
            if json {
                // The project as the service answers it: `effective_vote_policy` and, in
                // `project.policy`, what the project sets.
                output::print_json(&raw);
                return Ok(());
            }
            let in_force = serde_json::to_value(&details.effective_vote_policy).unwrap_or_default();
            let sets = serde_json::to_value(&details.project.policy).unwrap_or_default();
            println!("{:<26} {:<40} {:<11} SET BY THE PROJECT", "SETTING", "IN FORCE", "FROM");
            for (field, value) in in_force.as_object().into_iter().flatten() {
                let own = sets.get(field).filter(|v| !v.is_null()).map_or_else(|| "-".to_owned(), show_value);
                let from = details.vote_policy_sources.get(field).map_or("-", |level| level_name(*level));
                println!("{field:<26} {:<40} {from:<11} {own}", show_value(value));
            }
        }
        PolicyCommand::Set { project, policy } => {
            if policy.is_empty() {
                return Err(Failure::usage("nothing to change").hint("name a setting: --min-hours N, ..."));
            }
            let (details, _) = project_details(api, project).await?;
            let mut overrides = details.project.policy.clone();
            policy.apply(&mut overrides);
            let path = path_of(op::SetProjectPolicy, &[("project", project)], "");
            let answer = api.op(op::SetProjectPolicy, &path, Some(&overrides)).await.map_err(|f| {
                f.hint_for(exit::REFUSED, "changing a vote policy needs `manage_policy` on the project")
            })?;
            if json {
                output::print_json(&answer.json);
            } else {
                println!("vote policy of {} changed; it sets:", answer.body.key);
                for (field, value) in set_fields(&answer.body.policy) {
                    println!("  {field} = {value}");
                }
                eprintln!("`atr policy show {project}` shows what is in force");
            }
        }
    }
    Ok(())
}

fn committee_lines(committee: &Committee) -> Vec<String> {
    let podling = if committee.podling { " (podling)" } else { "" };
    vec![
        format!("{}{podling}: {}", committee.key, committee.name),
        format!("  pmc              {}", output::list(&committee.pmc_members)),
        format!("  committers       {}", output::list(&committee.committers)),
        format!("  release managers {}", output::list(&committee.release_managers)),
    ]
}

/// `atr committee ...`.
pub(crate) async fn committee(api: &Api, command: &CommitteeCommand, json: bool) -> Outcome {
    let (raw, lines) = match command {
        CommitteeCommand::List { after, limit } => {
            let path = path_of(op::ListCommittees, &[], &page_query(after.as_deref(), *limit));
            let answer = api.op(op::ListCommittees, &path, None).await?;
            let lines = answer.body.iter().flat_map(committee_lines).collect();
            (answer.json, lines)
        }
        CommitteeCommand::Show { committee } => {
            let path = path_of(op::GetCommittee, &[("key", committee)], "");
            let answer = api.op(op::GetCommittee, &path, None).await?;
            (answer.json, committee_lines(&answer.body))
        }
    };
    if json {
        output::print_json(&raw);
    } else {
        for line in lines {
            println!("{line}");
        }
    }
    Ok(())
}

/// The people of `atr admin committees set`, as the API takes them.
pub(crate) fn committee_people(
    name: Option<&str>,
    podling: Option<bool>,
    pmc: &[String],
    committers: &[String],
    release_managers: &[String],
) -> CommitteePeople {
    CommitteePeople {
        name: name.map(str::to_owned),
        podling,
        parent: None,
        pmc_members: pmc.to_vec(),
        committers: committers.to_vec(),
        release_managers: release_managers.to_vec(),
    }
}

/// The lines of a committee, for `atr admin committees set`.
pub(crate) fn print_committee(committee: &Committee) {
    for line in committee_lines(committee) {
        println!("{line}");
    }
}
