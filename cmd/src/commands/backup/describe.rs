//! `backup describe` and `backup watch`.

use super::*;

/// What `describe -o json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Description<'a> {
    backup: &'a BackupRow,
    job: Option<&'a MedusaBackupJob>,
    record: Option<&'a MedusaBackup>,
    restores: Vec<&'a MedusaRestoreJob>,
}

pub(super) async fn describe(ctx: &Ctx, args: NameArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let job = api::get_opt::<MedusaBackupJob>(ctx, &namespace, &args.name).await?;
    let record = api::get_opt::<MedusaBackup>(ctx, &namespace, &args.name).await?;
    if job.is_none() && record.is_none() {
        return Err(CliError::NotFound(format!(
            "backup {:?} not found in namespace {namespace}: no MedusaBackupJob or MedusaBackup of that name; list them with kubectl medusa backup list",
            args.name
        )));
    }
    let row = backup_rows(
        job.clone().into_iter().collect(),
        record.clone().into_iter().collect(),
        ctx.now,
    )
    .into_iter()
    .next()
    .ok_or_else(|| CliError::NotFound(format!("backup {:?} not found", args.name)))?;
    let restores: Vec<MedusaRestoreJob> =
        api::list::<MedusaRestoreJob>(ctx, Scope::Namespace(&namespace), None)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.spec.backup == args.name)
            .collect();
    let description = Description {
        backup: &row,
        job: job.as_ref(),
        record: record.as_ref(),
        restores: restores.iter().collect(),
    };
    if print_as_data(ctx, &description, args.output)? {
        return Ok(());
    }
    ctx.out.write(&describe_text(ctx, &row, &restores))
}

/// The text of `backup describe`.
pub fn describe_text(ctx: &Ctx, row: &BackupRow, restores: &[MedusaRestoreJob]) -> String {
    let status = &row.status;
    let mut text = fields(&[
        ("Name", row.name.clone()),
        ("Namespace", row.namespace.clone()),
        ("Datacenter", row.datacenter.clone()),
        ("Type", row.backup_type.clone()),
        ("Origin", format!("{:?}", row.origin).to_lowercase()),
        ("Status", status.phase.to_string()),
        (
            "Reason",
            status.reason.clone().unwrap_or_else(|| "<none>".into()),
        ),
        (
            "Progress",
            status.progress.map_or("<none>".into(), |p| p.to_string()),
        ),
        ("Started", when(ctx.now, row.started())),
        ("Finished", when(ctx.now, row.finished())),
        ("Duration", took(status.duration())),
        (
            "Nodes",
            row.nodes
                .map_or("<none>".into(), |(d, t)| format!("{d}/{t} completed")),
        ),
        (
            "Files",
            row.files.map_or("<none>".into(), |f| f.to_string()),
        ),
        (
            "Size",
            match (&row.size, &row.backup, row.origin) {
                (Some(size), _, _) => size.clone(),
                (None, None, _) => "<none> (no MedusaBackup record)".into(),
                (None, Some(_), catalog::Origin::Sync) => {
                    "<none> (imported by a sync: Medusa's summary has no size)".into()
                }
                (None, Some(_), catalog::Origin::Job) => "<none>".into(),
            },
        ),
    ]);
    text.push_str(&pods_section(ctx, row));
    text.push_str(&topology_section(ctx, row));
    text.push_str(&restores_section(ctx, restores));
    if !status.anomalies.is_empty() {
        text.push_str("\nAnomalies:\n");
        for anomaly in &status.anomalies {
            text.push_str(&format!("  - {}: {anomaly}\n", anomaly.code()));
        }
    }
    text.push_str("\nNext steps:\n");
    for step in next_steps(row) {
        text.push_str(&format!("  - {step}\n"));
    }
    text
}

/// The job's pods and their states.
fn pods_section(ctx: &Ctx, row: &BackupRow) -> String {
    let Some(job) = &row.job else {
        return String::new();
    };
    let s = job.status.clone().unwrap_or_default();
    let mut pods: Vec<Vec<Column>> = Vec::new();
    for (list, phase) in [
        (s.finished(), Phase::Succeeded),
        (s.failed(), Phase::Failed),
        (s.in_progress(), Phase::Running),
    ] {
        for p in list {
            pods.push(vec![p.clone().into(), Column::phase(phase)]);
        }
    }
    if pods.is_empty() {
        return String::new();
    }
    format!(
        "\nPods:\n{}",
        indent(&table(&["pod", "state"], pods, ctx.color))
    )
}

