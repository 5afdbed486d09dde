//! `kubectl medusa schedule ...` against a fake API server.

use crate::support;

use kubectl_medusa::error::ExitCode;
use medusa_crds::simulator::{Operator, Running};
use medusa_crds::*;
use serde_json::json;
use support::{Fake, NS, Run, pod};

const SCHEDULES: &str =
    "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/k8ssandra/medusabackupschedules";
const JOBS: &str = "/apis/medusa.k8ssandra.io/v1alpha1/namespaces/k8ssandra/medusabackupjobs";

fn datacenter() -> (kube::Client, Fake) {
    let (client, fake) = Fake::start();
    fake.put(&CassandraDatacenter::test("dc1"));
    fake.put(&pod("demo-dc1-default-sts-0", "demo", "dc1", true));
    (client, fake)
}

// === create ===

#[tokio::test]
async fn create_checks_the_cron_prints_the_next_runs_and_posts_the_schedule() {
    let (client, fake) = datacenter();
    let outcome = Run::on(&client)
        .run("schedule create nightly --dc dc1 --cron '30 1 * * *' --type full --concurrency-policy Forbid")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(
        outcome.stderr.contains(
            "next runs: 2024-05-02 01:30:00 UTC, 2024-05-03 01:30:00 UTC, 2024-05-04 01:30:00 UTC"
        ),
        "{}",
        outcome.stderr
    );
    let post = fake.writes().pop().unwrap();
    assert_eq!(post.path, SCHEDULES);
    insta::assert_json_snapshot!("create_body", post.body.unwrap());
}

