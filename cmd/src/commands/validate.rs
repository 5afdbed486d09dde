//! `kubectl medusa validate`: the webhook's rules, offline, on manifests.

use clap::{Args, ValueEnum};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use medusa_crds::kinds::{Each, ViewKind, Watched, each_kind};
use medusa_crds::operator::CREDENTIALS_KEY;
use medusa_crds::rules::{
    self, AdmissionInput, AdmissionOperation, Finding, MemoryView, ObjectText, Policy,
    ResourceKind, Severity,
};
use medusa_crds::*;
use serde::Serialize;
use serde_json::Value;

use crate::api::{self, Scope};
use crate::cli::ListOutput;
use crate::context::Ctx;
use crate::error::{CliError, Result};
use crate::output::{self, Column, table};
use crate::snapshot::Snapshot;

// === The command line ===

/// Where `validate` gets the rest of the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum ClusterView {
    /// Only the other files given.
    #[default]
    Files,
    /// The files plus the live cluster.
    Live,
}

/// `kubectl medusa validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or directories of manifests (`-` for standard input).
    #[arg(
        short = 'f',
        long = "filename",
        required = true,
        value_name = "FILE|DIR|-"
    )]
    pub files: Vec<PathBuf>,
    /// Also read the subdirectories of the directories given (as `kubectl apply -R`).
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Judge against the other files only, or also the live cluster.
    #[arg(long, value_enum, default_value_t = ClusterView::Files)]
    pub cluster_view: ClusterView,
    /// Output format (table or json).
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

/// One manifest document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Where it came from: `file.yaml#2`.
    pub origin: String,
    /// The object.
    pub value: Value,
}

/// One finding, for the table and `-o json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// Where.
    pub origin: String,
    /// `Kind namespace/name`.
    pub object: String,
    /// The rule (`-` for an unreadable object).
    pub rule: String,
    /// deny, warn or patch.
    pub severity: String,
    /// The message.
    pub message: String,
}

fn collect_files(path: &Path, recursive: bool, top: bool, out: &mut Vec<PathBuf>) -> Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| CliError::usage(format!("cannot read directory {}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            if entry.is_dir() {
                if recursive {
                    collect_files(&entry, recursive, false, out)?;
                }
            } else if entry
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                out.push(entry);
            }
        }
    } else if top
        || path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
    {
        out.push(path.to_owned());
    }
    Ok(())
}

/// Reads every document of the given files, directories (their subdirectories too when
/// `recursive`), or `-` for standard input. A file named twice is read once.
pub fn read_documents(
    paths: &[PathBuf],
    recursive: bool,
    stdin: impl FnOnce() -> std::io::Result<String>,
) -> Result<Vec<Document>> {
    let mut files = Vec::new();
    let mut documents = Vec::new();
    let mut stdin = Some(stdin);
    for path in paths {
        if path.as_os_str() == "-" {
            let text = stdin
                .take()
                .ok_or_else(|| CliError::usage("standard input (-) can be given once"))?(
            )
            .map_err(|e| CliError::usage(format!("cannot read standard input: {e}")))?;
            documents.extend(parse_documents("<stdin>", &text)?);
        } else if !path.exists() {
            return Err(CliError::usage(format!(
                "{} does not exist",
                path.display()
            )));
        } else {
            collect_files(path, recursive, true, &mut files)?;
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))?;
        documents.extend(parse_documents(&file.display().to_string(), &text)?);
    }
    Ok(documents)
}

/// Parses the documents of one text (a `List` counts as its items; what is not an object is skipped).
pub fn parse_documents(origin: &str, text: &str) -> Result<Vec<Document>> {
    let values: Vec<Value> = serde_saphyr::from_multiple(text)
        .map_err(|e| CliError::usage(format!("{origin} is not valid YAML: {e}")))?;
    let mut documents = Vec::new();
    for (i, value) in values.into_iter().enumerate() {
        // A List of items counts as its items.
        if value.get("kind").and_then(Value::as_str) == Some("List") {
            for (j, item) in value
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .enumerate()
            {
                documents.push(Document {
                    origin: format!("{origin}#{i}.{j}"),
                    value: item,
                });
            }
        } else if value.is_object() {
            documents.push(Document {
                origin: format!("{origin}#{i}"),
                value,
            });
        }
    }
    Ok(documents)
}

fn kind_of(value: &Value) -> Option<ResourceKind> {
    let api_version = value.get("apiVersion")?.as_str()?;
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    ResourceKind::from_group_kind(group, value.get("kind")?.as_str()?)
}

