//! The decision line: one log line per review, with its uid, endpoint, kind, object,
//! operation, the rules that fired, the decision, whether it was a dry run, the user and the
//! latency; never an object's body.
//!
//! As deployed, [`DecisionLog::spawn`] formats the line itself (its fields are fixed, so JSON
//! needs no serializer: the strings are escaped where JSON requires it) into a buffer that a
//! writer thread of its own empties every few milliseconds with one write: a review never
//! waits on stdout, and costs neither a system call nor a thread wake-up. When the buffer is
//! full, as when stdout is a slow pipe, the line is dropped and counted
//! (`medusa_webhook_decision_log_lines_dropped_total`). The line is the one tracing-subscriber
//! writes for the same event (`timestamp`, `level`, `message`, then the fields), in JSON or in
//! text. Embedders without a writer (tests, the end-to-end harness) log through `tracing`
//! ([`DecisionLog::tracing`]).

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use medusa_crds::rules::RuleId;
use prometheus_client::metrics::counter::Counter;

use crate::args::LogFormat;
use crate::json::{push_escaped, push_number, push_plain_str, push_str};
use crate::labels::{Endpoint, FindingDecision, LabelValue, ReviewDecision};

/// The fields of one decision line.
#[derive(Debug)]
pub struct Decision<'a> {
    /// The review's uid.
    pub uid: &'a str,
    /// The endpoint that answered.
    pub endpoint: Endpoint,
    /// The object's kind.
    pub kind: &'a str,
    /// Its namespace.
    pub namespace: &'a str,
    /// Its name.
    pub name: &'a str,
    /// CREATE, UPDATE, DELETE.
    pub operation: &'a str,
    /// The rules that fired, with what each did.
    pub rules: &'a [(RuleId, FindingDecision)],
    /// How the review ended.
    pub decision: ReviewDecision,
    /// Whether the request was a dry run.
    pub dry_run: bool,
    /// The requesting user.
    pub user: &'a str,
    /// The review's latency, in microseconds.
    pub latency_us: u64,
}

/// Where decision lines go.
#[derive(Debug)]
pub struct DecisionLog {
    sink: Sink,
}

#[derive(Debug)]
enum Sink {
    Tracing,
    Lines {
        format: LogFormat,
        shared: Arc<Shared>,
        dropped: Counter,
    },
}

/// The lines waiting for the writer, and how it is told to finish.
#[derive(Debug)]
struct Shared {
    pending: Mutex<Vec<u8>>,
    /// The most bytes that may wait.
    limit: usize,
    closed: Mutex<bool>,
    wake: Condvar,
}

/// How often the writer empties the buffer.
const FLUSH_EVERY: Duration = Duration::from_millis(5);

impl Default for DecisionLog {
    fn default() -> Self {
        Self::tracing()
    }
}

impl Drop for DecisionLog {
    fn drop(&mut self) {
        if let Sink::Lines { shared, .. } = &self.sink {
            *shared.closed.lock().unwrap_or_else(PoisonError::into_inner) = true;
            shared.wake.notify_all();
        }
    }
}

impl DecisionLog {
    /// Through `tracing` (whatever subscriber the process installed).
    pub fn tracing() -> Self {
        Self {
            sink: Sink::Tracing,
        }
    }

