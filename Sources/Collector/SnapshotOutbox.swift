import MTXMonCore
import Synchronization

/// Snapshots waiting to be published to the shared cache, newest per server: a slow or hung Redis
/// costs the collector's tick nothing, and while it is stuck only the latest snapshot of each
/// server waits (a live view needs the newest, not the ones it missed).
final class SnapshotOutbox: Sendable {
    private struct State {
        var waiting: [String: Snapshot] = [:]
        /// Servers in the order their snapshot first waited, so none is starved.
        var order: [String] = []
        var finished = false
        var wake: AsyncStream<Void>.Continuation?
    }

    private let state = Mutex(State())
    let wakeups: AsyncStream<Void>

    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeups = stream
        state.withLock { $0.wake = continuation }
    }

    /// Replaces what waits for the snapshot's server; never waits.
    func offer(_ snapshot: Snapshot) {
        let wake = state.withLock { s -> AsyncStream<Void>.Continuation? in
            guard !s.finished else { return nil }
            let server = snapshot.serverName
            if s.waiting.updateValue(snapshot, forKey: server) == nil { s.order.append(server) }
            return s.wake
        }
        wake?.yield()
    }

    /// The snapshot that has waited longest, or `nil` when none waits.
    func take() -> Snapshot? {
        state.withLock { s in
            guard !s.order.isEmpty else { return nil }
            let server = s.order.removeFirst()
            return s.waiting.removeValue(forKey: server)
        }
    }

    /// No more offers: the drain ends once what waits is published.
    func finish() {
        let wake = state.withLock { s -> AsyncStream<Void>.Continuation? in
            s.finished = true
            return s.wake
        }
        wake?.finish()
    }
}

/// The cache's own events (Redis failing, back), from the drain to the next tick's batch.
final class RedisOutcomes: Sendable {
    private let events = Mutex<[MonitorEvent]>([])

    func add(_ event: MonitorEvent) { events.withLock { $0.append(event) } }

    func takeEvents() -> [MonitorEvent] {
        events.withLock { events in
            defer { events.removeAll() }
            return events
        }
    }
}
