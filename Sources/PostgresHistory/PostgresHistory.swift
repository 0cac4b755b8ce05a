import Foundation
import History
import Logging
import MTXMonCore
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// The history in a PostgreSQL database: the same chunks and recent rows as the SQLite file,
/// so that collectors at several sites, a standby collector and any number of API nodes share
/// one history. PostgreSQL's own replicas and failover keep it available; mtxmon adds none.
///
/// Writes are one transaction per call: a cut in the middle leaves no partial tick. A tick is
/// written once: a batch whose poll is stored already stores nothing (see `poll`'s key).
public final class PostgresHistory: HistoryWriter, @unchecked Sendable {
    let url: PostgresURL
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger: Logger
    /// Readers are counted across gaps up to 3.5 poll intervals: this writer's interval, for
    /// servers whose polls carry none.
    let intervalMs: Int64
    /// Recent rows sealed into a chunk per path after this many polls (as the file: Prometheus's
    /// chunk length, four minutes at the default interval).
    let sealEvery: Int
    let ids = NIOLockedValueBox(IDs())
    /// This process among those sharing the database: whose claims on deliveries are its own.
    let node = UUID().uuidString

    /// Ids that never change once given: servers, paths, connection keys.
    struct IDs {
        var servers: [String: Int64] = [:]
        var paths: [PathRef: Int64] = [:]
        var polls = 0
        var fence: Fence?
        /// The database did not answer: calls until `until` fail at once with `error`.
        var outage: (error: HistoryError, until: ContinuousClock.Instant)?
    }

    /// How long calls fail at once after one found the database unreachable: `/healthz`, the API
    /// and the collector's writes answer in milliseconds during an outage, and one call a second
    /// finds out when it is back.
    static let outageBackoff = Duration.seconds(1)

    /// The lease a collector of a pair holds (see `PostgresLease`): appends are checked against it.
    public struct Fence: Sendable, Equatable {
        public var scope: String
        public var holder: String
        public var token: Int64
    }

    /// Appends from now on are fenced by `lease`'s scope. `nil` (not renewed, or taken by another)
    /// keeps the last lease held: the database tells whether it is still this process's.
    func fence(_ lease: Fence?) {
        guard let lease else { return }
        ids.withLockedValue { $0.fence = lease }
    }

    /// The fence to check, with the token held now (`nil` token: not held).
    var currentFence: (scope: String, holder: String, token: Int64?)? {
        ids.withLockedValue { ids in ids.fence.map { ($0.scope, $0.holder, $0.token) } }
    }

    /// Connects, and applies the migrations this database lacks under an advisory lock, so that
    /// processes starting together apply each one once.
    public init(url: PostgresURL, intervalMs: Int64 = 2_000, sealEvery: Int = 120,
                logger: Logger = Logger(label: "mtxmon.postgres")) async throws {
        self.url = url
        self.intervalMs = intervalMs
        self.sealEvery = sealEvery
        self.logger = logger
        // The client's own notes (a connection attempt failed, again) repeat what mtxmon says once.
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: url.configuration(), backgroundLogger: background)
        self.client = client
        runner = Task { await client.run() }
        // The client's run loop takes a moment to start; a query before it is served all the same,
        // with a warning in the log that this saves operators from.
        try? await Task.sleep(for: .milliseconds(20))
        do {
            try await PostgresMigrations.apply(client, logger: self.logger)
        } catch {
            runner.cancel()
            throw Self.historyError(error, url: url)
        }
    }

    deinit { runner.cancel() }

    /// Stops the client: its connections close.
    public func close() { runner.cancel() }

    public var location: String { url.description }

    public func check() async throws {
        _ = try await run { try await $0.query("SELECT 1", logger: self.logger) }
    }

    /// How long a call waits for a connection of the pool: longer, and the database counts as down.
    static let leaseTimeout = Duration.seconds(3)

    /// `body` on a pooled connection, PostgreSQL's errors as `HistoryError`s that name the fix. A
    /// connection not had within `leaseTimeout` (the database down: the pool waits for it to come
    /// back) fails the call, so that no caller hangs with it.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        if let outage = ids.withLockedValue({ $0.outage }), ContinuousClock.now < outage.until { throw outage.error }
        do {
            let value = try await withThrowingTaskGroup(of: T?.self) { group in
                let leased = NIOLockedValueBox(false)
                group.addTask {
                    try await self.client.withConnection { connection in
                        leased.withLockedValue { $0 = true }
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: Self.leaseTimeout)
                    guard leased.withLockedValue({ $0 }) else {
                        throw HistoryError(.unavailable, "PostgreSQL at \(self.url) gives no connection within \(Self.leaseTimeout): "
                            + "check that it runs and that MTXMON_DB names its host and port")
                    }
                    return nil
                }
                while let result = try await group.next() {
                    guard let result else { continue }
                    group.cancelAll()
                    return result
                }
                throw CancellationError()
            }
            ids.withLockedValue { $0.outage = nil }
            return value
        } catch let error as AmbiguousPath {
            throw error
        } catch {
            let failure = error as? HistoryError ?? Self.historyError(error, url: url)
            if failure.kind == .unavailable {
                ids.withLockedValue { $0.outage = (failure, ContinuousClock.now + Self.outageBackoff) }
            }
            throw failure
        }
    }

    /// `body` in one transaction.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await run { [self] connection in
            try await connection.withTransaction(logger: self.logger) { connection in try await body(connection) }
        }
    }

    static func historyError(_ error: any Error, url: PostgresURL) -> HistoryError {
        if let error = error as? HistoryMigrationError { return HistoryError(.damaged, "PostgreSQL at \(url): \(error)") }
        if let error = error as? PSQLError {
            let server = error.serverInfo
            if let message = server?[.message] {
                let code = server?[.sqlState] ?? ""
                // 53100: disk full; 53200: out of memory; 57P0x: the server is shutting down.
                let kind: HistoryError.Kind = code.hasPrefix("08") || code.hasPrefix("57P") ? .unavailable : .refused
                var text = "PostgreSQL at \(url) refused: \(message) (SQLSTATE \(code))"
                if code == "28P01" || code == "28000" {
                    text += "; check the user in MTXMON_DB and the password (MTXMON_DB_PASSWORD_FILE)"
                } else if code == "3D000" {
                    text += "; create it first: createdb \(url.database)"
                } else if code == "53100" {
                    text += "; free space on the database server's disk"
                }
                return HistoryError(kind, text)
            }
            return HistoryError(.unavailable, "PostgreSQL at \(url) cannot be reached (\(error.code)): check that it runs and that MTXMON_DB names its host and port")
        }
        return HistoryError(.unavailable, "PostgreSQL at \(url): \(String(describing: error))")
    }
}