    /// Formatted in `format` and written to `out` by a thread of its own; at most `limit` bytes
    /// wait, the lines beyond are dropped and counted in `dropped`. The thread ends, having
    /// written everything, when the log is dropped.
    pub fn spawn(
        format: LogFormat,
        out: impl Write + Send + 'static,
        limit: usize,
        dropped: Counter,
    ) -> std::io::Result<(Self, std::thread::JoinHandle<()>)> {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Vec::with_capacity(64 * 1024)),
            limit,
            closed: Mutex::new(false),
            wake: Condvar::new(),
        });
        let writer_shared = shared.clone();
        let writer = std::thread::Builder::new()
            .name("decision-log".into())
            .spawn(move || write_lines(&writer_shared, out))?;
        Ok((
            Self {
                sink: Sink::Lines {
                    format,
                    shared,
                    dropped,
                },
            },
            writer,
        ))
    }

    /// Logs one decision (at level INFO: `RUST_LOG=warn` silences it).
    pub fn record(&self, decision: &Decision<'_>) {
        match &self.sink {
            Sink::Tracing => tracing::info!(
                uid = decision.uid,
                endpoint = decision.endpoint.as_str(),
                kind = decision.kind,
                object = %format_args!("{}/{}", decision.namespace, decision.name),
                operation = decision.operation,
                rules = %RuleList(decision.rules),
                decision = decision.decision.as_str(),
                dry_run = decision.dry_run,
                user = decision.user,
                latency_us = decision.latency_us,
                "admission decision"
            ),
            Sink::Lines {
                format,
                shared,
                dropped,
            } => {
                if !tracing::enabled!(tracing::Level::INFO) {
                    return;
                }
                thread_local! {
                    static SCRATCH: std::cell::RefCell<Vec<u8>> =
                        std::cell::RefCell::new(Vec::with_capacity(512));
                }
                SCRATCH.with(|scratch| {
                    let mut line = scratch.borrow_mut();
                    line.clear();
                    match format {
                        LogFormat::Json => json_line(&mut line, decision),
                        LogFormat::Text => text_line(&mut line, decision),
                    }
                    let mut pending = shared
                        .pending
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    if pending.len() + line.len() > shared.limit {
                        dropped.inc();
                    } else {
                        pending.extend_from_slice(&line);
                    }
                });
            }
        }
    }
}

/// The capacity asked for a pipe the decision lines go to (Linux's default unprivileged
/// maximum, `/proc/sys/fs/pipe-max-size`).
pub const PIPE_CAPACITY: usize = 1024 * 1024;

/// When `out` is a pipe (a container's stdout is one, read by the container runtime), widens
/// it to [`PIPE_CAPACITY`] so that a batch of lines fits whole: with the default 64 KiB, the
/// writer wakes its reader and waits for it several times per batch. Returns the new capacity;
/// `None` when `out` is not a pipe or the system refuses (nothing changes then).
#[cfg(target_os = "linux")]
pub fn widen_pipe(out: impl std::os::fd::AsFd) -> Option<usize> {
    rustix::pipe::fcntl_setpipe_size(out, PIPE_CAPACITY).ok()
}

/// Not a Linux pipe: nothing to widen.
#[cfg(not(target_os = "linux"))]
pub fn widen_pipe<T>(_out: T) -> Option<usize> {
    None
}

/// Every few milliseconds, takes what is pending and writes it in one go; finishes once the
/// log is dropped and everything is written.
fn write_lines(shared: &Shared, mut out: impl Write) {
    let mut batch: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        let closed = {
            let closed = shared.closed.lock().unwrap_or_else(PoisonError::into_inner);
            let (closed, _) = shared
                .wake
                .wait_timeout(closed, FLUSH_EVERY)
                .unwrap_or_else(PoisonError::into_inner);
            *closed
        };
        std::mem::swap(
            &mut batch,
            &mut shared
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if !batch.is_empty() {
            if out.write_all(&batch).and_then(|()| out.flush()).is_err() {
                return;
            }
            batch.clear();
        }
        if closed {
            return;
        }
    }
}

/// The rules fired, comma-separated.
struct RuleList<'a>(&'a [(RuleId, FindingDecision)]);

impl std::fmt::Display for RuleList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (rule, _)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(rule.as_str())?;
        }
        Ok(())
    }
}

fn push_rules(out: &mut Vec<u8>, rules: &[(RuleId, FindingDecision)]) {
    for (i, (rule, _)) in rules.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(rule.as_str().as_bytes());
    }
}

/// Now, as tracing-subscriber writes it: RFC 3339 in UTC with microseconds. The date and time
/// of the second are formatted once per second per thread.
fn push_timestamp(out: &mut Vec<u8>) {
    use std::cell::RefCell;
    thread_local! {
        static SECOND: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    let now = jiff::Timestamp::now();
    let second = now.as_second();
    SECOND.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != second {
            cached.1 = now.strftime("%Y-%m-%dT%H:%M:%S").to_string();
            cached.0 = second;
        }
        out.extend_from_slice(cached.1.as_bytes());
    });
    let micros = u32::try_from(now.subsec_microsecond()).unwrap_or(0);
    let mut digits = [b'0'; 6];
    let mut rest = micros;
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
    }
    out.push(b'.');
    out.extend_from_slice(&digits);
    out.push(b'Z');
}

