//! The webhook's rules on jobs, restores, tasks, schedules and backup records (J1, J2, JM,
//! R1, R2, T1, TM, S1 to S3, B1), through the API server; mutations as stored.

use std::time::Duration;

use kube::Api;
use kube::api::{Patch, PatchParams};
use medusa_crds::*;
use medusa_e2e::{Failure, Harness, Outcome, denied_by, ensure};
use serde_json::{Value, json};

use crate::support::{
    backup_job, backup_record, create, create_with_status, datacenter_with_pods, eventually,
    remove, restore_job, schedule, submit, task, warned,
};

scenarios![
    j1_a_backup_of_a_missing_datacenter_is_denied_naming_the_existing_ones,
    j1_a_backup_named_like_an_existing_record_is_denied,
    j1_a_backup_of_a_datacenter_without_medusa_is_admitted_with_a_warning,
    j1_a_second_unfinished_backup_of_a_datacenter_warns,
    j2_a_backup_jobs_spec_cannot_change,
    jm_a_backup_job_is_stored_with_its_datacenter_labels,
    jm_a_run_of_a_schedule_is_labelled_and_an_older_name_is_not,
    r1_a_restore_of_a_missing_backup_is_denied_pointing_at_a_sync,
    r1_a_restore_into_a_datacenter_of_another_size_is_denied,
    r1_a_valid_restore_is_admitted_with_the_stop_warning,
    r1_a_second_restore_while_one_runs_is_denied,
    r2_a_restores_spec_cannot_change,
    t1_a_task_of_a_missing_datacenter_is_denied,
    t1_prepare_restore_needs_a_backup_and_a_key,
    tm_a_task_is_stored_with_its_datacenter_labels,
    s1_an_unparseable_cron_is_denied_with_the_operators_text,
    s1_a_cron_with_a_time_zone_is_admitted,
    s1_a_cron_that_never_runs_is_admitted_with_a_warning,
    s2_an_unimplemented_concurrency_policy_is_denied,
    s3_a_schedule_of_a_missing_datacenter_warns,
    b1_deleting_a_backup_record_warns_that_the_data_stays,
];

fn labels(object: &Value) -> Value {
    object["metadata"]["labels"].clone()
}

async fn j1_a_backup_of_a_missing_datacenter_is_denied_naming_the_existing_ones(
    h: &Harness,
) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let what = format!("MedusaBackupJob {namespace}/nightly of datacenter dc-typo");
    let message = submit(
        &h.client,
        &namespace,
        backup_job("nightly", "dc-typo"),
        false,
    )
    .await?
    .denied_by("J1", &what)?;
    ensure(
        message.contains("\"dc-typo\" not found") && message.contains("dc1"),
        || format!("{what}: expected dc-typo not found and dc1 listed; got: {message}"),
    )
}

async fn j1_a_backup_named_like_an_existing_record_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 3, true).await?;
    create_with_status(&h.client, &namespace, backup_record("nightly", 3)).await?;
    let what = format!("MedusaBackupJob {namespace}/nightly while MedusaBackup nightly exists");
    let message = eventually(
        &format!("{what}: denied"),
        Duration::from_secs(20),
        || async {
            let answer = submit(&h.client, &namespace, backup_job("nightly", "dc1"), true).await?;
            match answer.refusal {
                Some(message) if message.contains("[J1]") => Ok(Some(message)),
                Some(message) => Err(Failure::new(format!("unexpected refusal: {message}"))),
                None => Ok(None),
            }
        },
    )
    .await?;
    ensure(
        message.contains("MedusaBackup \"nightly\" already exists"),
        || {
            format!(
                "{what}: expected \"MedusaBackup \\\"nightly\\\" already exists\"; got: {message}"
            )
        },
    )
}

async fn j1_a_backup_of_a_datacenter_without_medusa_is_admitted_with_a_warning(
    h: &Harness,
) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, false).await?;
    // Medusa not enabled: no medusa container in the datacenter's pod template.
    Api::<CassandraDatacenter>::namespaced(h.client.clone(), &namespace)
        .patch(
            "dc1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"podTemplateSpec": null}})),
        )
        .await?;
    let what = format!("MedusaBackupJob {namespace}/nightly of a datacenter without medusa");
    let warnings = eventually(
        &format!("{what}: admitted with a warning"),
        Duration::from_secs(20),
        || async {
            let (_, warnings) = submit(&h.client, &namespace, backup_job("nightly", "dc1"), true)
                .await?
                .admitted(&what)?;
            Ok(warnings
                .iter()
                .any(|w| w.contains("[J1]"))
                .then_some(warnings))
        },
    )
    .await?;
    warned(&warnings, "J1", "no medusa container", &what)
}