extension PostgresHistory {
    /// The server's id, created on first use.
    func serverID(_ name: String, _ db: PostgresConnection) async throws -> Int64 {
        if let id = ids.withLockedValue({ $0.servers[name] }) { return id }
        let name = Text.clean(name)
        try await db.query("INSERT INTO server (name) VALUES (\(name)) ON CONFLICT (name) DO NOTHING", logger: self.logger)
        let id = try await db.query("SELECT id FROM server WHERE name = \(name)", logger: self.logger).one(Int64.self) ?? 0
        ids.withLockedValue { $0.servers[name] = id }
        return id
    }

    /// The server's id if the history has it.
    func knownServerID(_ name: String) async throws -> Int64? {
        if let id = ids.withLockedValue({ $0.servers[name] }) { return id }
        return try await run { try await $0.query("SELECT id FROM server WHERE name = \(name)", logger: self.logger).one(Int64.self) }
    }

    /// The path's id, created on first use.
    func pathID(_ path: PathRef, serverID: Int64, _ db: PostgresConnection) async throws -> Int64 {
        if let id = ids.withLockedValue({ $0.paths[path] }) { return id }
        let name = path.name
        try await db.query("INSERT INTO path (server_id, name) VALUES (\(serverID), \(name)) ON CONFLICT DO NOTHING",
                           logger: self.logger)
        let id = try await db.query("SELECT id FROM path WHERE server_id = \(serverID) AND name = \(name)",
                                    logger: self.logger).one(Int64.self) ?? 0
        ids.withLockedValue { $0.paths[path] = id }
        return id
    }

    /// The path's id if the history has it.
    func knownPathID(_ path: PathRef) async throws -> Int64? {
        if let id = ids.withLockedValue({ $0.paths[path] }) { return id }
        let name = path.name, server = path.server
        return try await run {
            try await $0.query("""
                SELECT p.id FROM path p JOIN server s ON s.id = p.server_id WHERE s.name = \(server) AND p.name = \(name)
                """, logger: self.logger).one(Int64.self)
        }
    }
}

/// Text as PostgreSQL takes it: it stores no NUL character, which MediaMTX may send in a name.
enum Text {
    static func clean(_ text: String) -> String {
        text.contains("\0") ? text.replacingOccurrences(of: "\0", with: "\u{FFFD}") : text
    }

    static func clean(_ text: String?) -> String? { text.map(clean) }
}

extension PostgresRowSequence {
    /// The first column of the first row, if any.
    func one<T: PostgresDecodable & Sendable>(_ type: T.Type) async throws -> T? {
        for try await (value) in decode(T.self) { return value }
        return nil
    }

    /// The first column of every row.
    func all<T: PostgresDecodable & Sendable>(_ type: T.Type) async throws -> [T] {
        var values: [T] = []
        for try await (value) in decode(T.self) { values.append(value) }
        return values
    }
}

extension ByteBuffer {
    var bytes: [UInt8] { Array(readableBytesView) }
}
