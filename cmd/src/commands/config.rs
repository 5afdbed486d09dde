//! `kubectl medusa config ...`.

use crate::cli::CreateArgs;
use crate::cli::wire_values;
use clap::{Args, Subcommand};
use medusa_crds::operator::secret_has_credentials;
use std::collections::BTreeMap;
use std::path::PathBuf;

use k8s_openapi::api::core::v1::Secret;
use medusa_crds::merge::FieldSource;
use medusa_crds::rules::ResourceKind;
use medusa_crds::status::{ConfigurationState, configuration_state};
use medusa_crds::*;
use serde_json::Value;

use super::{delete_named, fields, print_as_data, print_object, print_unless_table, submit};
use crate::api::{self, Scope};
use crate::checks;
use crate::cli::{DeleteArgs, DryRun, ListOutput, NameArgs, ObjectOutput, SimpleListArgs};
use crate::context::Ctx;
use crate::error::{CliError, Result};
use crate::manifest;
use crate::output::{self, Column, table};

// === The command line ===

/// `kubectl medusa config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Create a MedusaConfiguration (and its credentials Secret with --credentials-file).
    Create(ConfigCreateArgs),
    /// List configurations.
    #[command(alias = "ls")]
    List(SimpleListArgs),
    /// A configuration: storage, secret, retention, conditions, users.
    Describe(NameArgs),
    /// Delete a configuration.
    Delete(DeleteArgs),
    /// Secret present with its `credentials` key, conditions, who uses it.
    Check(NameArgs),
    /// The merged storage the operator will use for a K8ssandraCluster.
    Effective(EffectiveArgs),
}

/// `config create`.
#[derive(Debug, Args)]
pub struct ConfigCreateArgs {
    /// Name of the configuration.
    pub name: String,
    /// Storage provider.
    #[arg(long, value_parser = wire_values(StorageProvider::KNOWN, StorageProvider::from_wire))]
    pub provider: StorageProvider,
    /// Bucket.
    #[arg(long)]
    pub bucket: String,
    /// Region.
    #[arg(long)]
    pub region: Option<String>,
    /// Endpoint host (s3_compatible, s3_rgw).
    #[arg(long)]
    pub host: Option<String>,
    /// Endpoint port.
    #[arg(long)]
    pub port: Option<i64>,
    /// Use TLS to the endpoint.
    #[arg(long)]
    pub secure: bool,
    /// Verify the endpoint's certificate.
    #[arg(long)]
    pub ssl_verify: bool,
    /// An existing Secret with a `credentials` key.
    #[arg(long, conflicts_with_all = ["credentials_file", "role_based"])]
    pub secret: Option<String>,
    /// Create the Secret from this file (the provider's credentials file format).
    #[arg(long, conflicts_with = "role_based", value_name = "FILE")]
    pub credentials_file: Option<PathBuf>,
    /// Use the pods' cloud identity (IRSA, workload identity) instead of a Secret.
    #[arg(long)]
    pub role_based: bool,
    /// Maximum backup age in days for purges (0: unlimited).
    #[arg(long)]
    pub max_backup_age: Option<i64>,
    /// Maximum number of backups kept by purges (0: unlimited).
    #[arg(long)]
    pub max_backup_count: Option<i64>,
    /// Creation.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `config effective`.
#[derive(Debug, Args)]
pub struct EffectiveArgs {
    /// The K8ssandraCluster. (Its id is not `cluster`: that is the global `--cluster`.)
    #[arg(value_name = "K8SSANDRACLUSTER")]
    pub k8ssandra_cluster: String,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ListOutput::Table)]
    pub output: ListOutput,
}

/// Runs a config command.
pub async fn run(ctx: &Ctx, command: ConfigCommand) -> Result<()> {
    match command {
        ConfigCommand::Create(args) => create(ctx, args).await,
        ConfigCommand::List(args) => list(ctx, args).await,
        ConfigCommand::Describe(args) => describe(ctx, args, false).await,
        ConfigCommand::Delete(args) => delete(ctx, args).await,
        ConfigCommand::Check(args) => describe(ctx, args, true).await,
        ConfigCommand::Effective(args) => effective(ctx, args).await,
    }
}

