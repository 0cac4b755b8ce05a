import Metrics
import MTXMonCore

/// The collector's own series, created once so the exporter bootstrapped by `main` holds them.
struct CollectorMetrics: Sendable {
    let polls: Counter
    /// By cause (`reason` label), so an alert tells a stopped MediaMTX from a slow one.
    let pollFailuresByReason: [FailureReason: Counter]
    let pollsAbandoned: Counter
    let ticksSkipped: Counter
    /// How late each tick started after its slot: work beside the tick (seals, prunes, a slow
    /// disk) shows here before it costs a poll.
    let tickDelay: Metrics.Timer
    let pollDuration: Metrics.Timer
    let paths: Gauge
    let samplesWritten: Counter
    let redisErrors: Counter
    let sqliteErrors: Counter
    /// Per protocol, so an alert names the list that fails while the paths are still recorded.
    let connectionListFailures: [ConnectionProtocol: Counter]
    /// Rows the history file refused and that were left out of an otherwise stored poll.
    let rowsSkipped: Counter
    /// Held polls dropped because the hold file and its memory bound were full.
    let heldDropped: Counter
    /// Samples MediaMTX reported with impossible figures, left out.
    let invalidSamples: Counter
    /// 1 while the server's last poll was answered, 0 while its polls fail.
    let serverUp: Gauge
    /// Incident notifications held back, by reason (`Notifier.Reason`).
    let suppressed: [Notifier.Reason: Counter]
    /// Incidents open now, by cause and severity.
    let incidentsOpen: [String: Gauge]

    /// `server` labels the series of one server's polls (`server="edge1"`), so an alert names
    /// the server that fails; the collector's own series (writes, Redis, ticks) have none.
    init(factory: any MetricsFactory = MetricsSystem.factory, server: String = ServerName.default) {
        let by = [("server", server)]
        polls = Counter(label: "mtxmon_polls_total", dimensions: by, factory: factory)
        var byReason: [FailureReason: Counter] = [:]
        for reason in FailureReason.allCases {
            byReason[reason] = Counter(label: "mtxmon_poll_failures_total",
                                       dimensions: by + [("reason", reason.rawValue)], factory: factory)
        }
        pollFailuresByReason = byReason
        pollsAbandoned = Counter(label: "mtxmon_polls_abandoned_total", dimensions: by, factory: factory)
        ticksSkipped = Counter(label: "mtxmon_ticks_skipped_total", factory: factory)
        tickDelay = Metrics.Timer(label: "mtxmon_tick_delay_seconds", factory: factory)
        pollDuration = Metrics.Timer(label: "mtxmon_poll_duration_seconds", dimensions: by,
                                     preferredDisplayUnit: .seconds, factory: factory)
        paths = Gauge(label: "mtxmon_paths", dimensions: by, factory: factory)
        samplesWritten = Counter(label: "mtxmon_samples_written_total", factory: factory)
        redisErrors = Counter(label: "mtxmon_redis_errors_total", factory: factory)
        sqliteErrors = Counter(label: "mtxmon_sqlite_errors_total", factory: factory)
        var lists: [ConnectionProtocol: Counter] = [:]
        for proto in ConnectionProtocol.allCases {
            lists[proto] = Counter(label: "mtxmon_connection_list_failures_total",
                                   dimensions: by + [("list", proto.rawValue)], factory: factory)
        }
        connectionListFailures = lists
        rowsSkipped = Counter(label: "mtxmon_rows_skipped_total", factory: factory)
        heldDropped = Counter(label: "mtxmon_held_polls_dropped_total", factory: factory)
        invalidSamples = Counter(label: "mtxmon_invalid_samples_total", dimensions: by, factory: factory)
        serverUp = Gauge(label: "mtxmon_server_up", dimensions: by, factory: factory)
        var suppressed: [Notifier.Reason: Counter] = [:]
        for reason in Notifier.Reason.allCases {
            let counter = Counter(label: "mtxmon_notifications_suppressed_total", dimensions: [("reason", reason.rawValue)],
                                  factory: factory)
            counter.increment(by: 0)
            suppressed[reason] = counter
        }
        self.suppressed = suppressed
        var open: [String: Gauge] = [:]
        for cause in Incident.Cause.allCases {
            for severity in [MonitorEvent.Severity.warning, .critical] {
                let gauge = Gauge(label: "mtxmon_incidents_open",
                                  dimensions: [("cause", cause.rawValue), ("severity", severity.rawValue)], factory: factory)
                gauge.record(0)
                open[cause.rawValue + "/" + severity.rawValue] = gauge
            }
        }
        incidentsOpen = open
    }

    func pollFailures(_ reason: FailureReason) -> Counter { pollFailuresByReason[reason]! }
}

import Logging

extension Logger {
    /// The logger of one server's polls: its lines name the server.
    func with(server: String) -> Logger {
        var logger = self
        logger[metadataKey: "server"] = "\(server)"
        return logger
    }
}
