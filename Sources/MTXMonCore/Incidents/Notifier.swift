/// Which incident notifications go to the receivers: an incident at or above the minimum
/// severity when it opens or rises, unless a silence matches it or the rate limit is spent, and
/// its resolution whenever its firing was sent, whatever the settings. What is held back is
/// counted by reason, never dropped silently.
public struct Notifier: Sendable {
    public enum Reason: String, Sendable, CaseIterable {
        /// Under the minimum severity (`MTXMON_WEBHOOK_MIN_SEVERITY`).
        case severity
        /// A silence matched it.
        case silenced
        /// More firing notifications in the window than the limit.
        case rateLimit = "rate_limit"
    }

    public enum Decision: Sendable, Equatable {
        case send
        case suppressed(Reason)
        /// Nothing to tell: a change that is not news (a severity falling, a count rising).
        case quiet
    }

    public var minSeverity: MonitorEvent.Severity
    /// At most this many firing notifications in any `windowMs` (resolutions are never held).
    public var limit: Int
    public var windowMs: Int64
    /// The highest severity sent for each incident still open.
    private var sent: [String: MonitorEvent.Severity] = [:]
    private var recent: [Int64] = []
    public private(set) var suppressedTotals: [Reason: Int] = [:]

    public init(minSeverity: MonitorEvent.Severity = .warning, limit: Int = 60, windowMs: Int64 = 600_000) {
        self.minSeverity = minSeverity
        self.limit = limit
        self.windowMs = windowMs
    }

    /// Incidents a previous process sent (the `notified` figure of their newest event).
    public mutating func restore(_ id: String, notified: MonitorEvent.Severity) { sent[id] = notified }

    public func notified(_ id: String) -> MonitorEvent.Severity? { sent[id] }

    public mutating func decide(_ incident: Incident, silences: [Silence], at ts: Int64) -> Decision {
        let told = sent[incident.id]
        if incident.status == .resolved {
            sent[incident.id] = nil
            return told == nil ? .quiet : .send
        }
        if let told, incident.severity <= told { return .quiet }
        guard incident.severity >= minSeverity else { return hold(.severity) }
        if silences.contains(where: { $0.matches(incident, at: ts) }) { return hold(.silenced) }
        recent.removeAll { $0 <= ts - windowMs }
        guard recent.count < limit else { return hold(.rateLimit) }
        recent.append(ts)
        sent[incident.id] = incident.severity
        return .send
    }

    private mutating func hold(_ reason: Reason) -> Decision {
        suppressedTotals[reason, default: 0] += 1
        return .suppressed(reason)
    }
}