async fn create(ctx: &Ctx, args: ConfigCreateArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let provider = args.provider.clone();
    if provider.needs_host() && args.host.is_none() {
        return Err(CliError::usage(format!(
            "--provider {provider} needs --host (the endpoint of your object store)"
        )));
    }
    if args.secret.is_none() && args.credentials_file.is_none() && !args.role_based {
        return Err(CliError::usage(
            "say how Medusa authenticates: --secret NAME (an existing Secret with a `credentials` key), --credentials-file FILE (creates that Secret), or --role-based (the pods' cloud identity)",
        ));
    }
    let secret_name = args.secret.clone().or_else(|| {
        args.credentials_file
            .as_ref()
            .map(|_| format!("{}-credentials", args.name))
    });
    let labels: BTreeMap<String, String> = args
        .create
        .labels
        .iter()
        .cloned()
        .chain([(
            naming::MANAGED_BY_LABEL.to_owned(),
            naming::MANAGED_BY.to_owned(),
        )])
        .collect();
    let configuration = manifest::configuration(
        &args.name,
        &namespace,
        storage_of(&args, secret_name.as_deref()),
        labels.clone(),
    );
    let secret = match &args.credentials_file {
        Some(path) => Some(credentials_secret(
            path,
            &provider,
            secret_name.as_deref().unwrap_or_default(),
            &namespace,
            labels,
        )?),
        None => None,
    };
    let client_dry_run = args.create.dry_run() == Some(DryRun::Client);
    if !client_dry_run {
        let mut view =
            checks::namespace_view(ctx, &namespace, ResourceKind::MedusaConfiguration).await?;
        match (&secret, &args.secret) {
            (Some(_), _) => {
                view =
                    view.with_secret(&namespace, secret_name.as_deref().unwrap_or_default(), true)
            }
            (None, Some(existing)) => view = view.fetch_secret(ctx, &namespace, existing).await,
            (None, None) => {}
        }
        checks::run_rules(ctx, &configuration, &view).await?;
    }
    match secret {
        Some(secret) if client_dry_run => print_dry_run(ctx, &secret, &configuration, &args),
        secret => {
            if let Some(secret) = secret {
                submit::<Secret>(ctx, secret, &args.create, false).await?;
            }
            submit(ctx, configuration, &args.create, false)
                .await
                .map(|_| ())
        }
    }
}

/// The storage properties the options describe.
fn storage_of(args: &ConfigCreateArgs, secret_name: Option<&str>) -> Storage {
    Storage {
        storage_provider: Some(args.provider.clone()),
        bucket_name: Some(args.bucket.clone()),
        region: args.region.clone(),
        host: args.host.clone(),
        port: args.port,
        secure: args.secure.then_some(true),
        ssl_verify: args.ssl_verify.then_some(true),
        storage_secret_ref: secret_name.map(SecretRef::named),
        credentials_type: Some(if args.role_based {
            CredentialsType::RoleBased
        } else {
            CredentialsType::CredentialBased
        }),
        max_backup_age: args.max_backup_age,
        max_backup_count: args.max_backup_count,
        ..Storage::default()
    }
}

/// The Secret of `--credentials-file`, once its contents look like the provider's credentials.
fn credentials_secret(
    path: &std::path::Path,
    provider: &StorageProvider,
    name: &str,
    namespace: &str,
    labels: BTreeMap<String, String>,
) -> Result<Secret> {
    let contents = std::fs::read_to_string(path).map_err(|e| {
        CliError::usage(format!(
            "cannot read --credentials-file {}: {e}",
            path.display()
        ))
    })?;
    if let Some(problem) = manifest::credentials_problem(provider, &contents) {
        return Err(CliError::usage(format!(
            "--credentials-file {} does not look like {provider} credentials: {problem}",
            path.display()
        )));
    }
    Ok(manifest::credentials_secret(
        name, namespace, &contents, labels,
    ))
}

/// `--dry-run=client` with a Secret to create: the Secret holds the credentials, so it is
/// printed with its data on standard output only, for GitOps users to seal or encrypt it (as
/// `kubectl create secret --dry-run` does).
fn print_dry_run(
    ctx: &Ctx,
    secret: &Secret,
    configuration: &MedusaConfiguration,
    args: &ConfigCreateArgs,
) -> Result<()> {
    match args.create.output {
        Some(ObjectOutput::Json) => ctx.out.write(&output::json(&serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": [secret, configuration],
        }))?),
        format => {
            let format = format.unwrap_or(ObjectOutput::Yaml);
            print_object(ctx, secret, format)?;
            if format == ObjectOutput::Yaml {
                ctx.out.write("---\n")?;
            }
            print_object(ctx, configuration, format)
        }
    }
}

async fn users(ctx: &Ctx, namespace: &str, name: &str) -> Result<Vec<String>> {
    Ok(
        api::list::<K8ssandraCluster>(ctx, Scope::Namespace(namespace), None)
            .await?
            .into_iter()
            .filter(|c| c.spec.medusa.as_ref().and_then(|m| m.configuration_name()) == Some(name))
            .filter_map(|c| c.metadata.name)
            .collect(),
    )
}

fn yes_no(value: Option<bool>) -> String {
    match value {
        Some(true) => "True".into(),
        Some(false) => "False".into(),
        None => "<none>".into(),
    }
}

