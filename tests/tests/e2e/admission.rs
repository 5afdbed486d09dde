//! Admission as a cluster lives it: server-side dry runs, the failure policy with the webhook
//! down, many creates at once, the certificate rotated under load, the API server restarted.

use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::Api;
use kube::api::{DynamicObject, ListParams, PostParams};
use medusa_crds::*;
use medusa_e2e::{Failure, Harness, Outcome, denied_by, ensure};

use crate::support::{backup_job, create, datacenter_with_pods, dynamic, eventually, submit};

scenarios![
    server_side_dry_runs_are_judged_by_the_webhook_and_store_nothing,
    with_the_webhook_down_its_failure_policy_refuses_the_request,
    fifty_backup_jobs_created_at_once_are_all_judged_and_none_lost,
    rotating_the_certificate_files_while_reviews_flow_fails_no_review,
];

/// Scenarios that run alone, after the others: they restart the API server.
pub const EXCLUSIVE: &[(&str, crate::Scenario)] = &[(
    "after_an_api_server_restart_the_webhook_decides_on_new_objects",
    |h| Box::pin(after_an_api_server_restart_the_webhook_decides_on_new_objects(h)),
)];

async fn server_side_dry_runs_are_judged_by_the_webhook_and_store_nothing(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    let api: Api<DynamicObject> = dynamic(&h.client, &namespace, &backup_job("x", "y"));
    let object: DynamicObject = serde_json::from_value(backup_job("nightly", "dc-typo"))?;
    let params = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    denied_by(
        api.create(&params, &object).await,
        "J1",
        &format!("a dry-run create of MedusaBackupJob {namespace}/nightly of dc-typo"),
    )?;
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let admitted = eventually(
        "a dry run of a valid job admitted",
        Duration::from_secs(20),
        || async {
            let answer = submit(&h.client, &namespace, backup_job("nightly", "dc1"), true).await?;
            Ok(answer.object)
        },
    )
    .await?;
    ensure(
        admitted["metadata"]["labels"][naming::DATACENTER_LABEL] == "dc1",
        || {
            format!(
                "the dry run of MedusaBackupJob {namespace}/nightly: expected the mutation in the answer; got {admitted}"
            )
        },
    )?;
    let left = api.list(&ListParams::default()).await?;
    ensure(left.items.is_empty(), || {
        format!(
            "namespace {namespace}: expected no MedusaBackupJob stored by dry runs; found {}",
            left.items.len()
        )
    })
}

async fn with_the_webhook_down_its_failure_policy_refuses_the_request(h: &Harness) -> Outcome {
    let private = h.private_webhook().await?;
    let namespace = private.namespace.clone();
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    private.webhook.stop();
    let what = format!("MedusaBackupJob {namespace}/nightly with the webhook down");
    let message = eventually(
        &format!("{what}: refused"),
        Duration::from_secs(30),
        || async {
            let answer = submit(&h.client, &namespace, backup_job("nightly", "dc1"), true).await?;
            Ok(answer
                .refusal
                .filter(|m| m.contains("failed calling webhook")))
        },
    )
    .await?;
    ensure(message.contains("validate.medusa.k8ssandra.io"), || {
        format!(
            "{what}: expected the failure to name the webhook validate.medusa.k8ssandra.io (failurePolicy Fail); got: {message}"
        )
    })
}

