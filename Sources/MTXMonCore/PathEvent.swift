/// A change of a path's state between two consecutive polls, for live clients that act on
/// changes (an alert, a log line) rather than on every snapshot.
public struct PathEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The path appeared online, or its publisher came back.
        case online
        /// The path went offline or disappeared from MediaMTX's list.
        case offline
        /// The path's counters went down: its publisher reconnected.
        case reset
    }

    public var kind: Kind
    /// The server of the path; `nil` for a snapshot that names none (the `default` server).
    public var server: String?
    public var path: String
    /// The poll time of the snapshot that showed the change.
    public var ts: Int64

    public init(_ kind: Kind, path: String, ts: Int64, server: String? = nil) {
        self.kind = kind
        self.server = server
        self.path = path
        self.ts = ts
    }

    /// The changes from `previous` to `next` (both polls MediaMTX answered), in path-name order.
    /// Without a previous snapshot there is nothing to compare: the snapshot itself tells the state.
    ///
    /// `online` when a path becomes online; `offline` when an online path is offline or gone;
    /// `reset` for every sample the collector flagged as a restart, also when the path came
    /// online in the same poll, so live clients count restarts as `history`, `history_1m` and
    /// `/api/v1/rates` do.
    public static func between(_ previous: Snapshot?, _ next: Snapshot) -> [PathEvent] {
        guard let previous else { return [] }
        var before: [String: PathState] = [:]
        before.reserveCapacity(previous.paths.count)
        for path in previous.paths { before[path.name] = path.currentState }
        var events: [PathEvent] = []
        var seen = Set<String>()
        seen.reserveCapacity(next.paths.count)
        for path in next.paths {
            seen.insert(path.name)
            let was = before[path.name]
            let now = path.currentState
            if now == .online, was != .online {
                events.append(PathEvent(.online, path: path.name, ts: next.ts))
            } else if now == .offline, was == .online {
                events.append(PathEvent(.offline, path: path.name, ts: next.ts))
            }
            if path.reset { events.append(PathEvent(.reset, path: path.name, ts: next.ts)) }
        }
        for path in previous.paths where path.currentState == .online && !seen.contains(path.name) {
            events.append(PathEvent(.offline, path: path.name, ts: next.ts))
        }
        if let server = next.server {
            for i in events.indices { events[i].server = server }
        }
        return events.sorted { $0.path < $1.path }
    }
}

extension MonitorEvent {
    /// A path event worked out by a listener (from a collector that sends no events) in the form
    /// stored events have.
    public init(_ event: PathEvent) {
        let severity: Severity = event.kind == .online ? .info : .warning
        let text = switch event.kind {
        case .online: "\(event.path) is online"
        case .offline: "\(event.path) went offline"
        case .reset: "\(event.path)'s counters started again: its publisher reconnected"
        }
        let kind: Kind = switch event.kind {
        case .online: .online
        case .offline: .offline
        case .reset: .reset
        }
        self.init(kind, severity: severity, ts: event.ts, server: event.server ?? ServerName.default, path: event.path,
                  message: text)
    }
}