async fn list(ctx: &Ctx, args: SimpleListArgs) -> Result<()> {
    let configurations =
        api::list::<MedusaConfiguration>(ctx, ctx.scope(), args.selector.as_deref()).await?;
    if print_unless_table(ctx, &configurations, args.output, "MedusaConfigurations")? {
        return Ok(());
    }
    let clusters = api::list::<K8ssandraCluster>(ctx, ctx.scope(), None)
        .await
        .unwrap_or_default();
    let rows = configurations
        .iter()
        .map(|c| {
            let storage = c.storage();
            let state = configuration_state(c);
            let namespace = c.metadata.namespace.clone().unwrap_or_default();
            let name = c.metadata.name.clone().unwrap_or_default();
            let used_by = clusters
                .iter()
                .filter(|k| k.metadata.namespace.as_deref() == Some(namespace.as_str()))
                .filter(|k| {
                    k.spec.medusa.as_ref().and_then(|m| m.configuration_name())
                        == Some(name.as_str())
                })
                .count();
            vec![
                Column::text(name),
                storage
                    .storage_provider
                    .as_ref()
                    .map_or("<none>".into(), ToString::to_string)
                    .into(),
                storage.bucket().unwrap_or("<none>").into(),
                storage
                    .secret_name()
                    .map_or_else(
                        || {
                            if storage.is_role_based() {
                                "role-based".to_owned()
                            } else {
                                "<none>".to_owned()
                            }
                        },
                        str::to_owned,
                    )
                    .into(),
                format!(
                    "age {} / count {}",
                    storage.max_backup_age.unwrap_or(0),
                    storage.max_backup_count.unwrap_or(0)
                )
                .into(),
                yes_no(state.ready).into(),
                used_by.to_string().into(),
            ]
        })
        .collect();
    ctx.out.write(&table(
        &[
            "name",
            "provider",
            "bucket",
            "secret",
            "retention",
            "ready",
            "clusters",
        ],
        rows,
        ctx.color,
    ))
}

async fn describe(ctx: &Ctx, args: NameArgs, check: bool) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let configuration = api::get::<MedusaConfiguration>(ctx, &namespace, &args.name).await?;
    if !check && print_as_data(ctx, &configuration, args.output)? {
        return Ok(());
    }
    let storage = configuration.storage();
    let state = configuration_state(&configuration);
    let used_by = users(ctx, &namespace, &args.name).await.unwrap_or_default();
    let mut problems = Vec::new();
    let secret_line = secret_line(ctx, &namespace, &storage, &mut problems).await?;
    let mut text = describe_fields(
        &args.name,
        &namespace,
        &storage,
        secret_line,
        &state,
        &used_by,
    );
    if let Some(message) = &state.secret_message {
        text.push_str(&format!("\nOperator message: {message}\n"));
    }
    problems.extend(state.anomalies.iter().map(ToString::to_string));
    if let Some(prefix) = storage.prefix() {
        problems.push(format!(
            "prefix {prefix:?} is never used: each K8ssandraCluster sets its own"
        ));
    }
    if !problems.is_empty() {
        text.push_str("\nProblems:\n");
        for problem in &problems {
            text.push_str(&format!("  - {problem}\n"));
        }
    }
    ctx.out.write(&text)?;
    if check && !problems.is_empty() {
        return Err(CliError::Failed(format!(
            "MedusaConfiguration {namespace}/{} has {} problem(s)",
            args.name,
            problems.len()
        )));
    }
    Ok(())
}

/// The fields of `config describe`.
fn describe_fields(
    name: &str,
    namespace: &str,
    storage: &Storage,
    secret_line: String,
    state: &ConfigurationState,
    used_by: &[String],
) -> String {
    fields(&[
        ("Name", name.to_owned()),
        ("Namespace", namespace.to_owned()),
        (
            "Provider",
            storage
                .storage_provider
                .as_ref()
                .map_or("<none>".into(), ToString::to_string),
        ),
        ("Bucket", storage.bucket().unwrap_or("<none>").to_owned()),
        (
            "Region",
            storage.region.clone().unwrap_or_else(|| "<none>".into()),
        ),
        (
            "Host",
            storage.host().map_or("<none>".into(), |h| {
                format!(
                    "{h}{}",
                    storage.port.map_or(String::new(), |p| format!(":{p}"))
                )
            }),
        ),
        ("Secret", secret_line),
        (
            "Retention",
            format!(
                "maxBackupAge {} day(s), maxBackupCount {} (0: unlimited)",
                storage.max_backup_age.unwrap_or(0),
                storage.max_backup_count.unwrap_or(0)
            ),
        ),
        ("Ready", yes_no(state.ready)),
        ("SecretAvailable", yes_no(state.secret_available)),
        (
            "Used by",
            if used_by.is_empty() {
                "<none>".into()
            } else {
                used_by.join(", ")
            },
        ),
    ])
}

