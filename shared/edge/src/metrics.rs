//! The metrics sink of a function on Lambda: what the product counts (`domain::metrics`) during
//! an invocation is written at its end as CloudWatch embedded metric format lines on standard
//! output, which Lambda sends to the function's log and CloudWatch Logs turns into metrics
//! ("Specification: Embedded metric format"): no call to CloudWatch, nothing on the answer's
//! path. A line is one JSON object with nothing around it, as the specification asks; Lambda's
//! JSON log format leaves a line that is already JSON as it is ("Configuring JSON and plain
//! text log formats").
//!
//! Each metric is published for the function (`Function`), for the function and what it is
//! about (`Function`, `Detail`: the kind of change, the dependency), and without dimensions,
//! which the dashboard and alarms read.

use domain::metrics::{Metric, Sink};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// The namespace of the product's metrics.
pub const NAMESPACE: &str = "SharedCarts";

/// Counts gathered since the last flush.
#[derive(Debug)]
pub struct Emf {
    function: String,
    counts: Mutex<BTreeMap<(Option<&'static str>, Metric), u64>>,
}

static EMF: OnceLock<&'static Emf> = OnceLock::new();

impl Emf {
    /// A sink for the function named `function`.
    pub fn new(function: impl Into<String>) -> Self {
        Self {
            function: function.into(),
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// The lines of what was counted since the last call, at `timestamp_ms`; the counts start
    /// again from nothing.
    pub fn take_lines(&self, timestamp_ms: i64) -> Vec<String> {
        let counts = std::mem::take(&mut *self.counts.lock().unwrap_or_else(|p| p.into_inner()));
        let mut by_detail: BTreeMap<Option<&'static str>, Vec<(Metric, u64)>> = BTreeMap::new();
        for ((detail, metric), n) in counts {
            by_detail.entry(detail).or_default().push((metric, n));
        }
        by_detail
            .into_iter()
            .map(|(detail, metrics)| self.line(timestamp_ms, detail, &metrics))
            .collect()
    }

    fn line(&self, timestamp_ms: i64, detail: Option<&str>, metrics: &[(Metric, u64)]) -> String {
        let dimensions = match detail {
            Some(_) => serde_json::json!([["Function", "Detail"], []]),
            None => serde_json::json!([["Function"], []]),
        };
        let definitions: Vec<serde_json::Value> = metrics
            .iter()
            .map(|(metric, _)| serde_json::json!({"Name": metric.name(), "Unit": "Count"}))
            .collect();
        let mut line = serde_json::json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": dimensions,
                    "Metrics": definitions,
                }],
            },
            "Function": self.function,
        });
        if let Some(detail) = detail {
            line["Detail"] = detail.into();
        }
        for (metric, n) in metrics {
            line[metric.name()] = (*n).into();
        }
        line.to_string()
    }
}

impl Sink for &'static Emf {
    fn count(&self, metric: Metric, detail: Option<&'static str>, n: u64) {
        *self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((detail, metric))
            .or_default() += n;
    }
}

/// Installs the sink when running on Lambda (`AWS_LAMBDA_FUNCTION_NAME` is set); elsewhere
/// counts go nowhere. Called at cold start; a second call changes nothing.
pub fn install_on_lambda() {
    let Ok(function) = std::env::var("AWS_LAMBDA_FUNCTION_NAME") else {
        return;
    };
    let emf: &'static Emf = EMF.get_or_init(|| Box::leak(Box::new(Emf::new(function))));
    domain::metrics::install(Box::new(emf));
}

/// Writes what this invocation counted: called as each invocation ends.
pub fn flush() {
    let Some(emf) = EMF.get() else {
        return;
    };
    let lines = emf.take_lines(chrono::Utc::now().timestamp_millis());
    if lines.is_empty() {
        return;
    }
    let mut out = std::io::stdout().lock();
    for line in lines {
        // A lost metric line is not worth failing an invocation over.
        let _ = writeln!(out, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_become_one_embedded_metric_format_line_per_detail() {
        let emf: &'static Emf = Box::leak(Box::new(Emf::new("add-item")));
        emf.count(Metric::ChangesSaved, Some("CartItemAdded"), 2);
        emf.count(Metric::EventsPublished, None, 2);
        emf.count(Metric::ConflictsRetried, None, 1);
        let lines: Vec<serde_json::Value> = emf
            .take_lines(1_700_000_000_000)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let plain = &lines[0];
        let definition = &plain["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(plain["_aws"]["Timestamp"], 1_700_000_000_000i64);
        assert_eq!(definition["Namespace"], NAMESPACE);
        assert_eq!(
            definition["Dimensions"],
            serde_json::json!([["Function"], []])
        );
        assert_eq!(plain["Function"], "add-item");
        assert_eq!(
            (&plain["EventsPublished"], &plain["ConflictsRetried"]),
            (&2.into(), &1.into())
        );
        let names: Vec<&str> = definition["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ConflictsRetried", "EventsPublished"]);
        let detailed = &lines[1];
        assert_eq!(detailed["Detail"], "CartItemAdded");
        assert_eq!(detailed["ChangesSaved"], 2);
        assert_eq!(
            detailed["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([["Function", "Detail"], []])
        );
        assert!(
            emf.take_lines(0).is_empty(),
            "a flush starts the counts again"
        );
    }
}
