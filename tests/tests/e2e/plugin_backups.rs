//! `kubectl medusa backup ...` against the real API server, with the operator's backup
//! reconcile played write by write: the honest outcome at every step, and its faults.

use kube::Api;
use kubectl_medusa::error::ExitCode as Exit;
use medusa_crds::simulator::{Faults, Running};
use medusa_crds::*;
use medusa_e2e::{Failure, Harness, Outcome, ensure, plugin};
use serde_json::Value;

use crate::support::datacenter_with_pods;

scenarios![
    plugin_backup_create_wait_follows_the_operator_to_success,
    plugin_backup_create_wait_exits_1_naming_the_failed_pod,
    plugin_a_record_status_late_within_the_grace_is_a_success,
    plugin_a_summary_the_operator_cannot_find_fails_after_the_record_grace,
    plugin_a_record_that_never_gets_its_status_fails_saying_how_to_recreate_it,
    plugin_wait_on_a_job_the_operator_abandoned_times_out_with_exit_2,
    plugin_medusa_saying_in_progress_after_every_node_is_not_a_success,
    plugin_backup_list_describe_latest_and_delete_read_what_the_operator_wrote,
    plugin_backup_watch_attaches_to_a_running_backup,
    plugin_refuses_a_datacenter_without_medusa,
    plugin_server_dry_run_stores_nothing,
];

/// A namespace under the webhook with dc1 (three medusa pods), and the operator with `faults`.
async fn with_operator(h: &Harness, faults: Faults) -> Result<(String, Running), Failure> {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 3, true).await?;
    let operator = h.operator(&namespace, faults);
    Ok((namespace, operator))
}

const CREATE_WAIT: &[&str] = &[
    "backup",
    "create",
    "nightly",
    "--dc",
    "dc1",
    "--wait",
    "--timeout",
    "90s",
];

async fn plugin_backup_create_wait_follows_the_operator_to_success(h: &Harness) -> Outcome {
    let (namespace, operator) = with_operator(h, Faults::default()).await?;
    let run = plugin(h, &namespace, CREATE_WAIT).await?;
    run.expect(Exit::Success, "backup nightly succeeded on datacenter dc1")?;
    for step in [
        "starting the backup on the pods",
        "backing up on 3 pod(s)",
        "recording the backup",
    ] {
        ensure(run.stderr.contains(step), || {
            format!(
                "kubectl medusa {}: expected the progress to show {step:?}; stderr:\n{}",
                run.line, run.stderr
            )
        })?;
    }
    let journal = operator.journal();
    ensure(
        journal.iter().any(|w| w == "POST medusabackups/nightly"),
        || format!("the operator's writes: expected the MedusaBackup created; got {journal:?}"),
    )?;
    let job: MedusaBackupJob = Api::namespaced(h.client.clone(), &namespace)
        .get("nightly")
        .await?;
    let labels = job.metadata.labels.unwrap_or_default();
    ensure(
        labels.get(naming::MANAGED_BY_LABEL).map(String::as_str) == Some(naming::MANAGED_BY),
        || {
            format!(
                "MedusaBackupJob {namespace}/nightly: expected managed-by kubectl-medusa; labels {labels:?}"
            )
        },
    )
}

async fn plugin_backup_create_wait_exits_1_naming_the_failed_pod(h: &Harness) -> Outcome {
    let faults = Faults {
        failing_backup_pods: ["demo-dc1-default-sts-2".to_owned()].into(),
        ..Faults::default()
    };
    let (namespace, _operator) = with_operator(h, faults).await?;
    plugin(h, &namespace, CREATE_WAIT).await?.expect(
        Exit::Failed,
        "the backup failed on 1 of 3 pod(s): demo-dc1-default-sts-2",
    )?;
    Ok(())
}

async fn plugin_a_record_status_late_within_the_grace_is_a_success(h: &Harness) -> Outcome {
    let faults = Faults {
        late_record_status: Some(std::time::Duration::from_secs(3)),
        ..Faults::default()
    };
    let (namespace, _operator) = with_operator(h, faults).await?;
    let run = plugin(h, &namespace, CREATE_WAIT).await?;
    run.expect(Exit::Success, "recording the backup")?;
    ensure(!run.stderr.contains("warning"), || {
        run.unexpected("no warning").0
    })
}

async fn plugin_a_summary_the_operator_cannot_find_fails_after_the_record_grace(
    h: &Harness,
) -> Outcome {
    let faults = Faults {
        missing_summary: true,
        ..Faults::default()
    };
    let (namespace, _operator) = with_operator(h, faults).await?;
    let mut words = CREATE_WAIT.to_vec();
    words.extend(["--record-grace", "5s"]);
    let run = plugin(h, &namespace, &words).await?;
    run.expect(
        Exit::Failed,
        "every pod finished but the operator wrote no MedusaBackup record",
    )?;
    run.expect(Exit::Failed, "kubectl medusa sync --dc dc1")?;
    Ok(())
}

