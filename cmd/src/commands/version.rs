//! `kubectl medusa version`.

use clap::Args;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::ListParams;
use serde::Serialize;

use crate::cli::ListOutput;
use crate::context::Ctx;
use crate::error::Result;
use crate::output;

// === The command line ===

/// `kubectl medusa version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Only the plugin's version, without contacting the cluster.
    #[arg(long)]
    pub client: bool,
    /// Output format (table or json).
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

/// The Medusa kinds and the version this plugin speaks.
const SPOKEN: &str = "v1alpha1";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Versions {
    plugin: &'static str,
    commit: &'static str,
    operator: Option<String>,
    served_medusa_versions: Option<Vec<String>>,
    plugin_speaks: &'static str,
}

/// What the search for the operator's Deployment found.
#[derive(Debug)]
enum OperatorSearch {
    /// Its image tag.
    Found(String),
    /// Listed, and none of the Deployments is the operator.
    NotInstalled,
    /// The API server refused to list Deployments across namespaces (403).
    Forbidden,
    /// Any other failure.
    Failed(String),
}

/// The labels the operator's Deployment carries: its Helm chart's, then its kustomize base's.
const OPERATOR_SELECTORS: [&str; 2] = [
    "app.kubernetes.io/name=k8ssandra-operator",
    "control-plane=k8ssandra-operator",
];

async fn operator_version(client: &kube::Client) -> OperatorSearch {
    let api: kube::Api<Deployment> = kube::Api::all(client.clone());
    for selector in OPERATOR_SELECTORS {
        let list = match api.list(&ListParams::default().labels(selector)).await {
            Ok(list) => list,
            Err(kube::Error::Api(status)) if status.code == 403 => {
                return OperatorSearch::Forbidden;
            }
            Err(e) => return OperatorSearch::Failed(e.to_string()),
        };
        for deployment in list.items {
            let image = deployment
                .spec
                .and_then(|s| s.template.spec)
                .and_then(|s| {
                    s.containers.into_iter().find(|c| {
                        c.image
                            .as_deref()
                            .is_some_and(|i| i.contains("k8ssandra-operator"))
                    })
                })
                .and_then(|c| c.image);
            if let Some(image) = image {
                return OperatorSearch::Found(
                    image.rsplit(':').next().unwrap_or(&image).to_owned(),
                );
            }
        }
    }
    OperatorSearch::NotInstalled
}

impl OperatorSearch {
    fn version(&self) -> Option<String> {
        match self {
            Self::Found(version) => Some(version.clone()),
            _ => None,
        }
    }

    fn line(&self) -> String {
        match self {
            Self::Found(version) => version.clone(),
            Self::NotInstalled => format!(
                "not found: no Deployment labelled {} or {} in any namespace; install k8ssandra-operator, or check its labels",
                OPERATOR_SELECTORS[0], OPERATOR_SELECTORS[1]
            ),
            Self::Forbidden => "unknown: you cannot list Deployments in all namespaces (you need list on deployments.apps cluster-wide)".to_owned(),
            Self::Failed(error) => format!("unknown: listing Deployments failed ({error})"),
        }
    }
}

/// Runs `version`.
pub async fn run(ctx: &Ctx, args: VersionArgs) -> Result<()> {
    let mut versions = Versions {
        plugin: env!("CARGO_PKG_VERSION"),
        commit: crate::COMMIT,
        operator: None,
        served_medusa_versions: None,
        plugin_speaks: SPOKEN,
    };
    let mut unreachable = None;
    let mut operator = OperatorSearch::NotInstalled;
    if !args.client {
        match ctx.client().await {
            Ok(client) => {
                operator = operator_version(client).await;
                versions.operator = operator.version();
                match kube::discovery::group(client, "medusa.k8ssandra.io").await {
                    Ok(group) => {
                        versions.served_medusa_versions =
                            Some(group.versions().map(str::to_owned).collect())
                    }
                    Err(kube::Error::Api(status)) if status.code == 404 => {
                        versions.served_medusa_versions = Some(Vec::new())
                    }
                    Err(kube::Error::Discovery(kube::error::DiscoveryError::MissingApiGroup(
                        _,
                    ))) => versions.served_medusa_versions = Some(Vec::new()),
                    Err(e) => unreachable = Some(e.to_string()),
                }
            }
            Err(e) => unreachable = Some(e.to_string()),
        }
    }
    if args.output == ListOutput::Json {
        return ctx.out.write(&output::json(&versions)?);
    }
    ctx.out
        .line(format!("kubectl-medusa: {}", crate::version()))?;
    if args.client {
        return Ok(());
    }
    if let Some(reason) = unreachable {
        ctx.out.line(format!("cluster: unreachable ({reason})"))?;
        return Ok(());
    }
    ctx.out
        .line(format!("k8ssandra-operator: {}", operator.line()))?;
    match &versions.served_medusa_versions {
        Some(served) if served.is_empty() => ctx.out.line(
            "medusa.k8ssandra.io: not served: Medusa CRDs not found: is k8ssandra-operator installed with Medusa enabled?",
        )?,
        Some(served) => {
            ctx.out.line(format!("medusa.k8ssandra.io served versions: {}", served.join(", ")))?;
            if !served.iter().any(|v| v == SPOKEN) {
                ctx.out.line(format!("warning: this plugin speaks {SPOKEN}, which the cluster does not serve"))?;
            }
        }
        None => {}
    }
    Ok(())
}
