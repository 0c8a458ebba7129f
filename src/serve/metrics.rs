//! The service's counters, written in the Prometheus text format at
//! `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// A latency histogram.
#[derive(Debug, Default)]
struct Histogram {
    /// Per bucket (and one past the last), not cumulative.
    counts: [AtomicU64; BUCKETS.len() + 1],
    /// The sum, in microseconds.
    sum: AtomicU64,
}

impl Histogram {
    fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        if let Some(c) = self.counts.get(bucket) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum.fetch_add(micros, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let mut total = 0;
        for (i, count) in self.counts.iter().enumerate() {
            total += count.load(Ordering::Relaxed);
            let le = BUCKETS.get(i).map_or("+Inf".to_owned(), f64::to_string);
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {total}");
        }
        let sum = self.sum.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {total}");
    }
}

/// Every counter of the service.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests by route and status.
    requests: RwLock<BTreeMap<(&'static str, u16), AtomicU64>>,
    /// Decisions by policy and outcome. These maps have a few entries,
    /// each counted without a lock once it is there.
    decisions: RwLock<BTreeMap<(String, String), AtomicU64>>,
    /// Latency by route.
    latency: RwLock<BTreeMap<&'static str, Histogram>>,
    /// Reloads that made a new revision, and those that failed.
    pub reloads_ok: AtomicU64,
    /// Reloads with a file that failed.
    pub reloads_failed: AtomicU64,
    /// When the last revision began to serve, seconds since the epoch.
    pub last_activation: AtomicI64,
    /// Watch streams open now.
    pub watch_streams: AtomicI64,
}

impl Metrics {
    /// Counts a request to `route` that answered `status` after `took`.
    pub fn request(&self, route: &'static str, status: u16, took: Duration) {
        let key = (route, status);
        let counted = |r: &BTreeMap<_, AtomicU64>| {
            r.get(&key)
                .map(|n| n.fetch_add(1, Ordering::Relaxed))
                .is_some()
        };
        if !self.requests.read().is_ok_and(|r| counted(&r))
            && let Ok(mut r) = self.requests.write()
        {
            r.entry(key).or_default().fetch_add(1, Ordering::Relaxed);
        }
        let observed = |l: &BTreeMap<_, Histogram>| l.get(route).map(|h| h.observe(took)).is_some();
        if !self.latency.read().is_ok_and(|l| observed(&l))
            && let Ok(mut l) = self.latency.write()
        {
            l.entry(route).or_default().observe(took);
        }
    }

    /// Counts `n` decisions of `policy` with `outcome`.
    pub fn decided(&self, policy: &str, outcome: &str, n: u64) {
        let counted = |d: &BTreeMap<(String, String), AtomicU64>| {
            // Found without making a key.
            d.iter()
                .find(|((p, o), _)| p == policy && o == outcome)
                .map(|(_, count)| count.fetch_add(n, Ordering::Relaxed))
                .is_some()
        };
        if self.decisions.read().is_ok_and(|d| counted(&d)) {
            return;
        }
        if let Ok(mut d) = self.decisions.write()
            && !counted(&d)
        {
            d.insert((policy.to_owned(), outcome.to_owned()), AtomicU64::new(n));
        }
    }

    /// The text of `GET /metrics`, with the decision log's queue depth and
    /// drops.
    pub fn render(&self, log: Option<(usize, u64, u64)>) -> String {
        let mut out = String::new();
        out.push_str("# HELP policyc_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE policyc_requests_total counter\n");
        if let Ok(r) = self.requests.read() {
            for ((route, status), n) in r.iter() {
                let n = n.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "policyc_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP policyc_decisions_total Decisions by policy and outcome.\n");
        out.push_str("# TYPE policyc_decisions_total counter\n");
        if let Ok(d) = self.decisions.read() {
            for ((policy, outcome), n) in d.iter() {
                let n = n.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "policyc_decisions_total{{policy={},outcome={}}} {n}",
                    label(policy),
                    label(outcome)
                );
            }
        }
        out.push_str("# HELP policyc_request_seconds Request latency by route.\n");
        out.push_str("# TYPE policyc_request_seconds histogram\n");
        if let Ok(l) = self.latency.read() {
            for (route, h) in l.iter() {
                h.write(
                    &mut out,
                    "policyc_request_seconds",
                    &format!("route=\"{route}\""),
                );
            }
        }
        let gauges = [
            (
                "policyc_reloads_succeeded_total",
                "counter",
                "Reloads that activated a new revision.",
                self.reloads_ok.load(Ordering::Relaxed) as i64,
            ),
            (
                "policyc_reloads_failed_total",
                "counter",
                "Reloads in which a file failed (its previous revision kept serving).",
                self.reloads_failed.load(Ordering::Relaxed) as i64,
            ),
            (
                "policyc_last_activation_timestamp_seconds",
                "gauge",
                "When the revision in use began to serve.",
                self.last_activation.load(Ordering::Relaxed),
            ),
            (
                "policyc_watch_streams",
                "gauge",
                "Watch streams open now.",
                self.watch_streams.load(Ordering::Relaxed),
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        if let Some((depth, dropped, failed)) = log {
            let _ = writeln!(
                out,
                "# HELP policyc_decision_log_queue_depth Decision-log lines waiting to be written.\n\
                 # TYPE policyc_decision_log_queue_depth gauge\n\
                 policyc_decision_log_queue_depth {depth}\n\
                 # HELP policyc_decision_log_dropped_total Decision-log lines dropped on a full queue.\n\
                 # TYPE policyc_decision_log_dropped_total counter\n\
                 policyc_decision_log_dropped_total {dropped}\n\
                 # HELP policyc_decision_log_failed_total Decision-log lines that could not be written.\n\
                 # TYPE policyc_decision_log_failed_total counter\n\
                 policyc_decision_log_failed_total {failed}"
            );
        }
        out
    }
}

/// A label value, quoted and escaped.
fn label(value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_is_cumulative_and_counts_every_request() {
        let m = Metrics::default();
        m.request("decide", 200, Duration::from_micros(300));
        m.request("decide", 200, Duration::from_millis(3));
        m.request("decide", 400, Duration::from_secs(10));
        m.decided("p", "gr\"een", 2);
        let text = m.render(Some((1, 2, 0)));
        assert!(text.contains("policyc_request_seconds_bucket{route=\"decide\",le=\"0.0005\"} 1"));
        assert!(text.contains("policyc_request_seconds_bucket{route=\"decide\",le=\"0.005\"} 2"));
        assert!(text.contains("policyc_request_seconds_bucket{route=\"decide\",le=\"+Inf\"} 3"));
        assert!(text.contains("policyc_requests_total{route=\"decide\",status=\"400\"} 1"));
        assert!(text.contains("policyc_decisions_total{policy=\"p\",outcome=\"gr\\\"een\"} 2"));
        assert!(text.contains("policyc_decision_log_dropped_total 2"));
    }
}
