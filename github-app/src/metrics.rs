//! Prometheus metrics: deliveries by outcome, queue depth, evaluation latency, GitHub API calls
//! and the rate limit left. Rendered in the text exposition format at `GET /metrics`.
//!
//! Everything is an atomic except the API-call counters, whose `endpoint` labels are only known
//! at run time (a small map behind a mutex, touched once per GitHub call).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// Delivery outcomes with their own counter; anything else is counted as `other`.
const DELIVERY_OUTCOMES: [&str; 9] = [
    "accepted",
    "duplicate",
    "ignored",
    "bad_signature",
    "too_large",
    "malformed",
    "missing_header",
    "store_error",
    "other",
];

/// Evaluation outcomes; anything else is counted as `other`.
const EVALUATION_OUTCOMES: [&str; 5] = ["success", "failure", "superseded", "retry", "other"];

/// Upper bounds of the evaluation histogram's buckets, in seconds (`+Inf` is implied).
pub const EVALUATION_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// One histogram series: per-bucket (non-cumulative) counts, the `+Inf` overflow, and the sum
/// in microseconds.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; EVALUATION_BUCKETS.len()],
    overflow: AtomicU64,
    sum_micros: AtomicU64,
}

/// The App's metrics, shared by the server and the workers.
#[derive(Debug, Default)]
pub struct Metrics {
    deliveries: [AtomicU64; DELIVERY_OUTCOMES.len()],
    queue_depth: AtomicU64,
    evaluations: [Histogram; EVALUATION_OUTCOMES.len()],
    api_calls: Mutex<BTreeMap<(&'static str, u16), u64>>,
    rate_limit_remaining: AtomicU64,
    rate_limit_known: AtomicBool,
}

fn index(names: &[&str], name: &str) -> usize {
    names
        .iter()
        .position(|n| *n == name)
        .unwrap_or(names.len() - 1)
}

/// A label value in the exposition format: `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// A webhook delivery was answered: `accepted`, `duplicate`, `bad_signature`, `too_large`,
    /// `malformed`, `missing_header`, `ignored` (and `store_error`: the queue failed, 503).
    pub fn delivery(&self, outcome: &'static str) {
        self.deliveries[index(&DELIVERY_OUTCOMES, outcome)].fetch_add(1, Relaxed);
    }

    /// Jobs waiting in the queue.
    pub fn queue_depth(&self, depth: u64) {
        self.queue_depth.store(depth, Relaxed);
    }

    /// An evaluation finished after `seconds`: `success`, `failure`, `superseded`, `retry`.
    pub fn evaluation(&self, seconds: f64, outcome: &'static str) {
        let h = &self.evaluations[index(&EVALUATION_OUTCOMES, outcome)];
        let seconds = if seconds.is_finite() && seconds > 0.0 {
            seconds
        } else {
            0.0
        };
        match EVALUATION_BUCKETS.iter().position(|le| seconds <= *le) {
            Some(i) => h.buckets[i].fetch_add(1, Relaxed),
            None => h.overflow.fetch_add(1, Relaxed),
        };
        h.sum_micros
            .fetch_add((seconds * 1e6).round() as u64, Relaxed);
    }

    /// A GitHub API call answered with `status` (0: no answer).
    pub fn api_call(&self, endpoint: &'static str, status: u16) {
        let mut calls = self.api_calls.lock().unwrap_or_else(|e| e.into_inner());
        *calls.entry((endpoint, status)).or_default() += 1;
    }

    /// GitHub's `X-RateLimit-Remaining` after the last call.
    pub fn rate_limit_remaining(&self, left: u64) {
        self.rate_limit_remaining.store(left, Relaxed);
        self.rate_limit_known.store(true, Relaxed);
    }

    /// How many deliveries were answered with `outcome` (for tests and logs).
    pub fn deliveries(&self, outcome: &str) -> u64 {
        self.deliveries[index(&DELIVERY_OUTCOMES, outcome)].load(Relaxed)
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let w = &mut out;
        header(
            w,
            "cavra_app_deliveries_total",
            "counter",
            "Webhook deliveries answered, by outcome.",
        );
        for (name, n) in DELIVERY_OUTCOMES.iter().zip(&self.deliveries) {
            let _ = writeln!(
                w,
                "cavra_app_deliveries_total{{outcome=\"{name}\"}} {}",
                n.load(Relaxed)
            );
        }
        header(
            w,
            "cavra_app_queue_depth",
            "gauge",
            "Jobs waiting in the queue.",
        );
        let _ = writeln!(
            w,
            "cavra_app_queue_depth {}",
            self.queue_depth.load(Relaxed)
        );
        header(
            w,
            "cavra_app_evaluation_seconds",
            "histogram",
            "How long evaluations took, by outcome.",
        );
        for (name, h) in EVALUATION_OUTCOMES.iter().zip(&self.evaluations) {
            let mut cumulative = 0;
            for (le, n) in EVALUATION_BUCKETS.iter().zip(&h.buckets) {
                cumulative += n.load(Relaxed);
                let _ = writeln!(
                    w,
                    "cavra_app_evaluation_seconds_bucket{{outcome=\"{name}\",le=\"{le}\"}} {cumulative}"
                );
            }
            cumulative += h.overflow.load(Relaxed);
            let _ = writeln!(
                w,
                "cavra_app_evaluation_seconds_bucket{{outcome=\"{name}\",le=\"+Inf\"}} {cumulative}"
            );
            let sum = h.sum_micros.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(
                w,
                "cavra_app_evaluation_seconds_sum{{outcome=\"{name}\"}} {sum}"
            );
            let _ = writeln!(
                w,
                "cavra_app_evaluation_seconds_count{{outcome=\"{name}\"}} {cumulative}"
            );
        }
        header(
            w,
            "cavra_app_github_api_calls_total",
            "counter",
            "GitHub API calls, by endpoint and HTTP status (0: no answer).",
        );
        let calls = self
            .api_calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for ((endpoint, status), n) in calls {
            let _ = writeln!(
                w,
                "cavra_app_github_api_calls_total{{endpoint=\"{}\",status=\"{status}\"}} {n}",
                label(endpoint)
            );
        }
        header(
            w,
            "cavra_app_github_rate_limit_remaining",
            "gauge",
            "GitHub's X-RateLimit-Remaining after the last call.",
        );
        if self.rate_limit_known.load(Relaxed) {
            let _ = writeln!(
                w,
                "cavra_app_github_rate_limit_remaining {}",
                self.rate_limit_remaining.load(Relaxed)
            );
        }
        out
    }
}

