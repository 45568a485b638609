//! The Prometheus text exposition (format 0.0.4, what CometBFT's Go client serves and what
//! Prometheus, Grafana and validators' alert rules read): the node's families first, then the
//! runtime's. A counter here is named as CometBFT names it (`cometbft_mempool_failed_txs`,
//! no `_total` appended), so dashboards built on CometBFT's names match unchanged.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A monotonic counter exposed under exactly its registered name (format 0.0.4), unlike
/// `prometheus_client`'s OpenMetrics counter, which appends `_total`.
#[derive(Clone, Debug, Default)]
pub struct PlainCounter(Counter);

impl PlainCounter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.inc();
    }

    /// Adds `n`.
    pub fn inc_by(&self, n: u64) {
        self.0.inc_by(n);
    }

    /// The count.
    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

impl TypedMetric for PlainCounter {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for PlainCounter {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        // A gauge sample is `name{labels} value`: the 0.0.4 shape of a counter.
        encoder.encode_gauge(&self.0.get())
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// The exposition: `registry`, then the runtime's families (`runtime`), without the
/// OpenMetrics `# EOF` terminators (0.0.4 has none).
pub fn render(registry: &Registry, runtime: &str) -> String {
    let mut out = String::with_capacity(16 * 1024 + runtime.len());
    if let Err(e) = prometheus_client::encoding::text::encode_registry(&mut out, registry) {
        tracing::warn!(error = %e, "cannot encode the node's metrics");
    }
    for line in runtime.lines().filter(|l| *l != "# EOF") {
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_counter_keeps_its_name_and_type() {
        let mut registry = Registry::default();
        let c = PlainCounter::default();
        registry.register("cometbft_mempool_failed_txs", "failed", c.clone());
        c.inc_by(3);
        let text = render(&registry, "# TYPE x counter\nx_total 1\n# EOF\n");
        assert!(
            text.contains("# TYPE cometbft_mempool_failed_txs counter\n"),
            "{text}"
        );
        assert!(text.contains("\ncometbft_mempool_failed_txs 3\n"), "{text}");
        assert!(text.ends_with("x_total 1\n"), "{text}");
        assert!(!text.contains("# EOF"), "{text}");
    }
}