async fn j1_a_second_unfinished_backup_of_a_datacenter_warns(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    create(&h.client, &namespace, backup_job("earlier", "dc1")).await?;
    let what = format!("MedusaBackupJob {namespace}/later while earlier has not finished");
    let warnings = eventually(
        &format!("{what}: warned"),
        Duration::from_secs(20),
        || async {
            let (_, warnings) = submit(&h.client, &namespace, backup_job("later", "dc1"), true)
                .await?
                .admitted(&what)?;
            Ok(warnings
                .iter()
                .any(|w| w.contains("has not finished"))
                .then_some(warnings))
        },
    )
    .await?;
    warned(&warnings, "J1", "has not finished (earlier)", &what)
}

async fn j2_a_backup_jobs_spec_cannot_change(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    create(&h.client, &namespace, backup_job("nightly", "dc1")).await?;
    let api: Api<MedusaBackupJob> = Api::namespaced(h.client.clone(), &namespace);
    denied_by(
        api.patch(
            "nightly",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"backupType": "full"}})),
        )
        .await,
        "J2",
        &format!("changing MedusaBackupJob {namespace}/nightly's spec.backupType"),
    )?;
    api.patch(
        "nightly",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"team": "data"}}})),
    )
    .await
    .map_err(|e| {
        Failure::new(format!(
            "labelling MedusaBackupJob {namespace}/nightly: expected it admitted; got {e}"
        ))
    })?;
    Ok(())
}

async fn jm_a_backup_job_is_stored_with_its_datacenter_labels(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    create(&h.client, &namespace, backup_job("nightly", "dc1")).await?;
    let stored: MedusaBackupJob = Api::namespaced(h.client.clone(), &namespace)
        .get("nightly")
        .await?;
    let labels = stored.metadata.labels.unwrap_or_default();
    ensure(
        labels.get(naming::DATACENTER_LABEL).map(String::as_str) == Some("dc1")
            && labels.get(naming::CLUSTER_LABEL).map(String::as_str) == Some("demo"),
        || {
            format!(
                "MedusaBackupJob {namespace}/nightly as stored: expected the labels of dc1 of cluster demo; got {labels:?}"
            )
        },
    )
}

async fn jm_a_run_of_a_schedule_is_labelled_and_an_older_name_is_not(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    create(
        &h.client,
        &namespace,
        schedule("nightly", "30 1 * * *", "dc1"),
    )
    .await?;
    let run = format!("nightly-{}", chrono::Utc::now().timestamp() + 60);
    eventually("a run of nightly labelled", Duration::from_secs(20), || {
        let run = run.clone();
        let namespace = namespace.clone();
        async move {
            let (object, _) = submit(&h.client, &namespace, backup_job(&run, "dc1"), true)
                .await?
                .admitted(&format!("MedusaBackupJob {run}"))?;
            Ok((labels(&object)[naming::SCHEDULE_LABEL] == "nightly").then_some(()))
        }
    })
    .await?;
    let (older, _) = submit(&h.client, &namespace, backup_job("nightly-1", "dc1"), false)
        .await?
        .admitted("MedusaBackupJob nightly-1")?;
    ensure(labels(&older).get(naming::SCHEDULE_LABEL).is_none(), || {
        format!(
            "MedusaBackupJob {namespace}/nightly-1 (named like a run of 1970): expected no schedule label; got {}",
            labels(&older)
        )
    })
}

async fn r1_a_restore_of_a_missing_backup_is_denied_pointing_at_a_sync(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 3, true).await?;
    let what = format!("MedusaRestoreJob {namespace}/r of missing backup nightly");
    let message = submit(
        &h.client,
        &namespace,
        restore_job("r", "nightly", "dc1"),
        false,
    )
    .await?
    .denied_by("R1", &what)?;
    ensure(
        message.contains("not found") && message.contains("kubectl medusa sync --dc dc1"),
        || format!("{what}: expected not found and the sync to run; got: {message}"),
    )
}

