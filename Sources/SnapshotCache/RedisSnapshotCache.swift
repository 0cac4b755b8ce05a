import Foundation
import Logging
import MTXMonCore

/// Where and how to reach Redis, with the names of the key and channel mtxmon uses.
public struct RedisSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var password: String?
    /// Holds the snapshot as the original collector's JSON array; `<key>:snapshot` holds the full form.
    public var key: String
    /// Each full snapshot is published here after it is stored.
    public var channel: String
    /// Bound on every Redis call, so a hung Redis cannot hold a poll.
    public var timeoutMs: Int

    public init(
        host: String, port: Int = 6379, password: String? = nil, key: String = "mediamtx:streams:latest",
        channel: String = "mediamtx:streams:updates", timeoutMs: Int = 1_000
    ) {
        self.host = host
        self.port = port
        self.password = password
        self.key = key
        self.channel = channel
        self.timeoutMs = timeoutMs
    }

    public var snapshotKey: String { key + ":snapshot" }
}

/// The snapshot cache in Redis: `SET` with a time to live, then `PUBLISH`, over one hiredis
/// connection owned by this actor. A lost connection is replaced on a later call, no sooner than
/// an exponential backoff allows, so a Redis outage costs each poll one fast failure, not a wait.
public actor RedisSnapshotCache: SnapshotCache {
    public let settings: RedisSettings
    private let ttl: Duration
    private var connection: RedisConnection?
    private var backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(30))
    private var retryAt: ContinuousClock.Instant = .now
    public nonisolated let label: String

    public init(settings: RedisSettings, ttl: Duration) {
        self.settings = settings
        self.ttl = ttl
        self.label = "redis \(settings.host):\(settings.port)"
    }

    public func publish(_ snapshot: Snapshot) throws {
        let encoder = JSONEncoder()
        let seed = try encoder.encode(snapshot.seedElements)
        let full = try encoder.encode(snapshot)
        let seedText = String(decoding: seed, as: UTF8.self)
        let fullText = String(decoding: full, as: UTF8.self)
        let ttlMs = String(ttl.components.seconds * 1_000 + ttl.components.attoseconds / 1_000_000_000_000_000)
        _ = try withConnection { connection throws(RedisError) in
            try connection.pipeline([
                ["SET", settings.key, seedText, "PX", ttlMs],
                ["SET", settings.snapshotKey, fullText, "PX", ttlMs],
                ["PUBLISH", settings.channel, fullText],
            ])
        }
    }

    public func latest() throws -> Snapshot? {
        let reply = try withConnection { connection throws(RedisError) in
            try connection.command(["GET", settings.snapshotKey])
        }
        guard case let .string(text) = reply else { return nil }
        do {
            return try JSONDecoder().decode(Snapshot.self, from: Data(text.utf8))
        } catch {
            throw RedisError(message: "Redis key \(settings.snapshotKey) does not hold an mtxmon snapshot "
                + "(\(error)): is another program writing it? Set REDIS_KEY to a key of mtxmon's own")
        }
    }

    /// Answers whether Redis responds to `PING` now (for `/healthz`).
    public func ping() -> Bool {
        (try? withConnection { connection throws(RedisError) in try connection.command(["PING"]) }) != nil
    }

    private func withConnection<T>(_ body: (RedisConnection) throws(RedisError) -> T) throws(RedisError) -> T {
        let connection: RedisConnection
        if let existing = self.connection {
            connection = existing
        } else {
            let now = ContinuousClock.now
            guard now >= retryAt else {
                throw RedisError(message: "Redis at \(settings.host):\(settings.port) is down; next reconnect "
                    + "attempt in \(now.duration(to: retryAt))")
            }
            do {
                connection = try RedisConnection(host: settings.host, port: settings.port,
                                                  password: settings.password, timeoutMs: settings.timeoutMs)
            } catch {
                retryAt = now + backoff.next()
                throw error
            }
            self.connection = connection
        }
        do {
            let result = try body(connection)
            backoff.reset()
            return result
        } catch {
            if connection.isBroken {
                self.connection = nil
                retryAt = .now + backoff.next()
            }
            throw error
        }
    }
}
