//! `kubectl medusa restore`, `sync`, `purge`, `task` and `schedule` against the real API
//! server, with the operator's controllers played write by write.

use std::time::Duration;

use kube::Api;
use kubectl_medusa::error::ExitCode as Exit;
use medusa_crds::simulator::Faults;
use medusa_crds::simulator::medusa::StoredBackup;
use medusa_crds::*;
use medusa_e2e::{Failure, Harness, Outcome, ensure, plugin};

use crate::support::{
    backup_record, create, create_with_status, datacenter_with_pods, eventually, restore_job,
};

scenarios![
    plugin_restore_create_wait_stops_and_restarts_the_datacenter,
    plugin_restore_preflight_fails_for_a_datacenter_of_another_size,
    plugin_a_restore_the_operator_refuses_fails_with_its_message,
    plugin_sync_wait_imports_and_removes_records,
    plugin_a_sync_that_reaches_no_pod_exits_1,
    plugin_purge_wait_follows_the_purge_and_its_sync,
    plugin_task_list_describe_watch_and_delete,
    plugin_schedule_pause_only_changes_disabled,
    plugin_schedule_run_wait_succeeds_and_is_the_last_result,
    plugin_a_schedule_fires_at_its_time_and_its_run_is_listed,
];

/// dc1 (three medusa pods) in a namespace under the webhook.
async fn dc1(h: &Harness) -> Result<String, Failure> {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 3, true).await?;
    Ok(namespace)
}

/// A complete backup of dc1's three pods in Medusa's storage, a day old.
fn stored(name: &str) -> StoredBackup {
    StoredBackup::complete(
        name,
        "dc1",
        "demo-dc1-default-sts",
        3,
        chrono::Utc::now() - chrono::Duration::days(1),
    )
}

async fn plugin_restore_create_wait_stops_and_restarts_the_datacenter(h: &Harness) -> Outcome {
    let namespace = dc1(h).await?;
    let operator = h.operator(&namespace, Faults::default());
    operator
        .medusa()
        .lock()
        .map_err(|_| Failure::new("poisoned"))?
        .backups
        .insert("nightly".into(), stored("nightly"));
    create_with_status(&h.client, &namespace, backup_record("nightly", 3)).await?;
    let run = plugin(
        h,
        &namespace,
        &[
            "restore",
            "create",
            "r1",
            "--dc",
            "dc1",
            "--backup",
            "nightly",
            "--yes",
            "--wait",
            "--timeout",
            "90s",
        ],
    )
    .await?;
    run.expect(
        Exit::Success,
        "restore r1 succeeded: the datacenter is back up with the restored data",
    )?;
    run.expect(Exit::Success, "stopping the datacenter")?;
    let dc: CassandraDatacenter = Api::namespaced(h.client.clone(), &namespace)
        .get("dc1")
        .await?;
    ensure(dc.spec.stopped == Some(false) && dc.is_ready(), || {
        format!(
            "CassandraDatacenter {namespace}/dc1 after the restore: expected started and Ready; got stopped={:?}, ready={}",
            dc.spec.stopped,
            dc.is_ready()
        )
    })?;
    plugin(h, &namespace, &["restore", "describe", "r1"])
        .await?
        .expect(Exit::Success, "Succeeded")?;
    plugin(h, &namespace, &["restore", "list"])
        .await?
        .expect(Exit::Success, "r1")?;
    plugin(h, &namespace, &["restore", "watch", "r1"])
        .await?
        .expect(Exit::Success, "restore r1 succeeded")?;
    plugin(h, &namespace, &["restore", "delete", "r1", "--yes"])
        .await?
        .expect(Exit::Success, "deleted")?;
    Ok(())
}

async fn plugin_restore_preflight_fails_for_a_datacenter_of_another_size(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    create_with_status(&h.client, &namespace, backup_record("nightly", 3)).await?;
    let run = plugin(
        h,
        &namespace,
        &["restore", "preflight", "--dc", "dc1", "--backup", "nightly"],
    )
    .await?;
    run.expect(
        Exit::Failed,
        "node counts differ for source backup and destination datacenter",
    )?;
    run.expect(Exit::Failed, "FAIL")?;
    Ok(())
}