async fn r1_a_restore_into_a_datacenter_of_another_size_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    create_with_status(&h.client, &namespace, backup_record("nightly", 3)).await?;
    let what = format!("MedusaRestoreJob {namespace}/restore of 3 nodes into 1");
    let message = eventually(
        &format!("{what}: denied"),
        Duration::from_secs(20),
        || async {
            let answer = submit(
                &h.client,
                &namespace,
                restore_job("restore", "nightly", "dc1"),
                true,
            )
            .await?;
            match answer.refusal {
                Some(message) if message.contains("[R1]") && message.contains("node counts") => {
                    Ok(Some(message))
                }
                Some(message) if message.contains("not found") => Ok(None),
                Some(message) => Err(Failure::new(format!(
                    "{what}: unexpected refusal: {message}"
                ))),
                None => Err(Failure::new(format!("{what}: admitted"))),
            }
        },
    )
    .await?;
    ensure(
        message.contains("node counts differ for source backup and destination datacenter"),
        || format!("{what}: expected the operator's text; got: {message}"),
    )
}

async fn r1_a_valid_restore_is_admitted_with_the_stop_warning(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 3, true).await?;
    create_with_status(&h.client, &namespace, backup_record("nightly", 3)).await?;
    let what = format!("MedusaRestoreJob {namespace}/restore of nightly into dc1");
    let warnings = eventually(
        &format!("{what}: admitted"),
        Duration::from_secs(20),
        || async {
            let answer = submit(
                &h.client,
                &namespace,
                restore_job("restore", "nightly", "dc1"),
                true,
            )
            .await?;
            match answer.refusal {
                None => Ok(Some(answer.warnings)),
                Some(message) if message.contains("not found") => Ok(None),
                Some(message) => Err(Failure::new(format!(
                    "{what}: unexpected refusal: {message}"
                ))),
            }
        },
    )
    .await?;
    warned(
        &warnings,
        "R1",
        "the restore stops datacenter \"dc1\"",
        &what,
    )
}

async fn r1_a_second_restore_while_one_runs_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 3, true).await?;
    create_with_status(&h.client, &namespace, backup_record("nightly", 3)).await?;
    eventually(
        "the first restore admitted",
        Duration::from_secs(20),
        || async {
            let answer = submit(
                &h.client,
                &namespace,
                restore_job("first", "nightly", "dc1"),
                false,
            )
            .await?;
            match answer.refusal {
                None => Ok(Some(())),
                Some(message) if message.contains("not found") => Ok(None),
                Some(message) => Err(Failure::new(format!(
                    "first restore: unexpected refusal: {message}"
                ))),
            }
        },
    )
    .await?;
    let what = format!("MedusaRestoreJob {namespace}/second while first has not finished");
    let message = eventually(
        &format!("{what}: denied"),
        Duration::from_secs(20),
        || async {
            let answer = submit(
                &h.client,
                &namespace,
                restore_job("second", "nightly", "dc1"),
                true,
            )
            .await?;
            match answer.refusal {
                Some(message) if message.contains("[R1]") => Ok(Some(message)),
                Some(message) => Err(Failure::new(format!(
                    "{what}: unexpected refusal: {message}"
                ))),
                None => Ok(None),
            }
        },
    )
    .await?;
    ensure(
        message.contains("restore first of datacenter \"dc1\" has not finished"),
        || format!("{what}: expected the running restore named; got: {message}"),
    )
}

async fn r2_a_restores_spec_cannot_change(h: &Harness) -> Outcome {
    let namespace = h.namespace(false).await?;
    create(
        &h.client,
        &namespace,
        restore_job("restore", "nightly", "dc1"),
    )
    .await?;
    // Under the webhook from now on: the namespace gets the run's label.
    let label = json!({"metadata": {"labels": {medusa_e2e::install::RUN_LABEL: h.run}}});
    Api::<k8s_openapi::api::core::v1::Namespace>::all(h.client.clone())
        .patch(&namespace, &PatchParams::default(), &Patch::Merge(&label))
        .await?;
    let api: Api<MedusaRestoreJob> = Api::namespaced(h.client.clone(), &namespace);
    let what = format!("changing MedusaRestoreJob {namespace}/restore's spec.backup");
    eventually(
        &format!("{what}: denied by R2"),
        Duration::from_secs(20),
        || {
            let api = api.clone();
            let what = what.clone();
            async move {
                let params = PatchParams {
                    dry_run: true,
                    ..PatchParams::default()
                };
                match api
                    .patch(
                        "restore",
                        &params,
                        &Patch::Merge(json!({"spec": {"backup": "other"}})),
                    )
                    .await
                {
                    Err(kube::Error::Api(status)) if status.message.contains("[R2]") => {
                        Ok(Some(()))
                    }
                    Err(e) => Err(Failure::new(format!("{what}: unexpected refusal: {e}"))),
                    Ok(_) => Ok(None),
                }
            }
        },
    )
    .await
}

