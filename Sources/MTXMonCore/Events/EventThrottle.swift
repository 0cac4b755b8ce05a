/// Which events go to the webhooks: those at or above a severity, at most `perPath` per path (or
/// per server, for events of no path) in each window, and at most `overall` in all. What a window
/// left out is told once it ends, in one `flapping` event per path: a path that flaps sends a
/// summary, not a flood, and a thousand flapping paths send a bounded number of requests.
public struct EventThrottle: Sendable {
    public var minSeverity: MonitorEvent.Severity
    public var perPath: Int
    public var overall: Int
    public var windowMs: Int64

    struct Window: Sendable {
        var start: Int64
        var sent = 0
        var left = 0
        var server: String?
        var path: String?
        var kinds: [MonitorEvent.Kind: Int] = [:]
    }

    private var windows: [String: Window] = [:]
    private var all: Window?

    public init(minSeverity: MonitorEvent.Severity = .warning, perPath: Int = 5, overall: Int = 300,
                windowMs: Int64 = 600_000) {
        self.minSeverity = minSeverity
        self.perPath = perPath
        self.overall = overall
        self.windowMs = windowMs
    }

    /// Paths with a window open: the memory this holds.
    public var openWindows: Int { windows.count }

    /// Whether `event` is sent; one left out is counted for its path's summary.
    public mutating func admit(_ event: MonitorEvent) -> Bool {
        guard event.severity >= minSeverity else { return false }
        guard event.kind != .flapping else { return true }
        let key = (event.server ?? "") + "\u{0}" + (event.path ?? "")
        var window = windows[key] ?? Window(start: event.ts, server: event.server, path: event.path)
        var total = all ?? Window(start: event.ts)
        defer {
            windows[key] = window
            all = total
        }
        guard window.sent < perPath, total.sent < overall else {
            window.left += 1
            window.kinds[event.kind, default: 0] += 1
            return false
        }
        window.sent += 1
        total.sent += 1
        return true
    }

    /// The summaries of the windows that ended by `now`; ended windows are let go.
    public mutating func summaries(at now: Int64) -> [MonitorEvent] {
        var told: [MonitorEvent] = []
        for (key, window) in windows where now - window.start >= windowMs {
            windows[key] = nil
            guard window.left > 0 else { continue }
            let what = window.kinds.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
            let subject = window.path ?? (window.server.map { "server \($0)" } ?? "the recorder")
            var figures: [String: MonitorEvent.Figure] = ["leftOut": .number(Double(window.left)),
                                                          "sent": .number(Double(window.sent)),
                                                          "windowMs": .number(Double(windowMs))]
            for (kind, count) in window.kinds { figures["leftOut." + kind.rawValue] = .number(Double(count)) }
            told.append(MonitorEvent(.flapping, severity: .warning, ts: now, server: window.server, path: window.path,
                                     message: "\(subject) flapped: \(window.sent + window.left) events in \(windowMs / 60_000) min, "
                                        + "\(window.left) not sent (\(what)); see GET /api/v1/events",
                                     figures: figures))
        }
        if let total = all, now - total.start >= windowMs { all = nil }
        return told.sorted { ($0.server ?? "", $0.path ?? "") < ($1.server ?? "", $1.path ?? "") }
    }
}