async fn plugin_a_restore_the_operator_refuses_fails_with_its_message(h: &Harness) -> Outcome {
    // Outside the webhook, whose R1 would refuse it first.
    let namespace = h.namespace(false).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let _operator = h.operator(&namespace, Faults::default());
    create_with_status(&h.client, &namespace, backup_record("nightly", 3)).await?;
    create(&h.client, &namespace, restore_job("r1", "nightly", "dc1")).await?;
    plugin(
        h,
        &namespace,
        &["restore", "watch", "r1", "--timeout", "60s"],
    )
    .await?
    .expect(
        Exit::Failed,
        "restore r1: node counts differ for source backup and destination datacenter",
    )?;
    Ok(())
}

async fn plugin_sync_wait_imports_and_removes_records(h: &Harness) -> Outcome {
    let namespace = dc1(h).await?;
    let operator = h.operator(&namespace, Faults::default());
    operator
        .medusa()
        .lock()
        .map_err(|_| Failure::new("poisoned"))?
        .backups
        .insert("from-storage".into(), stored("from-storage"));
    create_with_status(&h.client, &namespace, backup_record("vanished", 3)).await?;
    let run = plugin(
        h,
        &namespace,
        &[
            "sync",
            "--dc",
            "dc1",
            "--name",
            "s1",
            "--wait",
            "--timeout",
            "60s",
        ],
    )
    .await?;
    run.expect(Exit::Success, "added (1): from-storage")?;
    run.expect(Exit::Success, "removed (1): vanished")?;
    Ok(())
}

async fn plugin_a_sync_that_reaches_no_pod_exits_1(h: &Harness) -> Outcome {
    let namespace = dc1(h).await?;
    let faults = Faults {
        sync_reaches_no_pod: true,
        ..Faults::default()
    };
    let _operator = h.operator(&namespace, faults);
    plugin(
        h,
        &namespace,
        &[
            "sync",
            "--dc",
            "dc1",
            "--name",
            "s1",
            "--wait",
            "--timeout",
            "60s",
        ],
    )
    .await?
    .expect(Exit::Failed, "the sync reached no pod")?;
    Ok(())
}

async fn plugin_purge_wait_follows_the_purge_and_its_sync(h: &Harness) -> Outcome {
    let namespace = dc1(h).await?;
    let operator = h.operator(&namespace, Faults::default());
    {
        let medusa = operator.medusa();
        let mut medusa = medusa.lock().map_err(|_| Failure::new("poisoned"))?;
        medusa.max_backup_count = 1;
        for (i, name) in ["newest", "older", "oldest"].iter().enumerate() {
            let mut backup = stored(name);
            backup.started -= chrono::Duration::days(i64::try_from(i).unwrap_or(0));
            medusa.backups.insert((*name).into(), backup);
        }
    }
    for name in ["newest", "older", "oldest"] {
        create_with_status(&h.client, &namespace, backup_record(name, 3)).await?;
    }
    let run = plugin(
        h,
        &namespace,
        &[
            "purge",
            "--dc",
            "dc1",
            "--name",
            "p1",
            "--yes",
            "--wait",
            "--timeout",
            "90s",
        ],
    )
    .await?;
    run.expect(
        Exit::Success,
        "purge p1 succeeded: 6 backup file set(s) purged across pods",
    )?;
    let left: Vec<String> = Api::<MedusaBackup>::namespaced(h.client.clone(), &namespace)
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter_map(|b| b.metadata.name)
        .collect();
    ensure(left == ["newest"], || {
        format!(
            "MedusaBackups of {namespace} after the purge and its sync: expected [newest]; got {left:?}"
        )
    })
}