async fn t1_a_task_of_a_missing_datacenter_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let what = format!("MedusaTask {namespace}/sync of datacenter dc9");
    let message = submit(&h.client, &namespace, task("sync", "sync", "dc9"), false)
        .await?
        .denied_by("T1", &what)?;
    ensure(message.contains("\"dc9\" not found"), || {
        format!("{what}: expected dc9 not found; got: {message}")
    })
}

async fn t1_prepare_restore_needs_a_backup_and_a_key(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let what = format!(
        "MedusaTask {namespace}/prepare (prepare_restore) without backupName nor restoreKey"
    );
    let message = submit(
        &h.client,
        &namespace,
        task("prepare", "prepare_restore", "dc1"),
        false,
    )
    .await?
    .denied_by("T1", &what)?;
    ensure(message.contains("needs spec.backupName"), || {
        format!("{what}: expected \"needs spec.backupName\"; got: {message}")
    })
}

async fn tm_a_task_is_stored_with_its_datacenter_labels(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    create(&h.client, &namespace, task("sync", "sync", "dc1")).await?;
    let stored: MedusaTask = Api::namespaced(h.client.clone(), &namespace)
        .get("sync")
        .await?;
    let labels = stored.metadata.labels.unwrap_or_default();
    ensure(
        labels.get(naming::DATACENTER_LABEL).map(String::as_str) == Some("dc1"),
        || {
            format!(
                "MedusaTask {namespace}/sync as stored: expected the datacenter label dc1; got {labels:?}"
            )
        },
    )
}

async fn s1_an_unparseable_cron_is_denied_with_the_operators_text(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let what = format!("MedusaBackupSchedule {namespace}/hourly with cron \"0 * * *\"");
    let message = submit(
        &h.client,
        &namespace,
        schedule("hourly", "0 * * *", "dc1"),
        false,
    )
    .await?
    .denied_by("S1", &what)?;
    ensure(
        message.contains("expected exactly 5 fields, found 4"),
        || format!("{what}: expected robfig/cron's text; got: {message}"),
    )
}

async fn s1_a_cron_with_a_time_zone_is_admitted(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    submit(
        &h.client,
        &namespace,
        schedule("paris", "CRON_TZ=Europe/Paris 30 1 * * *", "dc1"),
        false,
    )
    .await?
    .admitted(&format!(
        "MedusaBackupSchedule {namespace}/paris with CRON_TZ=Europe/Paris"
    ))?;
    Ok(())
}

async fn s1_a_cron_that_never_runs_is_admitted_with_a_warning(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let what = format!("MedusaBackupSchedule {namespace}/leap with cron \"0 0 30 2 *\"");
    let (_, warnings) = submit(
        &h.client,
        &namespace,
        schedule("leap", "0 0 30 2 *", "dc1"),
        false,
    )
    .await?
    .admitted(&what)?;
    warned(&warnings, "S1", "never runs", &what)
}

async fn s2_an_unimplemented_concurrency_policy_is_denied(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let mut value = schedule("nightly", "30 1 * * *", "dc1");
    value["spec"]["concurrencyPolicy"] = json!("Replace");
    let what = format!("MedusaBackupSchedule {namespace}/nightly with concurrencyPolicy Replace");
    let message = submit(&h.client, &namespace, value, false)
        .await?
        .denied_by("S2", &what)?;
    ensure(message.contains("Replace"), || {
        format!("{what}: expected Replace named; got: {message}")
    })
}

async fn s3_a_schedule_of_a_missing_datacenter_warns(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let what = format!("MedusaBackupSchedule {namespace}/nightly of missing datacenter dc9");
    let (_, warnings) = submit(
        &h.client,
        &namespace,
        schedule("nightly", "30 1 * * *", "dc9"),
        false,
    )
    .await?
    .admitted(&what)?;
    warned(&warnings, "S3", "does not exist in namespace", &what)
}

async fn b1_deleting_a_backup_record_warns_that_the_data_stays(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    create_with_status(&h.client, &namespace, backup_record("nightly", 3)).await?;
    let what = format!("deleting MedusaBackup {namespace}/nightly");
    let answer = remove(
        &h.client,
        &namespace,
        "medusa.k8ssandra.io/v1alpha1",
        "MedusaBackup",
        "nightly",
    )
    .await?;
    let (_, warnings) = answer.admitted(&what)?;
    warned(&warnings, "B1", "kubectl medusa purge --dc dc1", &what)
}
