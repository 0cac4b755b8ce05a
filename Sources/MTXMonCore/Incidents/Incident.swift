/// A problem as an operator is paged for it: it opens once its condition has held for its rule's
/// time, may rise and fall in severity, and resolves once the condition has cleared for the
/// rule's time. Raw events stay the detailed record; an incident is what receivers act on.
///
/// Stored as `incident` events (one at each opening, change of severity and resolution, each
/// carrying the whole incident), so every history store keeps them and every receiver's queue
/// delivers them, and `GET /api/v1/incidents` folds them back.
public struct Incident: Sendable, Equatable {
    public enum Cause: String, Codable, Sendable, CaseIterable {
        /// A MediaMTX server's polls fail.
        case serverUnreachable = "server_unreachable"
        /// Most of a server's streams started again in one poll: MediaMTX restarted.
        case serverRestart = "server_restart"
        /// A path that was online is offline or gone.
        case offline
        /// A stream's health verdict is degraded or bad (see `StreamHealth`).
        case quality
        /// A forward destination of a path fails.
        case forwardError = "forward_error"
        /// The snapshot cache (Redis) fails.
        case cacheFailing = "cache_failing"
        /// The history store refuses writes.
        case storeFailing = "store_failing"
    }

    public enum Status: String, Codable, Sendable {
        case firing, resolved
    }

    public var id: String
    public var cause: Cause
    public var server: String?
    public var path: String?
    /// What within the path (a forward destination's id).
    public var subject: String?
    public var start: Int64
    /// When the condition cleared, once resolved.
    public var end: Int64?
    public var severity: MonitorEvent.Severity
    /// The highest severity it reached.
    public var peak: MonitorEvent.Severity
    /// Paths swallowed by a server-wide incident (a restart, an outage).
    public var paths: [String] = []
    /// Times the condition came back before the incident resolved: a flapping link is one
    /// incident with a count.
    public var count = 1
    /// Notifications of it that were not sent (silenced, or over the rate limit).
    public var suppressed = 0
    /// The highest severity sent to receivers, if any was: its resolution is owed to them.
    public var notified: MonitorEvent.Severity?
    /// The newest words on what is wrong, from the condition's own event.
    public var detail: String

    public var status: Status { end == nil ? .firing : .resolved }

    public init(id: String, cause: Cause, server: String?, path: String?, subject: String? = nil, start: Int64,
                severity: MonitorEvent.Severity, detail: String) {
        self.id = id
        self.cause = cause
        self.server = server
        self.path = path
        self.subject = subject
        self.start = start
        self.severity = severity
        self.peak = severity
        self.detail = detail
    }

    /// Stable for one incident across processes (an HA pair, a restart): derived from what it is
    /// about and when it started.
    public static func makeID(cause: Cause, server: String?, path: String?, subject: String?, start: Int64) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in [cause.rawValue, server ?? "", path ?? "", subject ?? "", String(start)].joined(separator: "\u{0}").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "inc-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Who it is about, in a sentence's words.
    var subjectText: String {
        switch cause {
        case .serverUnreachable, .serverRestart:
            "MediaMTX" + (server.map { $0 == ServerName.default ? "" : " server '\($0)'" } ?? "")
        case .cacheFailing: "the snapshot cache (Redis)"
        case .storeFailing: "the history store"
        case .offline, .quality, .forwardError: path ?? "a path"
        }
    }

    /// The sentence a receiver shows.
    public var message: String {
        let what: String = switch cause {
        case .serverUnreachable: "is not answering"
        case .serverRestart: "restarted: \(paths.count) stream\(paths.count == 1 ? "" : "s") started again at once"
        case .offline: "is offline"
        case .quality: "has a stream with problems"
        case .forwardError: "cannot forward to a destination"
        case .cacheFailing: "fails; history is still written"
        case .storeFailing: "refuses writes; polls are held and written when it takes them"
        }
        var text = "\(subjectText) \(what)"
        if status == .resolved {
            text = "resolved after \(Self.duration((end ?? start) - start)): " + text
        }
        if !detail.isEmpty { text += " (\(detail))" }
        if count > 1 { text += "; came back \(count - 1) time\(count == 2 ? "" : "s") within it" }
        if !paths.isEmpty, cause != .serverRestart || paths.count <= 20 {
            let shown = paths.prefix(20).joined(separator: ", ")
            text += "; paths: \(shown)\(paths.count > 20 ? " and \(paths.count - 20) more" : "")"
        }
        return text
    }

    static func duration(_ ms: Int64) -> String {
        let s = max(0, ms / 1_000)
        if s < 120 { return "\(s) s" }
        if s < 7_200 { return "\(s / 60) min" }
        return "\(s / 3_600) h \(s % 3_600 / 60) min"
    }
}

extension Incident {
    /// The event that records this incident's state at `ts`.
    public func event(at ts: Int64) -> MonitorEvent {
        var figures: [String: MonitorEvent.Figure] = [
            "incident": .text(id), "status": .text(status.rawValue), "cause": .text(cause.rawValue),
            "start": .number(Double(start)), "peak": .text(peak.rawValue), "count": .number(Double(count)),
            "suppressed": .number(Double(suppressed)),
        ]
        if let end { figures["end"] = .number(Double(end)) }
        if let subject { figures["subject"] = .text(subject) }
        if let notified { figures["notified"] = .text(notified.rawValue) }
        if !paths.isEmpty {
            figures["paths"] = .text(paths.joined(separator: "\n"))
            figures["pathCount"] = .number(Double(paths.count))
        }
        if !detail.isEmpty { figures["detail"] = .text(detail) }
        return MonitorEvent(.incident, severity: severity, ts: ts, server: server, path: path, message: message,
                            figures: figures)
    }

    /// The incident an `incident` event records; `nil` for any other event or one whose figures
    /// do not hold an incident.
    public init?(_ event: MonitorEvent) {
        guard event.kind == .incident, case let .text(id)? = event.figures["incident"],
              case let .text(causeText)? = event.figures["cause"], let cause = Cause(rawValue: causeText),
              case let .number(start)? = event.figures["start"] else { return nil }
        func text(_ key: String) -> String? {
            if case let .text(value)? = event.figures[key] { return value }
            return nil
        }
        func number(_ key: String) -> Double? {
            if case let .number(value)? = event.figures[key] { return value }
            return nil
        }
        self.init(id: id, cause: cause, server: event.server, path: event.path, subject: text("subject"),
                  start: Int64(start), severity: event.severity, detail: text("detail") ?? "")
        peak = text("peak").flatMap(MonitorEvent.Severity.init(rawValue:)) ?? event.severity
        end = number("end").map { Int64($0) }
        count = Int(number("count") ?? 1)
        suppressed = Int(number("suppressed") ?? 0)
        notified = text("notified").flatMap(MonitorEvent.Severity.init(rawValue:))
        paths = text("paths").map { $0.split(separator: "\n").map(String.init) } ?? []
    }
}
