import MTXMonCore

/// Where the latest snapshot lives between polls, and how other processes hear of new ones.
///
/// Two implementations: `RedisSnapshotCache` for several processes sharing one collector, and
/// `InProcessSnapshotCache` for a single `mtxmon run` without Redis. Both expire the snapshot
/// after `ttl`, so a dead collector is never shown as live data.
public protocol SnapshotCache: Sendable {
    /// Tells this process's own readers of `snapshot` at once (the latest view and live clients
    /// of `mtxmon run`). Never waits on another system; the collector calls it in its tick.
    func announce(_ snapshot: Snapshot) async
    /// Stores `snapshot` as its server's latest (replacing that server's previous one) where other
    /// processes read it, and announces it to them. May wait on the network: the collector calls
    /// it off its tick, newest snapshot first.
    func publish(_ snapshot: Snapshot) async throws
    /// Every server's latest snapshot published within the time to live, merged
    /// (`Snapshot.fleet`); `nil` when there is none.
    func latest() async throws -> Snapshot?
    /// A short description for logs and `/healthz`, e.g. `redis 127.0.0.1:6379`.
    var label: String { get }
    /// Whether the cache answers now (for `/healthz`), waiting a quarter of a second at most.
    func ping() async -> Bool
}

extension SnapshotCache {
    /// A cache that only other processes read has nothing to tell this one.
    public func announce(_ snapshot: Snapshot) async {}
}

/// The embedded default: the same contract, held in memory.
public actor InProcessSnapshotCache: SnapshotCache {
    private var current: [String: (snapshot: Snapshot, storedAt: ContinuousClock.Instant)] = [:]
    private let ttl: Duration
    public nonisolated let label = "in-process"
    /// Tells this process's live clients of each snapshot as it is stored.
    public nonisolated let broadcaster = SnapshotBroadcaster()

    public init(ttl: Duration) {
        self.ttl = ttl
    }

    public func announce(_ snapshot: Snapshot) {
        publish(snapshot)
    }

    /// Stores and broadcasts; a snapshot already announced is not broadcast twice.
    public func publish(_ snapshot: Snapshot) {
        if let stored = current[snapshot.serverName]?.snapshot, stored.ts == snapshot.ts, stored == snapshot { return }
        current[snapshot.serverName] = (snapshot, .now)
        broadcaster.broadcast(snapshot)
    }

    public func ping() -> Bool { true }

    /// A snapshot stays readable for the time to live, or for its own server's (`Cadence`) when
    /// that is longer: a server polled every 10 s is not gone between two of its polls.
    public func latest() -> Snapshot? {
        let now = ContinuousClock.now
        return Snapshot.fleet(current.values.filter { entry in
            let own = Duration.milliseconds(entry.snapshot.intervalMs.map { Cadence(intervalMs: $0).ttlMs } ?? 0)
            return entry.storedAt.duration(to: now) < max(ttl, own)
        }.map(\.snapshot))
    }
}
