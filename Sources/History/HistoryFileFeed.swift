import MTXMonCore

/// The live feed of a `serve` without Redis: the history a separate collector writes.
///
/// Looks for a newer successful poll four times per interval (one indexed lookup) and rebuilds
/// the snapshot from the file only when there is one, so clients of such a `serve` still see each
/// poll, a moment later than through Redis and without connections (the file keeps those apart).
public struct HistoryFileFeed: SnapshotFeed {
    let store: any HistoryReader
    let intervalMs: Int64
    let forgetAfterMs: Int64
    public let label: String

    public init(store: any HistoryReader, intervalMs: Int64, forgetAfterMs: Int64 = 86_400_000) {
        self.store = store
        self.intervalMs = intervalMs
        self.forgetAfterMs = forgetAfterMs
        self.label = "history \(store.location)"
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
            var lastEvent = (try? await store.lastEventID()) ?? 0
            while !Task.isCancelled {
                let read = try? await Self.newer(than: told, after: lastEvent, store, forgetAfterMs: forget)
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

    /// Each server's latest state when it has a poll newer than `told` says, and the events
    /// stored after `after`.
    static func newer(than told: [String: Int64], after: Int64, _ store: any HistoryReader,
                      forgetAfterMs: Int64) async throws -> ([Snapshot], [MonitorEvent]) {
        guard let poll = try await store.lastPoll(), poll.ts > told.values.min() ?? .min else { return ([], []) }
        var snapshots: [Snapshot] = []
        for server in try await store.serverNames() {
            guard let last = try await store.polls(server: server).lastPoll, last.ts > told[server] ?? .min,
                  let snapshot = try await store.latestSnapshot(server: server, forgetAfterMs: forgetAfterMs) else {
                continue
            }
            snapshots.append(snapshot)
        }
        return (snapshots, snapshots.isEmpty ? [] : try await store.events(after: after, limit: 1_000))
    }
}