fn with_namespace(mut value: Value, namespace: &str) -> Value {
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut)
        && !meta.contains_key("namespace")
    {
        meta.insert("namespace".into(), Value::String(namespace.to_owned()));
    }
    value
}

/// Adds the objects of each kind the files hold.
struct FromFiles<'a> {
    documents: &'a [Document],
    view: MemoryView,
}

impl Each for FromFiles<'_> {
    fn each<K: Watched>(&mut self) {
        for document in self.documents {
            if document.value.get("kind").and_then(Value::as_str) == Some(K::KIND.as_str())
                && let Ok(object) = serde_json::from_value::<K>(document.value.clone())
            {
                self.view.add(Arc::new(object));
            }
        }
    }
}

/// The cluster as the files describe it (every object, Secrets with their keys).
pub fn files_view(documents: &[Document]) -> MemoryView {
    let mut files = FromFiles {
        documents,
        view: MemoryView::empty(),
    };
    each_kind(&mut files);
    let mut view = files.view;
    view.secrets = Some(Default::default());
    for document in documents
        .iter()
        .filter(|d| d.value.get("kind").and_then(Value::as_str) == Some("Secret"))
    {
        let meta = &document.value["metadata"];
        let has_key = ["data", "stringData"].iter().any(|field| {
            document
                .value
                .get(field)
                .and_then(|values| values.get(CREDENTIALS_KEY))
                .is_some()
        });
        if let Some(name) = meta.get("name").and_then(Value::as_str) {
            let namespace = meta
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or("default");
            view = view.with_secret(namespace, name, has_key);
        }
    }
    view
}

/// Adds the lists of a snapshot to the files' view: a list that cannot be read fails the
/// command, except a CRD that is not installed, which the rules then see as unavailable.
struct AddLive<'a> {
    snapshot: &'a mut Snapshot,
    view: &'a mut MemoryView,
    failed: Option<CliError>,
}

impl Each for AddLive<'_> {
    fn each<K: Watched>(&mut self) {
        if self.failed.is_some() || K::KIND == ViewKind::K8ssandraCluster {
            return;
        }
        match self.snapshot.take::<K>() {
            Ok(objects) => {
                for object in objects {
                    self.view.add(Arc::new(object));
                }
            }
            Err(e) if e.is_crds_missing() => {
                self.view
                    .set::<K>(Err(format!("the {} CRD is not installed", K::KIND)));
            }
            Err(e) => self.failed = Some(e),
        }
    }
}

/// Every kind but the clusters, which the shared-prefix rule needs from every namespace.
const NAMESPACED: [ViewKind; 7] = [
    ViewKind::MedusaConfiguration,
    ViewKind::CassandraDatacenter,
    ViewKind::MedusaBackup,
    ViewKind::MedusaBackupJob,
    ViewKind::MedusaRestoreJob,
    ViewKind::MedusaTask,
    ViewKind::MedusaBackupSchedule,
];

async fn add_live(ctx: &Ctx, mut view: MemoryView, namespaces: &[String]) -> Result<MemoryView> {
    for namespace in namespaces {
        let mut snapshot =
            Snapshot::fetch(ctx, Scope::Namespace(namespace), &NAMESPACED, None).await?;
        let mut live = AddLive {
            snapshot: &mut snapshot,
            view: &mut view,
            failed: None,
        };
        each_kind(&mut live);
        if let Some(e) = live.failed {
            return Err(e);
        }
    }
    // Clusters in every namespace, for the shared-prefix rule; fall back to the namespaces.
    let clusters = match api::list::<K8ssandraCluster>(ctx, Scope::All, None).await {
        Ok(clusters) => clusters,
        Err(_) => {
            let mut clusters = Vec::new();
            for namespace in namespaces {
                clusters.extend(
                    api::list::<K8ssandraCluster>(ctx, Scope::Namespace(namespace), None)
                        .await
                        .unwrap_or_default(),
                );
            }
            clusters
        }
    };
    for cluster in clusters {
        view.add(Arc::new(cluster));
    }
    Ok(view)
}

