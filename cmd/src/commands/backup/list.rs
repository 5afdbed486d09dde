//! `backup list`: backups as rows, filtered, sorted, and kept up to date with `-w`.

use super::*;

pub(super) async fn rows(ctx: &Ctx, selector: Option<&str>) -> Result<Vec<BackupRow>> {
    // Both lists at once: one round trip of latency instead of two.
    let mut snapshot = Snapshot::fetch(
        ctx,
        ctx.scope(),
        &[ViewKind::MedusaBackup, ViewKind::MedusaBackupJob],
        selector,
    )
    .await?;
    let (jobs, backups) = (snapshot.take()?, snapshot.take()?);
    // A list shows rows: the objects are dropped before the table is drawn.
    let mut rows = backup_rows(jobs, backups, ctx.now);
    for row in &mut rows {
        row.job = None;
        row.backup = None;
    }
    Ok(rows)
}

fn filtered(ctx: &Ctx, mut rows: Vec<BackupRow>, args: &BackupListArgs) -> Result<Vec<BackupRow>> {
    if let Some(dc) = &args.dc {
        rows.retain(|r| &r.datacenter == dc);
    }
    if let Some(phase) = args.status {
        rows.retain(|r| r.status.phase == phase);
    }
    if let Some(since) = args.since {
        let since =
            Duration::from_std(since).map_err(|e| CliError::usage(format!("--since: {e}")))?;
        rows.retain(|r| r.started().is_some_and(|t| ctx.now - t <= since));
    }
    match args.sort_by {
        SortBy::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        SortBy::Finished => rows.sort_by_key(|r| Reverse(r.finished())),
        SortBy::Size => rows.sort_by_key(|r| Reverse(r.size_bytes)),
        SortBy::Started => rows.sort_by_key(|r| Reverse(r.started())),
    }
    if let Some(limit) = args.limit {
        rows.truncate(limit);
    }
    Ok(rows)
}

pub(super) fn nodes(row: &BackupRow) -> String {
    match (row.nodes, row.status.progress) {
        (Some((done, total)), _) => format!("{done}/{total}"),
        (None, Some(progress)) => format!("{}/{} pods", progress.done, progress.total),
        (None, None) => "<none>".into(),
    }
}

fn table_rows(
    ctx: &Ctx,
    rows: &[BackupRow],
    stalled: &std::collections::BTreeSet<ObjectKey>,
    format: ListOutput,
) -> (Vec<&'static str>, Vec<Vec<Column>>) {
    let wide = format == ListOutput::Wide;
    let headers = list_headers(
        ctx,
        &[
            "name",
            "datacenter",
            "type",
            "status",
            "nodes",
            "size",
            "started",
            "duration",
        ],
        &["files", "origin", "finished", "anomalies"],
        format,
    );
    let body = rows
        .iter()
        .map(|row| {
            let mut cells = row_start(ctx, &row.namespace, &row.name);
            cells.push(row.datacenter.clone().into());
            cells.push(row.backup_type.clone().into());
            let key = ObjectKey::new(row.namespace.clone(), row.name.clone());
            cells.push(Column::operation_phase(
                row.status.phase,
                stalled.contains(&key),
            ));
            cells.push(nodes(row).into());
            cells.push(row.size.clone().unwrap_or_else(|| "<none>".into()).into());
            cells.push(age(ctx.now, row.started()).into());
            cells.push(took(row.status.duration()).into());
            if wide {
                cells.push(row.files.map_or("<none>".into(), |f| f.to_string()).into());
                cells.push(format!("{:?}", row.origin).to_lowercase().into());
                cells.push(age(ctx.now, row.finished()).into());
                cells.push(anomaly_codes(&row.status.anomalies).into());
            }
            cells
        })
        .collect();
    (headers, body)
}

pub(super) async fn list(ctx: &Ctx, args: BackupListArgs) -> Result<()> {
    let all = rows(ctx, args.selector.as_deref()).await?;
    // Stall limits come from every backup listed, before the filters narrow the rows.
    let stalled = stalled_keys(
        &operations(&all, &[], &[], ctx.now),
        args.stall.policy(),
        ctx.now,
    );
    let rows = filtered(ctx, all, &args)?;
    let names: Vec<String> = rows
        .iter()
        .map(|r| format!("medusabackup.medusa.k8ssandra.io/{}", r.name))
        .collect();
    if print_list(ctx, &rows, &names, args.output)? {
        return Ok(());
    }
    if rows.is_empty() && !args.watch {
        return nothing_found(ctx, "backups");
    }
    let (headers, body) = table_rows(ctx, &rows, &stalled, args.output);
    ctx.out.write(&table(&headers, body, ctx.color))?;
    if args.watch {
        watch_list(ctx, &args, rows).await?;
    }
    Ok(())
}

/// `-w`: prints each backup again when it changes, as `kubectl get -w` does.
async fn watch_list(ctx: &Ctx, args: &BackupListArgs, mut shown: Vec<BackupRow>) -> Result<()> {
    use futures::StreamExt;
    use kube::runtime::{WatchStreamExt, watcher};
    let client = ctx.client().await?.clone();
    let (jobs_api, backups_api) = if ctx.all_namespaces() {
        (
            kube::Api::<MedusaBackupJob>::all(client.clone()),
            kube::Api::<MedusaBackup>::all(client),
        )
    } else {
        (
            kube::Api::namespaced(client.clone(), ctx.namespace()),
            kube::Api::namespaced(client, ctx.namespace()),
        )
    };
    let mut config = watcher::Config::default();
    if let Some(selector) = &args.selector {
        config = config.labels(selector);
    }
    let jobs = watcher(jobs_api, config.clone())
        .default_backoff()
        .touched_objects()
        .map(|r| r.map(|_| ()));
    let backups = watcher(backups_api, config)
        .default_backoff()
        .touched_objects()
        .map(|r| r.map(|_| ()));
    let mut changes = futures::stream::select(jobs.boxed(), backups.boxed());
    while let Some(change) = changes.next().await {
        if change.is_err() {
            continue;
        }
        let unlimited = BackupListArgs {
            limit: None,
            ..args.clone()
        };
        let all = rows(ctx, args.selector.as_deref()).await?;
        let stalled = stalled_keys(
            &operations(&all, &[], &[], ctx.now),
            args.stall.policy(),
            ctx.now,
        );
        let current = filtered(ctx, all, &unlimited)?;
        let changed: Vec<BackupRow> = current
            .iter()
            .filter(|row| {
                !shown.iter().any(|s| {
                    s.name == row.name
                        && s.namespace == row.namespace
                        && s.status == row.status
                        && s.size == row.size
                })
            })
            .cloned()
            .collect();
        if !changed.is_empty() {
            let (headers, body) = table_rows(ctx, &changed, &stalled, args.output);
            let text = table(&headers, body, ctx.color);
            // Only the rows: the header was printed once.
            for line in text.lines().skip(1) {
                ctx.out.line(line)?;
            }
        }
        shown = current;
    }
    Ok(())
}
