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
    /// The server whose array `key` holds, as the original collector's readers expect: the one
    /// called `default`, or the only one a collector polls. `nil`: none (each server's array is
    /// under `nodeKey(_:)` all the same).
    public var primaryServer: String? = "default"

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

    /// What the per-server keys start with: `mediamtx` for the default key `mediamtx:streams:latest`
    /// (so a server's array is `mediamtx:node:<name>:streams:latest`), else the key itself.
    var nodePrefix: String {
        key.hasSuffix(":streams:latest") ? String(key.dropLast(":streams:latest".count)) : key
    }

    /// A server's array in the original collector's form.
    public func nodeKey(_ server: String) -> String { "\(nodePrefix):node:\(server):streams:latest" }
    /// A server's full snapshot.
    public func nodeSnapshotKey(_ server: String) -> String { nodeKey(server) + ":snapshot" }
    /// The names of the servers published (a set), so a reader finds every server's snapshot.
    public var nodesKey: String { "\(nodePrefix):nodes" }
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
        let server = snapshot.serverName
        var commands = [
            ["SET", settings.nodeKey(server), seedText, "PX", ttlMs],
            ["SET", settings.nodeSnapshotKey(server), fullText, "PX", ttlMs],
            ["SADD", settings.nodesKey, server],
        ]
        if server == settings.primaryServer {
            commands += [["SET", settings.key, seedText, "PX", ttlMs], ["SET", settings.snapshotKey, fullText, "PX", ttlMs]]
        }
        commands.append(["PUBLISH", settings.channel, fullText])
        _ = try withConnection { connection throws(RedisError) in try connection.pipeline(commands) }
    }

    /// Every published server's snapshot that has not expired, merged; the single key of a
    /// publisher from before fleets when no server is listed.
    public func latest() throws -> Snapshot? {
        let settings = self.settings
        let texts = try withConnection { connection throws(RedisError) -> [(String, String)] in
            guard case let .array(members) = try connection.command(["SMEMBERS", settings.nodesKey]), !members.isEmpty else {
                guard case let .string(text) = try connection.command(["GET", settings.snapshotKey]) else { return [] }
                return [(settings.snapshotKey, text)]
            }
            let names = members.compactMap { if case let .string(name) = $0 { name } else { nil } }.sorted()
            let keys = names.map(settings.nodeSnapshotKey)
            guard case let .array(values) = try connection.command(["MGET"] + keys) else { return [] }
            return zip(keys, values).compactMap { key, value in if case let .string(text) = value { (key, text) } else { nil } }
        }
        var parts: [Snapshot] = []
        for (key, text) in texts {
            do {
                parts.append(try JSONDecoder().decode(Snapshot.self, from: Data(text.utf8)))
            } catch {
                throw RedisError(message: "Redis key \(key) does not hold an mtxmon snapshot "
                    + "(\(error)): is another program writing it? Set REDIS_KEY to a key of mtxmon's own")
            }
        }
        return Snapshot.fleet(parts)
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