/// Runs the rules on every document of ours; returns the findings.
pub async fn evaluate(
    documents: &[Document],
    view: &MemoryView,
    default_namespace: &str,
) -> Vec<Row> {
    let policy = Policy::default();
    let mut rows = Vec::new();
    for document in documents {
        let Some(kind) = kind_of(&document.value) else {
            continue;
        };
        let mut value = with_namespace(document.value.clone(), default_namespace);
        let namespace = value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(default_namespace)
            .to_owned();
        let name = value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let describe = format!("{kind} {namespace}/{name}");
        let Ok(raw) = serde_json::value::to_raw_value(&value) else {
            continue;
        };
        let parsed = ObjectText::parse(raw.get());
        let input = AdmissionInput {
            operation: AdmissionOperation::Create,
            kind,
            namespace: &namespace,
            name: &name,
            object: parsed.as_ref().ok(),
            old_object: None,
            defaulted: false,
        };
        if let Err(e) = &parsed {
            let decision = rules::unreadable(&input, &e.to_string());
            rows.extend(
                decision
                    .findings
                    .into_iter()
                    .map(|f| finding_row(document, &describe, f)),
            );
            continue;
        }
        // The API server runs mutating webhooks first: judge the mutated object.
        let mutation = rules::mutate(&input, view, &policy).await;
        for warning in &mutation.warnings {
            rows.push(Row {
                origin: document.origin.clone(),
                object: describe.clone(),
                rule: mutation.fired.first().map_or("-".into(), |r| r.to_string()),
                severity: "patch".into(),
                message: warning.clone(),
            });
        }
        let mutated = if !mutation.patch.is_empty() && mutation.apply(&mut value).is_ok() {
            serde_json::value::to_raw_value(&value).ok()
        } else {
            None
        };
        let judged = mutated.as_deref().unwrap_or(&raw);
        let Ok(judged) = ObjectText::parse(judged.get()) else {
            continue;
        };
        let decision = rules::validate(
            &AdmissionInput {
                object: Some(&judged),
                ..input
            },
            view,
            &policy,
        )
        .await;
        rows.extend(
            decision
                .findings
                .into_iter()
                .map(|f| finding_row(document, &describe, f)),
        );
    }
    rows
}

/// The row of a finding.
fn finding_row(document: &Document, describe: &str, finding: Finding) -> Row {
    Row {
        origin: document.origin.clone(),
        object: describe.to_owned(),
        rule: finding.rule.map_or("-".into(), |r| r.to_string()),
        severity: match finding.severity {
            Severity::Deny => "deny".into(),
            Severity::Warn => "warn".into(),
        },
        message: finding.message,
    }
}

/// Runs `validate`.
pub async fn run(ctx: &Ctx, args: ValidateArgs) -> Result<()> {
    let documents = read_documents(&args.files, args.recursive, || {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map(|_| text)
    })?;
    let ours = documents
        .iter()
        .filter(|d| kind_of(&d.value).is_some())
        .count();
    if ours == 0 {
        return Err(CliError::usage(
            "no Medusa object (MedusaBackupJob, MedusaRestoreJob, MedusaTask, MedusaBackupSchedule, MedusaConfiguration, MedusaBackup) or K8ssandraCluster in the given manifests",
        ));
    }
    let mut view = files_view(&documents);
    if args.cluster_view == ClusterView::Live {
        let mut namespaces: Vec<String> = documents
            .iter()
            .filter_map(|d| {
                d.value
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect();
        namespaces.push(ctx.namespace().to_owned());
        namespaces.sort();
        namespaces.dedup();
        view = add_live(ctx, view, &namespaces).await?;
    }
    let rows = evaluate(&documents, &view, ctx.namespace()).await;
    let denials = rows.iter().filter(|r| r.severity == "deny").count();
    if args.output == ListOutput::Json {
        ctx.out.write(&output::json(&rows)?)?;
    } else if rows.is_empty() {
        ctx.out
            .line(format!("{ours} object(s) checked: no finding."))?;
    } else {
        let body = rows
            .iter()
            .map(|r| {
                vec![
                    r.origin.clone().into(),
                    r.object.clone().into(),
                    r.rule.clone().into(),
                    match r.severity.as_str() {
                        "deny" => Column::colored("deny", comfy_table::Color::Red),
                        "warn" => Column::colored("warn", comfy_table::Color::Yellow),
                        other => Column::text(other),
                    },
                    r.message.clone().into(),
                ]
            })
            .collect();
        ctx.out.write(&table(
            &["file", "object", "rule", "result", "message"],
            body,
            ctx.color,
        ))?;
        ctx.err.line(format!(
            "{ours} object(s) checked: {denials} denial(s), {} other finding(s)",
            rows.len() - denials
        ))?;
    }
    if denials > 0 {
        return Err(CliError::Usage(format!(
            "{denials} denial(s) above: the webhook would refuse these objects; fix each as its message says"
        )));
    }
    Ok(())
}
