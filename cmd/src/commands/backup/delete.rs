//! `backup delete` and `backup latest`.

use super::*;

/// The backups a delete selects.
fn select_for_delete(
    ctx: &Ctx,
    backups: Vec<MedusaBackup>,
    args: &BackupDeleteArgs,
) -> Result<Vec<MedusaBackup>> {
    let mut selected: Vec<MedusaBackup> = backups
        .into_iter()
        .filter(|b| {
            args.names.is_empty()
                || args
                    .names
                    .iter()
                    .any(|n| b.metadata.name.as_ref() == Some(n))
        })
        .filter(|b| {
            args.dc
                .as_ref()
                .is_none_or(|dc| &b.spec.cassandra_datacenter == dc)
        })
        .collect();
    if let Some(older) = args.older_than {
        let older =
            Duration::from_std(older).map_err(|e| CliError::usage(format!("--older-than: {e}")))?;
        selected.retain(|b| catalog::record_started(b).is_some_and(|t| ctx.now - t > older));
    }
    if let Some(keep) = args.keep_last {
        // Per datacenter: keep the newest `keep`.
        let mut by_dc: std::collections::BTreeMap<String, Vec<MedusaBackup>> = Default::default();
        for b in selected {
            by_dc
                .entry(b.spec.cassandra_datacenter.clone())
                .or_default()
                .push(b);
        }
        selected = by_dc
            .into_values()
            .flat_map(|mut list| {
                list.sort_by_key(|b| Reverse(catalog::record_started(b)));
                list.into_iter().skip(keep)
            })
            .collect();
    }
    Ok(selected)
}

pub(super) async fn delete(ctx: &Ctx, args: BackupDeleteArgs) -> Result<()> {
    need_targets(
        !args.names.is_empty()
            || args.selector.is_some()
            || args.older_than.is_some()
            || args.keep_last.is_some(),
        "backups to delete",
    )?;
    let namespace = ctx.namespace().to_owned();
    let backups =
        api::list::<MedusaBackup>(ctx, Scope::Namespace(&namespace), args.selector.as_deref())
            .await?;
    for name in &args.names {
        if !backups
            .iter()
            .any(|b| b.metadata.name.as_ref() == Some(name))
        {
            return Err(CliError::NotFound(format!(
                "MedusaBackup {name:?} not found in namespace {namespace}"
            )));
        }
    }
    let selected = select_for_delete(ctx, backups, &args)?;
    let names: Vec<String> = selected
        .iter()
        .filter_map(|b| b.metadata.name.clone())
        .collect();
    if names.is_empty() {
        ctx.err.line("No backup matches: nothing to delete.")?;
        return Ok(());
    }
    let explanation = "This deletes the MedusaBackup records (and their MedusaBackupJobs) only: the backups stay in the bucket, and the next sync brings the records back. To delete backups from storage, set maxBackupCount or maxBackupAge and run kubectl medusa purge.";
    ctx.err.line(explanation)?;
    if args.dry_run {
        for name in &names {
            ctx.out.line(format!(
                "medusabackup.medusa.k8ssandra.io/{name} would be deleted (dry run)"
            ))?;
        }
        return Ok(());
    }
    ctx.confirm(
        &format!(
            "Delete {} backup record(s) in namespace {namespace}: {}?",
            names.len(),
            names.join(", ")
        ),
        args.yes,
    )?;
    for name in &names {
        api::delete::<MedusaBackup>(ctx, &namespace, name).await?;
        match api::delete::<MedusaBackupJob>(ctx, &namespace, name).await {
            Err(e) if !e.is_not_found() => return Err(e),
            _ => {}
        }
        ctx.out
            .line(format!("medusabackup.medusa.k8ssandra.io/{name} deleted"))?;
    }
    Ok(())
}

pub(super) async fn latest_command(ctx: &Ctx, args: BackupLatestArgs) -> Result<()> {
    let namespace = ctx.namespace().to_owned();
    let all = rows(ctx, None).await?;
    let Some(row) = latest(&all, &args.dc) else {
        return Err(CliError::NotFound(format!(
            "no successful backup of datacenter {} in namespace {namespace}; take one with kubectl medusa backup create --dc {}",
            args.dc, args.dc
        )));
    };
    let finished = row.finished().or(row.started());
    match args.output {
        Some(ObjectOutput::Name) => ctx
            .out
            .line(format!("medusabackup.medusa.k8ssandra.io/{}", row.name))?,
        Some(ObjectOutput::Json) => ctx.out.write(&output::json(row)?)?,
        Some(ObjectOutput::Yaml) => ctx.out.write(&output::yaml(row)?)?,
        None => ctx.out.line(format!(
            "{}   finished {} ago   {}   {}",
            row.name,
            finished.map_or("<unknown>".into(), |t| output::human_duration(ctx.now - t)),
            nodes(row),
            row.size.clone().unwrap_or_else(|| "size unknown".into())
        ))?,
    }
    if let (Some(max_age), Some(finished)) = (args.max_age, finished) {
        let max =
            Duration::from_std(max_age).map_err(|e| CliError::usage(format!("--max-age: {e}")))?;
        if ctx.now - finished > max {
            return Err(CliError::Failed(format!(
                "the newest successful backup of datacenter {} ({}) is {} old, more than --max-age {}",
                args.dc,
                row.name,
                output::human_duration(ctx.now - finished),
                humantime::format_duration(max_age)
            )));
        }
    }
    Ok(())
}