fn header(w: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(w, "# HELP {name} {help}");
    let _ = writeln!(w, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line-by-line check of the text exposition format: every sample belongs to a family
    /// declared by `# TYPE` before it, has well-formed labels and a number as its value.
    /// Returns the samples as `(name{labels}, value)`.
    fn parse(text: &str) -> BTreeMap<String, f64> {
        let mut types: BTreeMap<String, String> = BTreeMap::new();
        let mut samples = BTreeMap::new();
        assert!(text.ends_with('\n'));
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# ") {
                let mut parts = rest.splitn(3, ' ');
                let (kind, name, value) = (
                    parts.next().unwrap(),
                    parts.next().unwrap(),
                    parts.next().unwrap(),
                );
                match kind {
                    "HELP" => assert!(!value.is_empty()),
                    "TYPE" => {
                        assert!(["counter", "gauge", "histogram"].contains(&value), "{line}");
                        assert!(types.insert(name.into(), value.into()).is_none(), "{line}");
                    }
                    _ => panic!("{line}"),
                }
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap();
            let value: f64 = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("{line}")),
            };
            let name = series.split('{').next().unwrap();
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "{line}"
            );
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
                })
                .unwrap_or(name);
            assert!(types.contains_key(family), "no # TYPE before {line}");
            if let Some(labels) = series.strip_prefix(name) {
                if !labels.is_empty() {
                    let inner = labels.strip_prefix('{').unwrap().strip_suffix('}').unwrap();
                    for pair in inner.split("\",") {
                        let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                        assert!(k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
                        assert!(!v.trim_end_matches('"').contains('\n'));
                    }
                }
            }
            assert!(
                samples.insert(series.to_string(), value).is_none(),
                "{line}"
            );
        }
        samples
    }

    #[test]
    fn renders_valid_exposition_format() {
        let m = Metrics::new();
        m.delivery("accepted");
        m.delivery("accepted");
        m.delivery("bad_signature");
        m.delivery("something new");
        m.queue_depth(7);
        m.evaluation(0.01, "success");
        m.evaluation(3.0, "success");
        m.evaluation(120.0, "success");
        m.evaluation(0.2, "retry");
        m.api_call("GET /repos/{owner}/{repo}/pulls/{number}", 200);
        m.api_call("GET /repos/{owner}/{repo}/pulls/{number}", 200);
        m.api_call("POST /repos/{owner}/{repo}/check-runs", 0);
        let text = m.render();
        let s = parse(&text);
        assert_eq!(s["cavra_app_deliveries_total{outcome=\"accepted\"}"], 2.0);
        assert_eq!(
            s["cavra_app_deliveries_total{outcome=\"bad_signature\"}"],
            1.0
        );
        assert_eq!(s["cavra_app_deliveries_total{outcome=\"other\"}"], 1.0);
        assert_eq!(s["cavra_app_deliveries_total{outcome=\"duplicate\"}"], 0.0);
        assert_eq!(s["cavra_app_queue_depth"], 7.0);
        let b = |le: &str| {
            s[&format!("cavra_app_evaluation_seconds_bucket{{outcome=\"success\",le=\"{le}\"}}")]
        };
        assert_eq!(
            (b("0.05"), b("2.5"), b("5"), b("60"), b("+Inf")),
            (1.0, 1.0, 2.0, 2.0, 3.0)
        );
        assert_eq!(
            s["cavra_app_evaluation_seconds_count{outcome=\"success\"}"],
            3.0
        );
        assert!((s["cavra_app_evaluation_seconds_sum{outcome=\"success\"}"] - 123.01).abs() < 1e-6);
        assert_eq!(
            s["cavra_app_evaluation_seconds_count{outcome=\"retry\"}"],
            1.0
        );
        assert_eq!(
            s["cavra_app_github_api_calls_total{endpoint=\"GET /repos/{owner}/{repo}/pulls/{number}\",status=\"200\"}"],
            2.0
        );
        assert_eq!(
            s["cavra_app_github_api_calls_total{endpoint=\"POST /repos/{owner}/{repo}/check-runs\",status=\"0\"}"],
            1.0
        );
        // Unknown until GitHub answered once.
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("cavra_app_github_rate_limit_remaining"))
        );
        m.rate_limit_remaining(4999);
        assert_eq!(
            parse(&m.render())["cavra_app_github_rate_limit_remaining"],
            4999.0
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
