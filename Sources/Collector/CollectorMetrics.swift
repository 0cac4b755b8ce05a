import Metrics

/// The collector's own series, created once so the exporter bootstrapped by `main` holds them.
struct CollectorMetrics: Sendable {
    let polls = Counter(label: "mtxmon_polls_total")
    let pollFailures = Counter(label: "mtxmon_poll_failures_total")
    let pollsAbandoned = Counter(label: "mtxmon_polls_abandoned_total")
    let ticksSkipped = Counter(label: "mtxmon_ticks_skipped_total")
    let pollDuration = Metrics.Timer(label: "mtxmon_poll_duration_seconds", preferredDisplayUnit: .seconds)
    let paths = Gauge(label: "mtxmon_paths")
    let samplesWritten = Counter(label: "mtxmon_samples_written_total")
    let redisErrors = Counter(label: "mtxmon_redis_errors_total")
    let sqliteErrors = Counter(label: "mtxmon_sqlite_errors_total")
}