async fn fifty_backup_jobs_created_at_once_are_all_judged_and_none_lost(h: &Harness) -> Outcome {
    let namespace = h.namespace(true).await?;
    datacenter_with_pods(&h.client, &namespace, 3, true).await?;
    // The webhook's cache has the datacenter before the burst.
    eventually(
        "the datacenter in the webhook's cache",
        Duration::from_secs(20),
        || async {
            Ok(
                submit(&h.client, &namespace, backup_job("probe", "dc1"), true)
                    .await?
                    .object,
            )
        },
    )
    .await?;
    let started = Instant::now();
    let answers: Vec<(usize, Result<crate::support::Answer, Failure>)> =
        futures::stream::iter(0..60)
            .map(|i| {
                let namespace = namespace.clone();
                async move {
                    // Ten of them name a datacenter that does not exist.
                    let dc = if i < 50 { "dc1" } else { "dc-typo" };
                    (
                        i,
                        submit(
                            &h.client,
                            &namespace,
                            backup_job(&format!("burst-{i:02}"), dc),
                            false,
                        )
                        .await,
                    )
                }
            })
            .buffer_unordered(60)
            .collect()
            .await;
    let mut problems = Vec::new();
    for (i, answer) in answers {
        match (i < 50, answer?.refusal) {
            (true, None) => {}
            (true, Some(message)) => problems.push(format!("burst-{i:02}: refused: {message}")),
            (false, Some(message)) if message.contains("[J1]") => {}
            (false, Some(message)) => problems.push(format!(
                "burst-{i:02} of dc-typo: refused without J1: {message}"
            )),
            (false, None) => problems.push(format!("burst-{i:02} of dc-typo: admitted")),
        }
    }
    let stored = Api::<MedusaBackupJob>::namespaced(h.client.clone(), &namespace)
        .list(&ListParams::default())
        .await?;
    let labelled = stored
        .items
        .iter()
        .filter(|j| {
            j.metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key(naming::DATACENTER_LABEL))
        })
        .count();
    ensure(
        problems.is_empty() && stored.items.len() == 50 && labelled == 50,
        || {
            format!(
                "60 creates at once in {namespace} ({:.1}s): expected 50 admitted and labelled, 10 denied by J1; stored {} ({labelled} labelled); problems: {problems:?}",
                started.elapsed().as_secs_f64(),
                stored.items.len()
            )
        },
    )
}

async fn rotating_the_certificate_files_while_reviews_flow_fails_no_review(h: &Harness) -> Outcome {
    let private = h.private_webhook().await?;
    let namespace = private.namespace.clone();
    datacenter_with_pods(&h.client, &namespace, 1, true).await?;
    let reviews = async {
        let mut failures = Vec::new();
        for i in 0..40 {
            let answer = submit(
                &h.client,
                &namespace,
                backup_job(&format!("r-{i:02}"), "dc1"),
                true,
            )
            .await?;
            if let Some(message) = answer.refusal
                && !message.contains("[J1]")
            {
                failures.push(format!("review {i}: {message}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok::<_, Failure>(failures)
    };
    let rotations = async {
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(700)).await;
            private.webhook.rotate()?;
        }
        Ok::<_, Failure>(())
    };
    let (failures, rotated) = tokio::join!(reviews, rotations);
    rotated?;
    let failures = failures?;
    ensure(failures.is_empty(), || {
        format!(
            "40 dry-run creates in {namespace} while the serving certificate was rotated 4 times: expected every review answered; failed: {failures:?}"
        )
    })
}

async fn after_an_api_server_restart_the_webhook_decides_on_new_objects(h: &Harness) -> Outcome {
    if !h.restart_api_server().await? {
        println!(
            "  (the suite did not start this API server, so it cannot restart it: checked only on KUBEBUILDER_ASSETS)"
        );
        return Ok(());
    }
    let namespace = h.namespace(true).await?;
    // A datacenter created after the restart: the webhook's watches must have resumed.
    create(
        &h.client,
        &namespace,
        medusa_e2e::datacenter(&namespace, "dc-new", 1),
    )
    .await?;
    let what = format!(
        "MedusaBackupJob {namespace}/after of dc-new, created after the API server restarted"
    );
    eventually(
        &format!("{what}: admitted with dc-new's labels"),
        Duration::from_secs(60),
        || async {
            let answer = submit(&h.client, &namespace, backup_job("after", "dc-new"), true).await?;
            Ok(answer
                .object
                .filter(|o| o["metadata"]["labels"][naming::DATACENTER_LABEL] == "dc-new"))
        },
    )
    .await?;
    let answer = submit(&h.client, &namespace, backup_job("typo", "dc-old"), false).await?;
    answer.denied_by(
        "J1",
        &format!("MedusaBackupJob {namespace}/typo of dc-old after the restart"),
    )?;
    Ok(())
}
