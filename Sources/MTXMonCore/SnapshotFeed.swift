/// What a server process hears from the collector: each snapshot as it is published, and when
/// the channel it listens on comes and goes (a snapshot may have been missed meanwhile).
public enum FeedMessage: Sendable, Equatable {
    case snapshot(Snapshot)
    /// Listening (again): what came before may have been missed.
    case connected
    /// The channel is down; reconnecting with backoff. The reason is for logs.
    case disconnected(String)
}

/// How a server learns of new snapshots, whichever process took them.
///
/// `RedisSubscriber` for `mtxmon serve` beside a separate collector; `SnapshotBroadcaster` for
/// `mtxmon run`, where the collector is in the same process and no Redis is needed.
public protocol SnapshotFeed: Sendable {
    /// A stream of every snapshot published from now on. It starts with `.connected` once the
    /// feed listens, and ends when the consumer stops iterating it.
    func messages() -> AsyncStream<FeedMessage>
    /// For logs and `/healthz`, e.g. `redis 127.0.0.1:6379 mediamtx:streams:updates`.
    var label: String { get }
}