async fn plugin_a_record_that_never_gets_its_status_fails_saying_how_to_recreate_it(
    h: &Harness,
) -> Outcome {
    let faults = Faults {
        lost_record_status: true,
        ..Faults::default()
    };
    let (namespace, _operator) = with_operator(h, faults).await?;
    let mut words = CREATE_WAIT.to_vec();
    words.extend(["--record-grace", "5s"]);
    plugin(h, &namespace, &words)
        .await?
        .expect(Exit::Failed, "kubectl medusa backup delete nightly")?;
    Ok(())
}

async fn plugin_wait_on_a_job_the_operator_abandoned_times_out_with_exit_2(h: &Harness) -> Outcome {
    let faults = Faults {
        dies_mid_backup: true,
        ..Faults::default()
    };
    let (namespace, _operator) = with_operator(h, faults).await?;
    let run = plugin(
        h,
        &namespace,
        &[
            "backup",
            "create",
            "nightly",
            "--dc",
            "dc1",
            "--wait",
            "--timeout",
            "10s",
        ],
    )
    .await?;
    run.expect(Exit::TimedOut, "the backup goes on in the cluster")?;
    run.expect(Exit::TimedOut, "backing up on 3 pod(s)")?;
    Ok(())
}

async fn plugin_medusa_saying_in_progress_after_every_node_is_not_a_success(
    h: &Harness,
) -> Outcome {
    let faults = Faults {
        summary_in_progress: true,
        ..Faults::default()
    };
    let (namespace, _operator) = with_operator(h, faults).await?;
    let run = plugin(h, &namespace, CREATE_WAIT).await?;
    run.expect(Exit::Failed, "cassandra-medusa#965")?;
    let list = plugin(h, &namespace, &["backup", "list", "-o", "json"]).await?;
    let rows: Value = serde_json::from_str(&list.stdout)?;
    ensure(rows["items"][0]["status"]["phase"] == "Unknown", || {
        list.unexpected("phase Unknown in backup list -o json").0
    })
}

async fn plugin_backup_list_describe_latest_and_delete_read_what_the_operator_wrote(
    h: &Harness,
) -> Outcome {
    let (namespace, _operator) = with_operator(h, Faults::default()).await?;
    plugin(h, &namespace, CREATE_WAIT)
        .await?
        .expect(Exit::Success, "succeeded")?;
    let list = plugin(h, &namespace, &["backup", "list", "-o", "json"]).await?;
    let rows: Value = serde_json::from_str(&list.stdout)?;
    let row = &rows["items"][0];
    ensure(
        row["status"]["phase"] == "Succeeded" && row["size"] == "2.25 MB",
        || {
            list.unexpected("nightly Succeeded with size 2.25 MB (three nodes of 768 KiB)")
                .0
        },
    )?;
    plugin(h, &namespace, &["backup", "describe", "nightly"])
        .await?
        .expect(Exit::Success, "Succeeded")?;
    plugin(
        h,
        &namespace,
        &["backup", "latest", "--dc", "dc1", "-o", "name"],
    )
    .await?
    .expect(Exit::Success, "medusabackup.medusa.k8ssandra.io/nightly")?;
    plugin(h, &namespace, &["backup", "delete", "nightly", "--yes"])
        .await?
        .expect(Exit::Success, "the backups stay in the bucket")?;
    let left: Option<MedusaBackup> = Api::namespaced(h.client.clone(), &namespace)
        .get_opt("nightly")
        .await?;
    ensure(left.is_none(), || {
        format!("MedusaBackup {namespace}/nightly: expected deleted; still there")
    })
}

async fn plugin_backup_watch_attaches_to_a_running_backup(h: &Harness) -> Outcome {
    let (namespace, _operator) = with_operator(h, Faults::default()).await?;
    plugin(
        h,
        &namespace,
        &["backup", "create", "nightly", "--dc", "dc1"],
    )
    .await?
    .expect(Exit::Success, "kubectl medusa backup watch nightly")?;
    plugin(
        h,
        &namespace,
        &["backup", "watch", "nightly", "--timeout", "90s"],
    )
    .await?
    .expect(Exit::Success, "backup nightly succeeded")?;
    Ok(())
}

async fn plugin_refuses_a_datacenter_without_medusa(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, false).await?;
    plugin(h, &namespace, &["backup", "create", "--dc", "dc1"])
        .await?
        .expect(Exit::Failed, "Medusa is not enabled on datacenter dc1")?;
    let jobs = Api::<MedusaBackupJob>::namespaced(h.client.clone(), &namespace)
        .list(&Default::default())
        .await?;
    ensure(jobs.items.is_empty(), || {
        format!(
            "namespace {namespace}: expected no MedusaBackupJob; found {}",
            jobs.items.len()
        )
    })
}

async fn plugin_server_dry_run_stores_nothing(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    plugin(
        h,
        &namespace,
        &[
            "backup",
            "create",
            "nightly",
            "--dc",
            "dc1",
            "--dry-run=server",
            "-o",
            "json",
        ],
    )
    .await?
    .expect(
        Exit::Success,
        "\"cassandra.datastax.com/datacenter\": \"dc1\"",
    )?;
    let job: Option<MedusaBackupJob> = Api::namespaced(h.client.clone(), &namespace)
        .get_opt("nightly")
        .await?;
    ensure(job.is_none(), || {
        format!("MedusaBackupJob {namespace}/nightly: a server dry run stored it")
    })
}