/// The storage Secret as `describe` shows it; what is wrong with it goes to `problems`.
async fn secret_line(
    ctx: &Ctx,
    namespace: &str,
    storage: &Storage,
    problems: &mut Vec<String>,
) -> Result<String> {
    let Some(secret) = storage.secret_name() else {
        if storage.is_role_based() {
            return Ok("none: role-based credentials".into());
        }
        problems.push("no storage Secret and no role-based credentials: every K8ssandraCluster using it must add them".into());
        return Ok("<none>".into());
    };
    Ok(match api::get_opt::<Secret>(ctx, namespace, secret).await {
        Ok(Some(found)) => {
            let has_key = secret_has_credentials(&found);
            drop(found);
            if has_key {
                format!("{secret} (present, with a `credentials` key)")
            } else {
                problems.push(format!("Secret {secret} has no `credentials` key: Medusa reads /etc/medusa-secrets/credentials"));
                format!("{secret} (present, NO `credentials` key)")
            }
        }
        Ok(None) => {
            problems.push(format!(
                "Secret {secret} not found in namespace {namespace}"
            ));
            format!("{secret} (NOT FOUND)")
        }
        Err(e) if e.is_forbidden() => format!("{secret} (cannot be read with your permissions)"),
        Err(e) => return Err(e),
    })
}

async fn delete(ctx: &Ctx, args: DeleteArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    for name in &args.names {
        api::get::<MedusaConfiguration>(ctx, &namespace, name).await?;
        let used_by = users(ctx, &namespace, name).await?;
        if !used_by.is_empty() {
            return Err(CliError::Failed(format!(
                "MedusaConfiguration {namespace}/{name} is used by K8ssandraCluster {}: their next reconcile would fail; point them at another configuration first",
                used_by.join(", ")
            )));
        }
    }
    delete_named::<MedusaConfiguration>(
        ctx,
        &args.names,
        &format!(
            "Delete MedusaConfiguration(s) {} in namespace {namespace}?",
            args.names.join(", ")
        ),
        args.yes,
    )
    .await
}

fn display(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "<none>".into(),
        Some(Value::String(s)) if s.is_empty() => "\"\"".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

async fn effective(ctx: &Ctx, args: EffectiveArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let cluster = api::get::<K8ssandraCluster>(ctx, &namespace, &args.k8ssandra_cluster).await?;
    let medusa = cluster.spec.medusa.clone().ok_or_else(|| {
        CliError::Failed(format!(
            "K8ssandraCluster {namespace}/{} has no spec.medusa: Medusa is not enabled on it",
            args.k8ssandra_cluster
        ))
    })?;
    let configuration = match medusa.configuration_name() {
        Some(name) => Some(api::get_opt::<MedusaConfiguration>(ctx, &namespace, name).await?.ok_or_else(|| {
            CliError::NotFound(format!(
                "K8ssandraCluster {namespace}/{} references MedusaConfiguration {name:?}, which does not exist: the operator cannot merge its storage",
                args.k8ssandra_cluster
            ))
        })?),
        None => None,
    };
    let effective = cluster.effective_storage(configuration.as_ref(), true);
    if matches!(args.output, ListOutput::Json | ListOutput::Yaml) {
        let value = serde_json::json!({"cluster": args.k8ssandra_cluster, "configuration": medusa.configuration_name(), "effective": effective});
        return ctx.out.write(&if args.output == ListOutput::Json {
            output::json(&value)?
        } else {
            output::yaml(&value)?
        });
    }
    let merged = serde_json::to_value(&effective.storage).unwrap_or(Value::Null);
    let mut rows = Vec::new();
    for (field, source) in &effective.sources {
        let value = if field == "prefix" {
            Some(Value::String(effective.prefix.clone()))
        } else {
            merged
                .pointer(&format!("/{}", field.replace('.', "/")))
                .cloned()
        };
        let source_text = match source {
            FieldSource::Configuration => format!(
                "configuration {}",
                medusa.configuration_name().unwrap_or("")
            ),
            other => other.to_string(),
        };
        rows.push(vec![
            Column::text(field.clone()),
            display(value.as_ref()).into(),
            source_text.into(),
        ]);
    }
    ctx.out
        .write(&table(&["field", "value", "source"], rows, ctx.color))?;
    ctx.out.line(format!(
        "\nmedusa.ini prefix: {}   secret: {}   credentials: {}",
        effective.prefix,
        effective.storage.secret_name().unwrap_or("<none>"),
        if effective.storage.is_role_based() {
            "role-based"
        } else {
            "credential-based"
        }
    ))?;
    if !effective.traps.is_empty() {
        ctx.out.line("\nMerge traps:")?;
        for trap in &effective.traps {
            ctx.out.line(format!("  - {trap}"))?;
        }
    }
    Ok(())
}