async fn plugin_task_list_describe_watch_and_delete(h: &Harness) -> Outcome {
    let namespace = dc1(h).await?;
    let _operator = h.operator(&namespace, Faults::default());
    create(
        &h.client,
        &namespace,
        crate::support::task("s1", "sync", "dc1"),
    )
    .await?;
    plugin(h, &namespace, &["task", "watch", "s1", "--timeout", "60s"])
        .await?
        .expect(Exit::Success, "sync s1 succeeded")?;
    plugin(h, &namespace, &["task", "list"])
        .await?
        .expect(Exit::Success, "s1")?;
    plugin(h, &namespace, &["task", "describe", "s1"])
        .await?
        .expect(Exit::Success, "Succeeded")?;
    plugin(h, &namespace, &["task", "delete", "s1", "--yes"])
        .await?
        .expect(Exit::Success, "deleted")?;
    Ok(())
}

async fn plugin_schedule_pause_only_changes_disabled(h: &Harness) -> Outcome {
    let namespace = dc1(h).await?;
    plugin(
        h,
        &namespace,
        &[
            "schedule",
            "create",
            "nightly",
            "--dc",
            "dc1",
            "--cron",
            "30 1 * * *",
        ],
    )
    .await?
    .expect(Exit::Success, "created")?;
    plugin(h, &namespace, &["schedule", "pause", "nightly"])
        .await?
        .expect(Exit::Success, "paused")?;
    let schedule: MedusaBackupSchedule = Api::namespaced(h.client.clone(), &namespace)
        .get("nightly")
        .await?;
    ensure(
        schedule.spec.disabled == Some(true) && schedule.spec.cron_schedule == "30 1 * * *",
        || {
            format!(
                "MedusaBackupSchedule {namespace}/nightly after pause: expected disabled and the cron kept; got {:?}",
                schedule.spec
            )
        },
    )?;
    plugin(h, &namespace, &["schedule", "resume", "nightly"])
        .await?
        .expect(Exit::Success, "resumed")?;
    Ok(())
}

async fn plugin_schedule_run_wait_succeeds_and_is_the_last_result(h: &Harness) -> Outcome {
    let namespace = dc1(h).await?;
    let _operator = h.operator(&namespace, Faults::default());
    plugin(
        h,
        &namespace,
        &[
            "schedule",
            "create",
            "nightly",
            "--dc",
            "dc1",
            "--cron",
            "30 1 * * *",
        ],
    )
    .await?
    .expect(Exit::Success, "created")?;
    plugin(
        h,
        &namespace,
        &["schedule", "run", "nightly", "--wait", "--timeout", "90s"],
    )
    .await?
    .expect(Exit::Success, "succeeded")?;
    plugin(h, &namespace, &["schedule", "list"])
        .await?
        .expect(Exit::Success, "Succeeded")?;
    plugin(h, &namespace, &["schedule", "describe", "nightly"])
        .await?
        .expect(Exit::Success, "nightly-")?;
    Ok(())
}

async fn plugin_a_schedule_fires_at_its_time_and_its_run_is_listed(h: &Harness) -> Outcome {
    let namespace = dc1(h).await?;
    let _operator = h.operator(&namespace, Faults::default());
    plugin(
        h,
        &namespace,
        &[
            "schedule",
            "create",
            "minutely",
            "--dc",
            "dc1",
            "--cron",
            "* * * * *",
        ],
    )
    .await?
    .expect(Exit::Success, "created")?;
    let api: Api<MedusaBackupJob> = Api::namespaced(h.client.clone(), &namespace);
    let run = eventually(
        &format!("the first run of MedusaBackupSchedule {namespace}/minutely"),
        Duration::from_secs(90),
        || {
            let api = api.clone();
            async move {
                let jobs = api.list(&Default::default()).await?;
                Ok(jobs
                    .items
                    .into_iter()
                    .find_map(|j| j.metadata.name.filter(|n| n.starts_with("minutely-"))))
            }
        },
    )
    .await?;
    eventually(
        &format!("{run} succeeded in schedule describe"),
        Duration::from_secs(30),
        || async {
            let described = plugin(h, &namespace, &["schedule", "describe", "minutely"]).await?;
            Ok(
                (described.stdout.contains(&run) && described.stdout.contains("Succeeded"))
                    .then_some(()),
            )
        },
    )
    .await
}
