//! Output the kubectl way: tables without borders and with upper-case headers, ages like `25m`,
//! and `-o json|yaml|name`.

use chrono::{DateTime, Duration, Utc};
use comfy_table::{Cell, Color, ContentArrangement, Table};
use medusa_crds::status::Phase;
use serde::Serialize;

use crate::error::{CliError, Result};

/// kubectl's `duration.HumanDuration`.
pub fn human_duration(d: Duration) -> String {
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = d.num_minutes();
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = d.num_hours();
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The age of a time, or `<none>`.
pub fn age(now: DateTime<Utc>, time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(|| "<none>".into(), |t| human_duration(now - t))
}

/// Time until a future instant: `in 5h`.
pub fn until(now: DateTime<Utc>, time: Option<DateTime<Utc>>) -> String {
    match time {
        None => "<none>".into(),
        Some(t) if t <= now => "due".into(),
        Some(t) => format!("in {}", human_duration(t - now)),
    }
}

/// A duration in a compact form, for DURATION columns.
pub fn took(duration: Option<Duration>) -> String {
    duration.map_or_else(|| "<none>".into(), human_duration)
}

/// The color of a phase.
pub fn phase_color(phase: Phase) -> Color {
    match phase {
        Phase::Succeeded => Color::Green,
        Phase::Failed => Color::Red,
        Phase::Running => Color::Cyan,
        Phase::Pending => Color::Yellow,
        Phase::Unknown => Color::Magenta,
    }
}

/// A cell of a table.
#[derive(Clone, Debug)]
pub struct Column {
    text: String,
    color: Option<Color>,
}

impl Column {
    /// Plain text.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            color: None,
        }
    }

    /// Colored text (when colors are on).
    pub fn colored(text: impl Into<String>, color: Color) -> Self {
        Self {
            text: text.into(),
            color: Some(color),
        }
    }

    /// A phase, colored by its meaning.
    pub fn phase(phase: Phase) -> Self {
        Self::colored(phase.to_string(), phase_color(phase))
    }

    /// An operation's phase, "Running, stalled?" when it has run far longer than it should
    /// (see `medusa_crds::health::stall`).
    pub fn operation_phase(phase: Phase, stalled: bool) -> Self {
        if stalled && phase == Phase::Running {
            Self::colored("Running, stalled?", Color::Yellow)
        } else {
            Self::phase(phase)
        }
    }
}

impl From<String> for Column {
    fn from(text: String) -> Self {
        Self::text(text)
    }
}

impl From<&str> for Column {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

/// Renders a kubectl-style table: no borders, upper-case headers, columns three spaces apart.
pub fn table(headers: &[&str], rows: Vec<Vec<Column>>, color: bool) -> String {
    let mut table = Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(headers.iter().map(|h| Cell::new(h.to_uppercase())));
    for row in rows {
        table.add_row(row.into_iter().map(|c| {
            let cell = Cell::new(c.text);
            match (color, c.color) {
                (true, Some(fg)) => cell.fg(fg),
                _ => cell,
            }
        }));
    }
    let columns = table.column_count();
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, if i + 1 == columns { 0 } else { 3 }));
    }
    let mut out: String = table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// JSON, pretty-printed, with a final newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| CliError::Failed(format!("cannot render JSON: {e}")))
}

/// YAML.
pub fn yaml<T: Serialize>(value: &T) -> Result<String> {
    serde_saphyr::to_string(value).map_err(|e| CliError::Failed(format!("cannot render YAML: {e}")))
}

/// Several objects as one YAML stream.
pub fn yaml_documents<T: Serialize>(values: &[T]) -> Result<String> {
    let mut out = String::new();
    for value in values {
        out.push_str("---\n");
        out.push_str(&yaml(value)?);
    }
    Ok(out)
}

/// A list in kubectl's `List` shape.
pub fn list_json<T: Serialize>(items: &[T]) -> Result<String> {
    json(&serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}))
}

/// A list as YAML in kubectl's `List` shape.
pub fn list_yaml<T: Serialize>(items: &[T]) -> Result<String> {
    yaml(&serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}))
}

/// `resource.group/name`, as `-o name` prints it.
pub fn resource_name<K: kube::Resource<DynamicType = ()>>(object: &K) -> String {
    qualified_name::<K>(object.meta().name.as_deref().unwrap_or(""))
}

/// `medusabackup.medusa.k8ssandra.io/NAME` (`secret/NAME` for the core group), as kubectl
/// names objects.
pub fn qualified_name<K: kube::Resource<DynamicType = ()>>(name: &str) -> String {
    let kind = K::kind(&()).to_lowercase();
    let group = K::group(&());
    if group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{group}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(seconds: i64) -> String {
        human_duration(Duration::seconds(seconds))
    }

    #[test]
    fn durations_read_like_kubectl() {
        assert_eq!(d(-5), "<invalid>");
        assert_eq!(d(-1), "0s");
        assert_eq!(d(45), "45s");
        assert_eq!(d(119), "119s");
        assert_eq!(d(150), "2m30s");
        assert_eq!(d(300), "5m");
        assert_eq!(d(25 * 60), "25m");
        assert_eq!(d(179 * 60), "179m");
        assert_eq!(d(3 * 3600 + 15 * 60), "3h15m");
        assert_eq!(d(5 * 3600), "5h");
        assert_eq!(d(30 * 3600), "30h");
        assert_eq!(d(3 * 86_400 + 4 * 3600), "3d4h");
        assert_eq!(d(10 * 86_400), "10d");
        assert_eq!(d(800 * 86_400), "2y70d");
        assert_eq!(d(3000 * 86_400), "8y");
    }

    #[test]
    fn tables_have_no_borders_and_upper_case_headers() {
        let out = table(
            &["Name", "Status"],
            vec![
                vec!["nightly-1".into(), Column::phase(Phase::Succeeded)],
                vec!["b".into(), Column::phase(Phase::Failed)],
            ],
            false,
        );
        assert_eq!(
            out,
            "NAME        STATUS\nnightly-1   Succeeded\nb           Failed\n"
        );
    }

    #[test]
    fn colors_are_ansi_only_when_asked() {
        let colored = table(&["s"], vec![vec![Column::phase(Phase::Failed)]], true);
        assert!(colored.contains("\u{1b}["), "{colored:?}");
        let plain = table(&["s"], vec![vec![Column::phase(Phase::Failed)]], false);
        assert!(!plain.contains('\u{1b}'));
    }

    #[test]
    fn until_says_due_for_past_times() {
        let now = Utc::now();
        assert_eq!(until(now, Some(now - Duration::seconds(5))), "due");
        assert_eq!(until(now, Some(now + Duration::hours(5))), "in 5h");
    }
}
