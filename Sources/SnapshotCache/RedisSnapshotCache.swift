import Foundation
import Logging
import MTXMonCore
import Synchronization

/// Where and how to reach Redis, with the names of the key and channel mtxmon uses.
public struct RedisSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The ACL user (Redis 6+) `AUTH` names with the password; `nil`: the default user.
    public var username: String?
    public var password: String?
    /// Holds the snapshot as the original collector's JSON array; `<key>:snapshot` holds the full form.
    public var key: String
    /// Each full snapshot is published here after it is stored.
    public var channel: String
    /// Bound on every Redis call (connect, write, read), so a hung Redis answers with an error.
    public var timeoutMs: Int
    /// The database `SELECT`ed after connecting (`REDIS_URL`'s path); 0 is Redis's default.
    public var database: Int = 0
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
/// connection. hiredis blocks, so every call runs on a serial queue of this cache's own, never on
/// the cooperative threads that poll and serve HTTP: a hung Redis holds its own queue and nothing
/// else. Each call is bounded by `timeoutMs` (connect, write, read). A lost connection is replaced
/// on a later call, no sooner than an exponential backoff allows, so an outage costs each call one
/// fast failure, not a wait.
public final class RedisSnapshotCache: SnapshotCache {
    public let settings: RedisSettings
    private let ttl: Duration
    public let label: String
    private let queue: DispatchQueue
    private let state: Mutex<State>

    struct State {
        // The connection lives only on `queue`; the lock guards who may touch it.
        var connection: RedisConnectionBox?
        var backoff: Backoff
        var retryAt: ContinuousClock.Instant = .now
        /// The newest finished call's outcome, for `/healthz` without waiting on Redis.
        var lastOutcome: (ok: Bool, at: ContinuousClock.Instant)?
        /// A call started and not finished (a hung Redis): when it started.
        var busySince: ContinuousClock.Instant?
    }

    /// `reconnect` is the pause after a failure before the next call tries Redis again.
    public init(settings: RedisSettings, ttl: Duration,
                reconnect: Backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(30))) {
        self.state = Mutex(State(backoff: reconnect))
        self.settings = settings
        self.ttl = ttl
        self.label = "redis \(settings.host):\(settings.port)" + (settings.database == 0 ? "" : "/\(settings.database)")
        self.queue = DispatchQueue(label: "mtxmon.redis.\(settings.host):\(settings.port)")
    }

    public func publish(_ snapshot: Snapshot) async throws {
        let encoder = JSONEncoder()
        let seed = try encoder.encode(snapshot.seedElements)
        let full = try encoder.encode(snapshot)
        let seedText = String(decoding: seed, as: UTF8.self)
        let fullText = String(decoding: full, as: UTF8.self)
        // Its own server's time to live when that is longer (see `Cadence`).
        let ttlMs = String(max(ttl.components.seconds * 1_000 + ttl.components.attoseconds / 1_000_000_000_000_000,
                               snapshot.intervalMs.map { Cadence(intervalMs: $0).ttlMs } ?? 0))
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
        let pipeline = commands
        _ = try await withConnection { connection throws(RedisError) in try connection.pipeline(pipeline) }
    }

    /// Every published server's snapshot that has not expired, merged; the single key of a
    /// publisher from before fleets when no server is listed.
    public func latest() async throws -> Snapshot? {
        let settings = self.settings
        let texts = try await withConnection { connection throws(RedisError) -> [(String, String)] in
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

    /// Whether Redis answers, without waiting on a hung one: a `PING` is sent and awaited for at
    /// most `healthWaitMs`; a call still stuck from before, or a ping that does not come back in
    /// that time, counts as not answering.
    public func ping() async -> Bool {
        if let since = state.withLock({ $0.busySince }), since.duration(to: .now) > .milliseconds(Self.healthWaitMs) {
            return false
        }
        // Whichever comes first, the answer or the wait's end, resumes the caller; the call itself
        // goes on on the queue, and its outcome is the next check's.
        let waiting = Mutex<CheckedContinuation<Bool, Never>?>(nil)
        @Sendable func resume(_ answer: Bool) {
            waiting.withLock { continuation in
                continuation?.resume(returning: answer)
                continuation = nil
            }
        }
        return await withCheckedContinuation { continuation in
            waiting.withLock { $0 = continuation }
            queue.async {
                let answered = (try? self.blocking { connection throws(RedisError) in
                    try connection.command(["PING"])
                }.get()) != nil
                resume(answered)
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Self.healthWaitMs)) { resume(false) }
        }
    }

    /// How long `/healthz` waits for Redis to answer.
    static let healthWaitMs = 250

    /// Runs `body` with the connection on this cache's queue, (re)connecting first when needed.
    /// The caller waits; the cooperative thread it came from does not.
    private func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (RedisConnection) throws(RedisError) -> T
    ) async throws(RedisError) -> T {
        let result: Result<T, RedisError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: self.blocking(body))
            }
        }
        return try result.get()
    }

    /// On `queue` only.
    private func blocking<T>(_ body: (RedisConnection) throws(RedisError) -> T) -> Result<T, RedisError> {
        let now = ContinuousClock.now
        let (existing, retryAt) = state.withLock { s in
            s.busySince = now
            return (s.connection, s.retryAt)
        }
        defer { state.withLock { $0.busySince = nil } }
        let connection: RedisConnection
        if let existing {
            connection = existing.connection
        } else {
            guard now >= retryAt else {
                return .failure(RedisError(message: "Redis at \(settings.host):\(settings.port) is down; next reconnect "
                    + "attempt in \(now.duration(to: retryAt))"))
            }
            do {
                connection = try RedisConnection(host: settings.host, port: settings.port, username: settings.username,
                                                  password: settings.password, database: settings.database,
                                                  timeoutMs: settings.timeoutMs)
            } catch {
                state.withLock { s in
                    s.retryAt = .now + s.backoff.next()
                    s.lastOutcome = (false, .now)
                }
                return .failure(error)
            }
            state.withLock { $0.connection = RedisConnectionBox(connection) }
        }
        do {
            let result = try body(connection)
            state.withLock { s in
                s.backoff.reset()
                s.lastOutcome = (true, .now)
            }
            return .success(result)
        } catch {
            state.withLock { s in
                s.lastOutcome = (false, .now)
                if connection.isBroken {
                    s.connection = nil
                    s.retryAt = .now + s.backoff.next()
                }
            }
            return .failure(error)
        }
    }
}

/// Lets the connection sit in the lock-guarded state; it is only ever used on the cache's queue.
struct RedisConnectionBox: @unchecked Sendable {
    let connection: RedisConnection
    init(_ connection: RedisConnection) { self.connection = connection }
}
