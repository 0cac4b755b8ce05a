/// `# HELP` lines for the series made through swift-metrics, whose API has no help text: the
/// exposition gets one for every family, so `promtool check metrics` and Grafana's metric
/// browser have words for each.
enum MetricHelp {
    static let text: [String: String] = [
        "mtxmon_polls_total": "Polls of MediaMTX, answered or not.",
        "mtxmon_poll_failures_total": "Polls MediaMTX did not answer, by cause (reason label).",
        "mtxmon_polls_abandoned_total": "Polls still running at their deadline, given up so the next tick is on time.",
        "mtxmon_ticks_skipped_total": "Poll ticks skipped because a poll and its writes ran past them.",
        "mtxmon_poll_duration_seconds": "Time from a poll's first request to its last answer.",
        "mtxmon_paths": "Paths MediaMTX listed at the last answered poll.",
        "mtxmon_samples_written_total": "Path samples written to the history file.",
        "mtxmon_redis_errors_total": "Snapshots Redis refused or did not answer for.",
        "mtxmon_sqlite_errors_total": "Writes the history store refused; their polls are held and written again.",
        "mtxmon_held_polls_dropped_total": "Held polls dropped because the hold file and its memory bound were full.",
        "mtxmon_invalid_samples_total": "Samples MediaMTX reported with impossible figures, left out, by server.",
        "mtxmon_connection_list_failures_total": "Connection lists MediaMTX did not answer, by list.",
        "mtxmon_rows_skipped_total": "Rows the history file refused, left out of an otherwise stored poll.",
        "mtxmon_server_up": "1 while the server's last poll was answered, 0 while its polls fail.",
        "mtxmon_incidents_open": "Incidents open now, by cause and severity (GET /api/v1/incidents).",
        "mtxmon_notifications_suppressed_total": "Incident notifications held back, by reason: severity, silenced, rate_limit.",
        "mtxmon_ws_clients": "WebSocket clients connected to the live feed.",
        "mtxmon_ws_clients_closed_slow_total": "WebSocket clients closed because they read no updates.",
        "mtxmon_ws_snapshots_received_total": "Snapshots the live feed received from the collector.",
        "http_server_active_requests": "HTTP requests being served now.",
        "http_server_requests_total": "HTTP requests served, by method, route and status.",
        "http_server_request_duration_seconds": "Time to serve an HTTP request, by method, route and status.",
        "http_server_request_errors_total": "HTTP requests that ended in an error, by method, route and error.",
    ]

    /// `exposition` with a `# HELP` line before each `# TYPE` line that has none.
    static func complete(_ exposition: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(exposition.count + 2_048)
        var previousLine: ArraySlice<UInt8> = []
        for line in exposition.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if line.starts(with: "# TYPE ".utf8) {
                let name = String(decoding: line.dropFirst(7).prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self)
                if !previousLine.starts(with: "# HELP \(name) ".utf8) {
                    let help = text[name] ?? "mtxmon's own \(name); see the README's /metrics section."
                    out += "# HELP \(name) \(help)\n".utf8
                }
            }
            out += line
            out.append(UInt8(ascii: "\n"))
            previousLine = line
        }
        if out.last == UInt8(ascii: "\n"), exposition.last == UInt8(ascii: "\n") { out.removeLast() }
        return out
    }
}
