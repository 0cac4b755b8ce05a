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

/// What one tick gives the writer: its polls as rows and as snapshots.
struct TickWork: Sendable {
    var batches: [PollBatch] = []
    var snapshots: [Snapshot] = []
}

/// Ticks from the poll loop to the writer, in order. The loop never waits on it: a store that is
/// slow for a while only lets ticks queue here, and the writer takes what waits.
final class TickQueue: Sendable {
    private struct State {
        var waiting: [TickWork] = []
        var wake: AsyncStream<Void>.Continuation?
    }

    private let state = Mutex(State())
    let wakeups: AsyncStream<Void>

    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeups = stream
        state.withLock { $0.wake = continuation }
    }

    func add(_ work: TickWork) {
        let wake = state.withLock { s -> AsyncStream<Void>.Continuation? in
            s.waiting.append(work)
            return s.wake
        }
        wake?.yield()
    }

    /// The oldest tick waiting, or `nil`.
    func take() -> TickWork? {
        state.withLock { s in s.waiting.isEmpty ? nil : s.waiting.removeFirst() }
    }

    func finish() {
        state.withLock { $0.wake }?.finish()
    }
}
