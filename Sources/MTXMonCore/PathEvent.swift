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
    public var path: String
    /// The poll time of the snapshot that showed the change.
    public var ts: Int64

    public init(_ kind: Kind, path: String, ts: Int64) {
        self.kind = kind
        self.path = path
        self.ts = ts
    }

    /// The changes from `previous` to `next`, in path-name order. Without a previous snapshot
    /// there is nothing to compare: the snapshot itself tells the state.
    ///
    /// A path that vanishes is `offline` only if it was online; one that appears is `online`
    /// only if it is. A reset of a path that also came online in the same poll is reported
    /// as `online` alone: a new publisher always starts new counters.
    public static func between(_ previous: Snapshot?, _ next: Snapshot) -> [PathEvent] {
        guard let previous else { return [] }
        var before: [String: Bool] = [:]
        before.reserveCapacity(previous.paths.count)
        for path in previous.paths { before[path.name] = path.online }
        var events: [PathEvent] = []
        var seen = Set<String>()
        seen.reserveCapacity(next.paths.count)
        for path in next.paths {
            seen.insert(path.name)
            let wasOnline = before[path.name] ?? false
            if path.online, !wasOnline {
                events.append(PathEvent(.online, path: path.name, ts: next.ts))
            } else if !path.online, wasOnline {
                events.append(PathEvent(.offline, path: path.name, ts: next.ts))
            } else if path.reset {
                events.append(PathEvent(.reset, path: path.name, ts: next.ts))
            }
        }
        for path in previous.paths where path.online && !seen.contains(path.name) {
            events.append(PathEvent(.offline, path: path.name, ts: next.ts))
        }
        return events.sorted { $0.path < $1.path }
    }
}
