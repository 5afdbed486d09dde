//! `kubectl medusa logs`, `purge --preview` and stalled operations against the real API server:
//! the pods/log subresource as it answers (no kubelet here: a pod without a node has an empty
//! log), retention read from the merged storage, and statuses written as the operator writes
//! them.

use kube::Api;
use kubectl_medusa::error::ExitCode as Exit;
use medusa_crds::simulator::Faults;
use medusa_crds::*;
use medusa_e2e::objects::{datacenter, typed_json};
use medusa_e2e::{Failure, Harness, Outcome, ensure, plugin};
use serde_json::json;

use crate::support::{cluster, create, create_with_status, datacenter_with_pods, storage_secret};

scenarios![
    plugin_logs_read_the_backups_pods_through_the_pods_log_endpoint,
    plugin_logs_of_a_pod_outside_the_datacenter_is_not_found,
    plugin_purge_preview_names_what_the_retention_deletes_and_creates_nothing,
    plugin_lists_and_status_flag_a_purge_running_for_seven_hours,
];

async fn plugin_logs_read_the_backups_pods_through_the_pods_log_endpoint(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 3, true).await?;
    let _operator = h.operator(&namespace, Faults::default());
    plugin(
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
            "90s",
        ],
    )
    .await?
    .expect(Exit::Success, "succeeded")?;
    let run = plugin(
        h,
        &namespace,
        &["logs", "backup", "nightly", "--timestamps"],
    )
    .await?;
    // The API server accepted the container, sinceTime and timestamps of each request; pods
    // that no kubelet runs have nothing to show.
    run.expect(Exit::Success, "")?;
    ensure(
        run.stdout.is_empty() && !run.stderr.contains("error"),
        || {
            run.unexpected("no log lines and no error from pods without a node")
                .0
        },
    )
}

async fn plugin_logs_of_a_pod_outside_the_datacenter_is_not_found(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    create_with_status(
        &h.client,
        &namespace,
        typed_json(
            &MedusaBackupJob::test("nightly")
                .started("2024-05-01T01:00:00Z")
                .in_progress(&["demo-dc1-default-sts-0"]),
        ),
    )
    .await?;
    plugin(
        h,
        &namespace,
        &["logs", "backup", "nightly", "--pod", "elsewhere"],
    )
    .await?
    .expect(
        Exit::NotFound,
        "pod elsewhere is not a pod of datacenter dc1",
    )?;
    Ok(())
}

/// dc1 of K8ssandraCluster demo, whose storage keeps backups 7 days and at most 2.
async fn retained(h: &Harness) -> Result<String, Failure> {
    let namespace = h.namespace(true).await?;
    create(&h.client, &namespace, storage_secret("medusa-bucket-key")).await?;
    let mut storage = Storage::test().with_prefix("demo");
    storage.max_backup_age = Some(7);
    storage.max_backup_count = Some(2);
    create(&h.client, &namespace, cluster(&namespace, "demo", storage)).await?;
    let mut dc = datacenter(&namespace, "dc1", 1);
    dc["metadata"]["labels"] = json!({
        "k8ssandra.io/cluster-name": "demo",
        "k8ssandra.io/cluster-namespace": namespace,
    });
    create(&h.client, &namespace, dc).await?;
    Ok(namespace)
}

async fn plugin_purge_preview_names_what_the_retention_deletes_and_creates_nothing(
    h: &Harness,
) -> Outcome {
    let namespace = retained(h).await?;
    let day = |days: i64| (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339();
    for (name, age) in [("old", 30), ("second", 3), ("third", 2), ("newest", 1)] {
        let started = day(age);
        create_with_status(
            &h.client,
            &namespace,
            typed_json(&MedusaBackup::test(name).times(&started, Some(&started))),
        )
        .await?;
    }
    let run = plugin(h, &namespace, &["purge", "--dc", "dc1", "--preview"]).await?;
    run.expect(Exit::Success, "would delete 2 of its 4 MedusaBackup(s)")?;
    let row = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
    };
    ensure(
        row("old").is_some_and(|l| {
            l.contains("older than 7 day(s)") && l.contains("beyond the newest 2")
        }) && row("second").is_some_and(|l| l.contains("beyond the newest 2"))
            && row("third").is_none()
            && row("newest").is_none(),
        || {
            run.unexpected("old (age and count) and second (count) deleted; third and newest kept")
                .0
        },
    )?;
    let tasks = Api::<MedusaTask>::namespaced(h.client.clone(), &namespace)
        .list(&Default::default())
        .await?;
    ensure(tasks.items.is_empty(), || {
        format!(
            "kubectl medusa purge --preview created {} MedusaTask(s) in {namespace}; expected none",
            tasks.items.len()
        )
    })
}

async fn plugin_lists_and_status_flag_a_purge_running_for_seven_hours(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let started = (chrono::Utc::now() - chrono::Duration::hours(7)).to_rfc3339();
    create_with_status(
        &h.client,
        &namespace,
        typed_json(
            &MedusaTask::test("purge-1", Operation::Purge)
                .started(&started)
                .in_progress(&["demo-dc1-default-sts-0"]),
        ),
    )
    .await?;
    plugin(h, &namespace, &["task", "list"])
        .await?
        .expect(Exit::Success, "Running, stalled?")?;
    plugin(h, &namespace, &["status", "--dc", "dc1"])
        .await?
        .expect(Exit::Success, "purge purge-1 looks stalled: running for 7h")?;
    plugin(h, &namespace, &["task", "list", "--stall-after", "8h"])
        .await
        .and_then(|run| {
            ensure(!run.stdout.contains("stalled"), || {
                run.unexpected("no stall mark with --stall-after 8h").0
            })
        })
}
