//! `kubectl medusa version`.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::ListParams;
use serde::Serialize;

use crate::cli::{ListOutput, VersionArgs};
use crate::context::Ctx;
use crate::error::Result;
use crate::output;

/// The Medusa kinds and the version this plugin speaks.
const SPOKEN: &str = "v1alpha1";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Versions {
    plugin: &'static str,
    operator: Option<String>,
    served_medusa_versions: Option<Vec<String>>,
    plugin_speaks: &'static str,
}

async fn operator_version(client: &kube::Client) -> Option<String> {
    let api: kube::Api<Deployment> = kube::Api::all(client.clone());
    for selector in [
        "app.kubernetes.io/name=k8ssandra-operator",
        "control-plane=k8ssandra-operator",
    ] {
        let Ok(list) = api.list(&ListParams::default().labels(selector)).await else {
            continue;
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
                return Some(image.rsplit(':').next().unwrap_or(&image).to_owned());
            }
        }
    }
    None
}

/// Runs `version`.
pub async fn run(ctx: &Ctx, args: VersionArgs) -> Result<()> {
    let mut versions = Versions {
        plugin: env!("CARGO_PKG_VERSION"),
        operator: None,
        served_medusa_versions: None,
        plugin_speaks: SPOKEN,
    };
    let mut unreachable = None;
    if !args.client {
        match ctx.client().await {
            Ok(client) => {
                versions.operator = operator_version(client).await;
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
        .line(format!("kubectl-medusa: {}", versions.plugin))?;
    if args.client {
        return Ok(());
    }
    if let Some(reason) = unreachable {
        ctx.out.line(format!("cluster: unreachable ({reason})"))?;
        return Ok(());
    }
    ctx.out.line(format!(
        "k8ssandra-operator: {}",
        versions.operator.as_deref().unwrap_or("unknown (its Deployment cannot be listed with your permissions, or it is named differently)")
    ))?;
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