#[tokio::test]
async fn create_refuses_a_cron_expression_the_operator_cannot_parse() {
    let (client, fake) = datacenter();
    let outcome = Run::on(&client)
        .run("schedule create nightly --dc dc1 --cron '0 * * *'")
        .await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(
        outcome
            .stderr
            .contains("--cron \"0 * * *\": expected exactly 5 fields, found 4"),
        "{}",
        outcome.stderr
    );
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn create_warns_that_a_cron_which_never_runs_starts_no_backup() {
    let (client, fake) = datacenter();
    let outcome = Run::on(&client)
        .run("schedule create leap --dc dc1 --cron '0 0 30 2 *'")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(
        outcome.stderr.contains(
            "warning: --cron \"0 0 30 2 *\" never runs (a field with an empty list, or a date that does not exist such as 30 February)"
        ),
        "{}",
        outcome.stderr
    );
    assert_eq!(fake.writes().pop().unwrap().path, SCHEDULES);
}

#[tokio::test]
async fn create_for_a_datacenter_not_yet_there_warns_and_creates() {
    let (client, fake) = Fake::start();
    let outcome = Run::on(&client)
        .run("schedule create nightly --dc dc9 --cron @daily")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(outcome.stderr.contains(
        "warning: CassandraDatacenter \"dc9\" does not exist in namespace k8ssandra yet: the schedule does nothing until it does"
    ));
    assert!(fake.get("medusabackupschedules", NS, "nightly").is_some());
}

// === list and describe ===

/// A nightly backup schedule with two runs, and a paused purge schedule.
fn schedules() -> (kube::Client, Fake) {
    let (client, fake) = datacenter();
    fake.put(
        &MedusaBackupSchedule::test("nightly")
            .executed(Some("2024-05-01T01:30:00Z"), Some("2024-05-02T01:30:00Z")),
    );
    fake.put(
        &MedusaBackupSchedule::test("weekly-purge")
            .purge()
            .cron("0 3 * * 0")
            .disabled(),
    );
    // 2024-04-30T01:30:00Z and 2024-05-01T01:30:00Z.
    for (name, started, finished, failed) in [
        (
            "nightly-1714440600",
            "2024-04-30T01:30:00Z",
            "2024-04-30T01:34:00Z",
            false,
        ),
        (
            "nightly-1714527000",
            "2024-05-01T01:30:00Z",
            "2024-05-01T01:31:00Z",
            true,
        ),
    ] {
        let mut job = MedusaBackupJob::test(name)
            .label(naming::SCHEDULE_LABEL, "nightly")
            .created(started)
            .started(started)
            .finished_at(finished);
        job = if failed {
            job.failed_pods(&["demo-dc1-default-sts-0"])
        } else {
            job.finished_pods(&["demo-dc1-default-sts-0"])
        };
        fake.put(&job);
        if !failed {
            fake.put(
                &MedusaBackup::test(name)
                    .times(started, Some(finished))
                    .nodes(1, 1),
            );
        }
    }
    (client, fake)
}

#[tokio::test]
async fn list_shows_cron_last_next_and_the_last_result() {
    let (client, fake) = schedules();
    let outcome = Run::on(&client).run("schedule list").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("list", outcome.stdout);
    // One list per kind, whatever the number of schedules.
    assert_eq!(fake.calls().len(), 4, "{:#?}", fake.call_lines());
}

#[tokio::test]
async fn describe_shows_the_recent_runs_and_the_upcoming_ones() {
    let (client, _fake) = schedules();
    let outcome = Run::on(&client)
        .run("schedule describe nightly --history 5")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    insta::assert_snapshot!("describe", outcome.stdout);
}

/// `backup create nightly-1`, then `schedule create nightly`: the operator would never name a
/// run `nightly-1` (1970), and the job has no schedule label.
fn an_ad_hoc_backup_then_a_schedule_of_the_same_name() -> (kube::Client, Fake) {
    let (client, fake) = datacenter();
    fake.put(
        &MedusaBackupJob::test("nightly-1")
            .created("2024-05-01T09:00:00Z")
            .started("2024-05-01T09:00:15Z")
            .finished_at("2024-05-01T09:04:00Z")
            .failed_pods(&["demo-dc1-default-sts-0"]),
    );
    fake.put(&MedusaBackupSchedule::test("nightly").created("2024-05-01T10:00:00Z"));
    (client, fake)
}

#[tokio::test]
async fn an_ad_hoc_backup_named_like_a_run_is_not_in_the_schedules_recent_runs() {
    let (client, _fake) = an_ad_hoc_backup_then_a_schedule_of_the_same_name();
    let outcome = Run::on(&client).run("schedule describe nightly").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(!outcome.stdout.contains("nightly-1"), "{}", outcome.stdout);
}

#[tokio::test]
async fn an_ad_hoc_backup_named_like_a_run_is_not_the_schedules_last_result() {
    let (client, _fake) = an_ad_hoc_backup_then_a_schedule_of_the_same_name();
    let outcome = Run::on(&client).run("schedule list -o wide").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let row = outcome.stdout.lines().nth(1).unwrap();
    assert!(row.starts_with("nightly "), "{row}");
    assert!(!row.contains("Failed"), "{row}");
    assert!(row.contains("<none>"), "{row}");
}

#[tokio::test]
async fn an_ad_hoc_backup_named_like_a_run_is_not_the_last_run_in_status() {
    let (client, _fake) = an_ad_hoc_backup_then_a_schedule_of_the_same_name();
    let outcome = Run::on(&client).run("status --dc dc1").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(
        outcome
            .stdout
            .contains("nightly (backup \"30 1 * * *\", next in 13h, no run yet)"),
        "{}",
        outcome.stdout
    );
}

#[tokio::test]
async fn status_names_the_last_run_of_a_schedule() {
    let (client, _fake) = schedules();
    let outcome = Run::on(&client).run("status --dc dc1").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(
        outcome
            .stdout
            .contains("last run nightly-1714527000 Failed"),
        "{}",
        outcome.stdout
    );
}

// === pause, resume ===

#[tokio::test]
async fn pause_sends_a_merge_patch_of_spec_disabled_only() {
    let (client, fake) = schedules();
    let outcome = Run::on(&client).run("schedule pause nightly").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "medusabackupschedule.medusa.k8ssandra.io/nightly paused\n"
    );
    let patch = fake.writes().pop().unwrap();
    assert_eq!(patch.method, "PATCH");
    assert_eq!(patch.path, format!("{SCHEDULES}/nightly"));
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(patch.body.unwrap(), json!({"spec": {"disabled": true}}));
    let stored = fake.get("medusabackupschedules", NS, "nightly").unwrap();
    assert_eq!(stored["spec"]["disabled"], true);
    assert_eq!(
        stored["spec"]["cronSchedule"], "30 1 * * *",
        "other fields stay"
    );
}

#[tokio::test]
async fn resume_all_patches_every_schedule_of_the_namespace() {
    let (client, fake) = schedules();
    let outcome = Run::on(&client).run("schedule resume --all").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let patched: Vec<String> = fake
        .writes()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c.path.rsplit('/').next().unwrap(),
                c.body.as_ref().unwrap()
            )
        })
        .collect();
    assert_eq!(
        patched,
        [
            "nightly {\"spec\":{\"disabled\":false}}",
            "weekly-purge {\"spec\":{\"disabled\":false}}",
        ]
    );
}

