//! What the rounds measured, as a table, the ratio and the targets.

use crate::load::Run;

/// One round, as it ends.
pub fn round_line(round: usize, webhook: &Run, baseline: &Run) -> String {
    format!(
        "round {round}: webhook {:.0}/s (server {:.1} µs CPU/review, {} decision lines for {} reviews), baseline {:.0}/s (server {:.1} µs CPU/review, {} reviews)",
        webhook.per_second(),
        webhook.server_cpu_per_review(),
        webhook.decision_lines,
        webhook.answered,
        baseline.per_second(),
        baseline.server_cpu_per_review(),
        baseline.answered,
    )
}

/// The median round by throughput, with the peak RSS of every round.
fn median(mut runs: Vec<Run>) -> Run {
    runs.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
    let peak = runs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0);
    let mut middle = runs.swap_remove(runs.len() / 2);
    middle.peak_rss_kib = peak;
    middle
}

fn table_row(name: &str, run: &Run) -> String {
    format!(
        "| {name} | {:.0} | {:.3} | {:.3} | {:.3} | {:.1} | {:.1} | {:.1} | {} |\n",
        run.per_second(),
        run.percentile(0.50),
        run.percentile(0.99),
        run.percentile(0.999),
        run.peak_rss_kib as f64 / 1024.0,
        run.server_cpu_per_review(),
        run.client_cpu * 1e6 / run.reviews.max(1) as f64,
        run.errors
    )
}

/// The report: the median rounds side by side, the ratio, the decision log, the targets.
///
/// The ratio is the median of the rounds' own ratios: the two servers of a round run one
/// after the other, so a host that slows down for a while slows both, and the pair's ratio
/// keeps what the median rounds of each server, taken from different moments, do not. The
/// ratio of those medians is printed beside it.
pub fn report(webhook_runs: Vec<Run>, baseline_runs: Vec<Run>) -> String {
    let rounds = webhook_runs.len();
    let mut round_ratios: Vec<f64> = webhook_runs
        .iter()
        .zip(&baseline_runs)
        .map(|(w, b)| w.per_second() / b.per_second().max(1.0))
        .collect();
    round_ratios.sort_by(f64::total_cmp);
    let lowest = round_ratios.first().copied().unwrap_or(0.0);
    let highest = round_ratios.last().copied().unwrap_or(0.0);
    let ratio = round_ratios.get(rounds / 2).copied().unwrap_or(0.0);
    let webhook = median(webhook_runs);
    let baseline = median(baseline_runs);
    let mut report = String::from(
        "| server | reviews/s | p50 ms | p99 ms | p99.9 ms | peak RSS MiB | server CPU µs/review | load CPU µs/review | errors |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    report.push_str(&table_row("medusa-webhook", &webhook));
    report.push_str(&table_row("baseline (reads the uid, allows)", &baseline));
    let of_medians = webhook.per_second() / baseline.per_second().max(1.0);
    report.push_str(&format!(
        "\nthroughput ratio webhook/baseline: {ratio:.2} (median of {rounds} rounds' ratios, from {lowest:.2} to {highest:.2}; ratio of the median rounds {of_medians:.2})\n"
    ));
    report.push_str(&if std::env::var("BENCH_LOGS").as_deref() != Ok("0") {
        format!(
            "decision log: on, as deployed; {} lines received for {} reviews answered in the median round ({} dropped)\n",
            webhook.decision_lines,
            webhook.answered,
            webhook.answered.saturating_sub(webhook.decision_lines)
        )
    } else {
        "decision log: off (BENCH_LOGS=0)\n".to_owned()
    });
    let targets = [
        (
            "at least 10,000 reviews/s",
            webhook.per_second() >= 10_000.0,
        ),
        ("p99 under 2 ms", webhook.percentile(0.99) < 2.0),
        ("at least 0.9 of the baseline's throughput", ratio >= 0.9),
        ("peak RSS under 64 MiB", webhook.peak_rss_kib < 64 * 1024),
    ];
    for (target, met) in targets {
        report.push_str(&format!(
            "- {target}: {}\n",
            if met { "met" } else { "NOT met" }
        ));
    }
    report
}
