import HistoryStore
import MTXMonCore
import SnapshotCache

/// The live feed of a `serve` without Redis: the history file a separate collector writes.
///
/// Looks for a newer successful poll four times per interval (one indexed lookup) and rebuilds
/// the snapshot from the file only when there is one, so clients of such a `serve` still see each
/// poll, a moment later than through Redis and without connections (the file keeps those apart).
public struct HistoryFileFeed: SnapshotFeed {
    let store: HistoryStore
    let intervalMs: Int64
    let forgetAfterMs: Int64
    public let label: String

    public init(store: HistoryStore, intervalMs: Int64, forgetAfterMs: Int64 = 86_400_000) {
        self.store = store
        self.intervalMs = intervalMs
        self.forgetAfterMs = forgetAfterMs
        self.label = "history file \(store.path)"
    }

    public func messages() -> AsyncStream<FeedMessage> {
        let (stream, continuation) = AsyncStream.makeStream(of: FeedMessage.self, bufferingPolicy: .bufferingNewest(16))
        let store = store
        let forget = forgetAfterMs
        let pause = Duration.milliseconds(max(50, intervalMs / 4))
        let task = Task {
            continuation.yield(.connected)
            // Each server's newest poll told so far: a fleet's servers are told one by one.
            var told: [String: Int64] = [:]
            // Events stored from now on go out with the snapshots of their polls.
            var lastEvent = (try? await store.readOffThread { try $0.lastEventID() }) ?? 0
            while !Task.isCancelled {
                let known = told
                let after = lastEvent
                let read = try? await store.readOffThread { db -> ([Snapshot], [MonitorEvent]) in
                    guard let poll = try db.lastPoll(), poll.ts > known.values.min() ?? .min else { return ([], []) }
                    let snapshots = try db.serverNames().compactMap { server -> Snapshot? in
                        guard let last = try db.lastPoll(server: server), last.ts > known[server] ?? .min else { return nil }
                        return try db.latestSnapshot(server: server, forgetAfterMs: forget)
                    }
                    return (snapshots, snapshots.isEmpty ? [] : try db.events(after: after))
                }
                var (snapshots, events) = read ?? ([], [])
                lastEvent = events.last?.id ?? lastEvent
                for i in snapshots.indices {
                    let server = snapshots[i].serverName
                    snapshots[i].events = events.filter { ($0.server ?? server) == server }
                    events.removeAll { ($0.server ?? server) == server }
                }
                if !events.isEmpty, !snapshots.isEmpty { snapshots[0].events? += events }
                for found in snapshots {
                    told[found.serverName] = found.ts
                    continuation.yield(.snapshot(found))
                }
                try? await Task.sleep(for: pause)
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