fn json_line(out: &mut Vec<u8>, d: &Decision<'_>) {
    out.extend_from_slice(b"{\"timestamp\":\"");
    push_timestamp(out);
    out.extend_from_slice(b"\",\"level\":\"INFO\",\"message\":\"admission decision\",\"uid\":");
    push_str(out, d.uid);
    out.extend_from_slice(b",\"endpoint\":");
    push_plain_str(out, d.endpoint.as_str());
    out.extend_from_slice(b",\"kind\":");
    push_str(out, d.kind);
    out.extend_from_slice(b",\"object\":\"");
    push_escaped(out, d.namespace);
    out.push(b'/');
    push_escaped(out, d.name);
    out.extend_from_slice(b"\",\"operation\":");
    push_str(out, d.operation);
    out.extend_from_slice(b",\"rules\":\"");
    push_rules(out, d.rules);
    out.extend_from_slice(b"\",\"decision\":");
    push_plain_str(out, d.decision.as_str());
    out.extend_from_slice(if d.dry_run {
        b",\"dry_run\":true,\"user\":"
    } else {
        b",\"dry_run\":false,\"user\":"
    });
    push_str(out, d.user);
    out.extend_from_slice(b",\"latency_us\":");
    push_number(out, d.latency_us);
    out.extend_from_slice(b"}\n");
}

/// A text value: as is when plain, else quoted and escaped as JSON (as tracing's text
/// formatter quotes a string with spaces, so that one line stays one line).
fn push_text_value(out: &mut Vec<u8>, value: &str) {
    if !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b'=')
    {
        out.extend_from_slice(value.as_bytes());
    } else {
        push_str(out, value);
    }
}