/// The record's nodes: host, rack, datacenter and token count.
fn topology_section(ctx: &Ctx, row: &BackupRow) -> String {
    let Some(record) = row.backup.as_ref().and_then(|b| b.status.as_ref()) else {
        return String::new();
    };
    let nodes: Vec<Vec<Column>> = record
        .nodes()
        .iter()
        .map(|n| {
            vec![
                n.host.clone().unwrap_or_default().into(),
                n.rack.clone().unwrap_or_default().into(),
                n.datacenter.clone().unwrap_or_default().into(),
                n.tokens.as_ref().map_or(0, Vec::len).to_string().into(),
            ]
        })
        .collect();
    if nodes.is_empty() {
        return String::new();
    }
    format!(
        "\nTopology:\n{}",
        indent(&table(
            &["host", "rack", "datacenter", "tokens"],
            nodes,
            ctx.color,
        ))
    )
}

/// The restores made from this backup.
fn restores_section(ctx: &Ctx, restores: &[MedusaRestoreJob]) -> String {
    if restores.is_empty() {
        return "\nRestores from this backup:\n  <none>\n".to_owned();
    }
    let rows = restores
        .iter()
        .map(|r| {
            let s = status::restore_status(r, None, ctx.now, Graces::default());
            vec![
                r.metadata.name.clone().unwrap_or_default().into(),
                r.spec.cassandra_datacenter.clone().into(),
                Column::phase(s.phase),
                age(ctx.now, s.started).into(),
            ]
        })
        .collect();
    format!(
        "\nRestores from this backup:\n{}",
        indent(&table(
            &["name", "datacenter", "status", "started"],
            rows,
            ctx.color,
        ))
    )
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

fn next_steps(row: &BackupRow) -> Vec<String> {
    let ns = &row.namespace;
    match row.status.phase {
        Phase::Succeeded if row.restorable() => vec![
            format!(
                "check a restore first: kubectl medusa restore preflight --dc {} --backup {} -n {ns}",
                row.datacenter, row.name
            ),
            format!(
                "restore it: kubectl medusa restore create --dc {} --backup {} -n {ns}",
                row.datacenter, row.name
            ),
        ],
        Phase::Succeeded => {
            vec!["not every node completed this backup: restore another one".into()]
        }
        Phase::Running | Phase::Pending => vec![format!(
            "follow it: kubectl medusa backup watch {} -n {ns}",
            row.name
        )],
        Phase::Failed => {
            let mut steps = vec![format!(
                "take another backup: kubectl medusa backup create --dc {} -n {ns}",
                row.datacenter
            )];
            if row.origin == catalog::Origin::Job {
                let pods = if row.status.pods.is_empty() {
                    String::new()
                } else {
                    format!(" of the failed pods ({})", row.status.pods.join(", "))
                };
                steps.push(format!(
                    "see why in Medusa's logs{pods}: kubectl medusa logs backup {} -n {ns}",
                    row.name
                ));
            }
            steps
        }
        Phase::Unknown => vec![format!(
            "see whether a restore would accept it: kubectl medusa restore preflight --dc {} --backup {} -n {ns}",
            row.datacenter, row.name
        )],
    }
}

pub(super) async fn watch(ctx: &Ctx, args: BackupWatchArgs) -> Result<()> {
    let BackupWatchArgs {
        watch: args,
        record,
    } = args;
    let namespace = ctx.namespace().to_owned();
    if api::get_opt::<MedusaBackupJob>(ctx, &namespace, &args.name)
        .await?
        .is_none()
    {
        return Err(CliError::NotFound(format!(
            "MedusaBackupJob {:?} not found in namespace {namespace}; list backups with kubectl medusa backup list",
            args.name
        )));
    }
    follow_backups(
        ctx,
        vec![ObjectKey::new(namespace, args.name.clone())],
        args.timeout,
        record.graces(),
        args.output,
    )
    .await?;
    if args.output.is_none() {
        ctx.out.line(format!("backup {} succeeded", args.name))?;
    }
    Ok(())
}
