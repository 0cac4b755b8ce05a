import Foundation
import MTXMonCore

/// Fans snapshots out in process. Each listener has a small buffer of its own; one that falls
/// 16 snapshots behind loses the oldest, never slowing the collector that broadcasts.
public final class SnapshotBroadcaster: SnapshotFeed, @unchecked Sendable {
    // Guarded by `lock`.
    private var listeners: [UInt64: AsyncStream<FeedMessage>.Continuation] = [:]
    private var nextID: UInt64 = 0
    private let lock = NSLock()
    public let label = "in-process"

    public init() {}

    public func messages() -> AsyncStream<FeedMessage> {
        let (stream, continuation) = AsyncStream.makeStream(of: FeedMessage.self, bufferingPolicy: .bufferingNewest(16))
        let id = lock.withLock {
            nextID += 1
            listeners[nextID] = continuation
            return nextID
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            _ = self.lock.withLock { self.listeners.removeValue(forKey: id) }
        }
        continuation.yield(.connected)
        return stream
    }

    public func broadcast(_ snapshot: Snapshot) {
        let current = lock.withLock { Array(listeners.values) }
        for listener in current { listener.yield(.snapshot(snapshot)) }
    }
}

/// A cache shared with other processes (Redis) that also serves this process from memory:
/// `mtxmon run` with Redis. Its own live clients and its latest view come from memory, so they
/// keep working, at full speed, while Redis is down or hung.
public struct BroadcastingCache: SnapshotCache {
    public let inner: any SnapshotCache
    public let local: InProcessSnapshotCache
    public var broadcaster: SnapshotBroadcaster { local.broadcaster }

    public init(_ inner: any SnapshotCache, local: InProcessSnapshotCache) {
        self.inner = inner
        self.local = local
    }

    public func announce(_ snapshot: Snapshot) async { await local.publish(snapshot) }

    public func publish(_ snapshot: Snapshot) async throws {
        await local.publish(snapshot)
        try await inner.publish(snapshot)
    }

    public func latest() async throws -> Snapshot? { await local.latest() }
    public var label: String { inner.label }
    public func ping() async -> Bool { await inner.ping() }
}