fn text_line(out: &mut Vec<u8>, d: &Decision<'_>) {
    push_timestamp(out);
    out.extend_from_slice(b"  INFO admission decision uid=");
    push_text_value(out, d.uid);
    out.extend_from_slice(b" endpoint=");
    push_text_value(out, d.endpoint.as_str());
    out.extend_from_slice(b" kind=");
    push_text_value(out, d.kind);
    out.extend_from_slice(b" object=");
    push_text_value(out, &format!("{}/{}", d.namespace, d.name));
    out.extend_from_slice(b" operation=");
    push_text_value(out, d.operation);
    out.extend_from_slice(b" rules=");
    let mut rules = Vec::new();
    push_rules(&mut rules, d.rules);
    push_text_value(out, &String::from_utf8_lossy(&rules));
    out.extend_from_slice(b" decision=");
    push_text_value(out, d.decision.as_str());
    out.extend_from_slice(if d.dry_run {
        b" dry_run=true user="
    } else {
        b" dry_run=false user="
    });
    push_text_value(out, d.user);
    out.extend_from_slice(b" latency_us=");
    push_number(out, d.latency_us);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_pipe_is_widened_to_hold_a_batch_and_a_file_is_left_alone() {
        let (_reader, writer) = std::io::pipe().unwrap();
        let capacity = widen_pipe(&writer).expect("a pipe can be widened");
        assert!(capacity >= PIPE_CAPACITY, "{capacity}");
        let file = tempfile::tempfile().unwrap();
        assert_eq!(widen_pipe(&file), None);
    }

    /// The shared buffer tests read a writer thread's output from.
    #[derive(Clone, Debug, Default)]
    struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

    impl Write for SharedBuffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn decision<'a>(uid: &'a str, user: &'a str) -> Decision<'a> {
        Decision {
            uid,
            endpoint: Endpoint::Validate,
            kind: "MedusaBackupJob",
            namespace: "k8ssandra",
            name: "nightly",
            operation: "CREATE",
            rules: &[
                (RuleId::J1, FindingDecision::Deny),
                (RuleId::JM, FindingDecision::Patch),
            ],
            decision: ReviewDecision::Denied,
            dry_run: true,
            user,
            latency_us: 1234,
        }
    }

    fn line(format: LogFormat, d: &Decision<'_>) -> String {
        let mut out = Vec::new();
        match format {
            LogFormat::Json => json_line(&mut out, d),
            LogFormat::Text => text_line(&mut out, d),
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_json_line_has_every_field_of_the_tracing_line() {
        let text = line(
            LogFormat::Json,
            &decision("u-1", "system:serviceaccount:ops:ci"),
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["level"], "INFO");
        assert_eq!(value["message"], "admission decision");
        assert_eq!(value["uid"], "u-1");
        assert_eq!(value["endpoint"], "validate");
        assert_eq!(value["kind"], "MedusaBackupJob");
        assert_eq!(value["object"], "k8ssandra/nightly");
        assert_eq!(value["operation"], "CREATE");
        assert_eq!(value["rules"], "J1,JM");
        assert_eq!(value["decision"], "denied");
        assert_eq!(value["dry_run"], true);
        assert_eq!(value["user"], "system:serviceaccount:ops:ci");
        assert_eq!(value["latency_us"], 1234);
        let timestamp = value["timestamp"].as_str().unwrap();
        assert!(timestamp.parse::<jiff::Timestamp>().is_ok(), "{timestamp}");
        assert_eq!(
            timestamp.len(),
            "2026-11-30T15:00:00.123456Z".len(),
            "{timestamp}"
        );
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn hostile_strings_stay_inside_their_json_string() {
        let user = "eve\"},{\"decision\":\"allowed\n\\\u{1}";
        let text = line(LogFormat::Json, &decision("u\"2", user));
        assert_eq!(text.lines().count(), 1, "{text}");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["user"], user);
        assert_eq!(value["uid"], "u\"2");
        assert_eq!(value["decision"], "denied");
    }

    #[test]
    fn the_text_line_is_one_line_with_key_values() {
        let text = line(LogFormat::Text, &decision("u-3", "alice smith\nx"));
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.contains("  INFO admission decision uid=u-3 endpoint=validate kind=MedusaBackupJob object=k8ssandra/nightly operation=CREATE rules=J1,JM decision=denied dry_run=true user=\"alice smith\\nx\" latency_us=1234"),
            "{text}"
        );
    }

    #[test]
    fn a_full_buffer_drops_lines_and_counts_them_without_blocking() {
        // A writer that never finishes its first write: the buffer fills up.
        struct Stuck;
        impl Write for Stuck {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                std::thread::sleep(Duration::from_secs(3600));
                Ok(0)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let dropped = Counter::default();
        let line_length = line(LogFormat::Json, &decision("u", "alice")).len();
        let (log, _writer) =
            DecisionLog::spawn(LogFormat::Json, Stuck, 10 * line_length, dropped.clone()).unwrap();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let started = std::time::Instant::now();
        for _ in 0..100 {
            log.record(&decision("u", "alice"));
        }
        assert!(started.elapsed() < Duration::from_secs(1));
        // Ten lines wait (the writer may have taken a batch first); the rest were dropped.
        assert!((80..=90).contains(&dropped.get()), "{}", dropped.get());
    }

    #[test]
    fn lines_reach_the_writer_in_order() {
        let buffer = SharedBuffer::default();
        let (log, writer) =
            DecisionLog::spawn(LogFormat::Json, buffer.clone(), 1 << 20, Counter::default())
                .unwrap();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        for i in 0..50 {
            log.record(&decision(&format!("u-{i}"), "alice"));
        }
        drop(log);
        writer.join().unwrap();
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let uids: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["uid"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(uids, (0..50).map(|i| format!("u-{i}")).collect::<Vec<_>>());
    }

    #[test]
    fn below_info_nothing_is_written() {
        let dropped = Counter::default();
        let buffer = SharedBuffer::default();
        let (log, writer) =
            DecisionLog::spawn(LogFormat::Json, buffer.clone(), 1 << 20, dropped).unwrap();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        log.record(&decision("u", "alice"));
        drop(log);
        writer.join().unwrap();
        assert!(buffer.0.lock().unwrap().is_empty());
    }
}