#[tokio::test]
async fn pause_by_selector_sends_it_to_the_api_server() {
    let (client, fake) = schedules();
    fake.put(&MedusaBackupSchedule::test("team-a").label("team", "a"));
    let outcome = Run::on(&client).run("schedule pause -l team=a").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let list = &fake.calls()[0];
    assert_eq!(list.query.get("labelSelector").unwrap(), "team=a");
    assert_eq!(
        fake.writes()
            .iter()
            .map(|c| c.path.clone())
            .collect::<Vec<_>>(),
        [format!("{SCHEDULES}/team-a")]
    );
}

#[tokio::test]
async fn pause_without_a_target_is_a_usage_error() {
    let (client, fake) = schedules();
    let outcome = Run::on(&client).run("schedule pause").await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn pause_of_an_unknown_schedule_is_not_found() {
    let (client, fake) = schedules();
    let outcome = Run::on(&client).run("schedule pause nope").await;
    assert_eq!(outcome.code, ExitCode::NotFound);
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn pausing_the_operators_purge_schedule_warns_that_it_reverts_edits() {
    let (client, fake) = schedules();
    fake.put(
        &MedusaBackupSchedule::test("demo-dc1-medusa-purge")
            .purge()
            .label("k8ssandra.io/cleaned-up-by", "k8ssandracluster-controller"),
    );
    let outcome = Run::on(&client)
        .run("schedule pause demo-dc1-medusa-purge")
        .await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(
        outcome
            .stderr
            .contains("set spec.medusa.purgeBackups: false in the K8ssandraCluster instead")
    );
}

// === run, delete ===

#[tokio::test]
async fn run_creates_a_job_from_the_schedules_template_with_the_operators_name() {
    let (client, fake) = schedules();
    let outcome = Run::on(&client).run("schedule run nightly").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    let post = fake
        .writes()
        .into_iter()
        .find(|c| c.is("POST", JOBS))
        .unwrap();
    insta::assert_json_snapshot!("run_body", post.body.unwrap());
}

#[tokio::test]
async fn delete_asks_and_says_backups_are_kept() {
    let (client, fake) = schedules();
    let outcome = Run::on(&client).run("schedule delete nightly").await;
    assert_eq!(outcome.code, ExitCode::Usage);
    assert!(outcome.stderr.contains("Backups already taken are kept."));
    assert!(fake.writes().is_empty());
    let outcome = Run::on(&client).run("schedule delete nightly --yes").await;
    assert_eq!(outcome.code, ExitCode::Success);
    assert!(fake.get("medusabackupschedules", NS, "nightly").is_none());
}

// === against the operator, write by write ===

/// dc1 with three pods, and the operator.
fn with_the_operator() -> (kube::Client, Fake, Running) {
    let (client, fake) = datacenter();
    for i in 1..3 {
        fake.put(&pod(
            &format!("demo-dc1-default-sts-{i}"),
            "demo",
            "dc1",
            true,
        ));
    }
    let operator = Operator::new(client.clone(), NS, support::now()).spawn();
    (client, fake, operator)
}

#[tokio::test(start_paused = true)]
async fn run_and_wait_follows_the_runs_backup_to_success() {
    let (client, _fake, _operator) = with_the_operator();
    Run::on(&client)
        .run("schedule create nightly --dc dc1 --cron '30 1 * * *'")
        .await;
    let outcome = Run::on(&client).run("schedule run nightly --wait").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "medusabackupjob.medusa.k8ssandra.io/nightly-1714564800 created\nbackup nightly-1714564800 succeeded\n"
    );
}

#[tokio::test(start_paused = true)]
async fn the_operators_run_at_the_scheduled_time_is_the_schedules_last_result() {
    let (client, fake, operator) = with_the_operator();
    // Every minute: the operator's first run is at 12:01.
    Run::on(&client)
        .run("schedule create minutely --dc dc1 --cron '* * * * *'")
        .await;
    let ran = fake
        .seen(|c| c.method == "POST" && c.path == JOBS && !c.is_from_the_plugin())
        .await;
    assert_eq!(ran.body.unwrap()["metadata"]["name"], "minutely-1714564860");
    tokio::time::sleep(std::time::Duration::from_secs(180)).await;
    let outcome = Run::on(&client).run("schedule describe minutely").await;
    assert_eq!(outcome.code, ExitCode::Success, "{outcome:?}");
    assert!(
        outcome.stdout.contains("minutely-1714564860"),
        "{}",
        outcome.stdout
    );
    let journal = operator.journal();
    let status = journal
        .iter()
        .position(|w| w == "PUT medusabackupschedules/minutely/status")
        .unwrap();
    let created = journal
        .iter()
        .position(|w| w == "POST medusabackupjobs/minutely-1714564860")
        .unwrap();
    assert!(
        status < created,
        "the status is written before the run: {journal:?}"
    );
}
