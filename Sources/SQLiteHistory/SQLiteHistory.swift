import CSQLite
import History
import HistoryChunks
import MTXMonCore
import NIOPosix
import Synchronization

/// The SQLite history file: owns the one writer connection, migrates when opened, writes whole
/// polls in one transaction, and lends read connections for queries.
///
/// WAL lets a `mtxmon serve` in another process read while the collector writes.
public final class SQLiteHistory: Sendable {
    public let path: String
    let writer: Mutex<WriterState>
    private let readers: Mutex<[SQLiteConnection]>
    private let busyTimeoutMs: Int32
    /// Address space each read connection may map; a limit, not an allocation.
    static let readMapBytes = 1 << 30

    struct WriterState: ~Copyable {
        let connection: SQLiteConnection
        var serverIDs: [String: Int64] = [:]
        /// Each server's interval as stored, by server id.
        var intervals: [Int64: Int64] = [:]
        var pathIDs: [PathKey: Int64] = [:]
        var connectionKeys = ConnectionKeyCache()
        /// Polls written to `recent` since the last seal.
        var recentPolls = 0
        var watermarks = Watermarks()
        var tails = RollTails()

        /// After a rollback: rows the caches name may no longer exist.
        mutating func forgetCaches() {
            serverIDs.removeAll()
            intervals.removeAll()
            pathIDs.removeAll()
            connectionKeys.removeAll()
            tails.removeAll()
        }
    }

    /// How many connection keys the writer remembers; the bound on that memory is tested by it.
    var rememberedConnectionKeys: Int { writer.withLock { $0.connectionKeys.count } }

    /// Readers are counted across gaps up to 3.5 poll intervals in the minute rollups: this
    /// writer's interval, for servers the file has no interval of.
    let readerGapMs: Int64

    /// Polls kept as recent rows before they are sealed into chunks: Prometheus's chunk length,
    /// four minutes at the default interval.
    public static let defaultSealEvery = 120
    let sealEvery: Int

    /// Opens (creating if needed) and migrates the file at `path`. `intervalMs` is the poll
    /// interval of the collector writing it.
    public init(path: String, busyTimeoutMs: Int32 = 5_000, intervalMs: Int64 = 2_000,
                sealEvery: Int = SQLiteHistory.defaultSealEvery) throws {
        self.path = path
        self.sealEvery = max(1, sealEvery)
        self.busyTimeoutMs = busyTimeoutMs
        self.readerGapMs = Cadence(intervalMs: intervalMs).maxGapMs
        let connection = try SQLiteConnection(path: path)
        try Self.configure(connection, busyTimeoutMs: busyTimeoutMs)
        // A new file can give pages back: `finish` returns the space recent rows used once they
        // are sealed, so a stopped recorder leaves a compact file. (Only before its first table.)
        if try connection.pageCount() == 0 { try connection.execute("PRAGMA auto_vacuum = INCREMENTAL") }
        // WAL is a property of the file: set once by the writer, inherited by every reader.
        try connection.execute("PRAGMA journal_mode = WAL")
        _ = try connection.migrate(Migration.embedded, path: path)
        var state = WriterState(connection: connection)
        state.watermarks = try Watermarks.start(connection)
        state.recentPolls = try Self.countRecentPolls(connection)
        writer = Mutex(state)
        readers = Mutex([])
    }

    static func configure(_ connection: SQLiteConnection, busyTimeoutMs: Int32) throws(SQLiteError) {
        connection.retryWhenBusy(ms: busyTimeoutMs)
        try connection.execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
    }

    /// The schema version recorded in the file.
    public func schemaVersion() throws -> Int {
        try writer.withLock { state throws(SQLiteError) in try state.connection.currentSchemaVersion() }
    }

    /// Writes every batch in one transaction: all of them or none, except rows the schema
    /// refuses, which are left out one by one and reported (see `AppendReport`). Idempotent: a
    /// poll that is already there (same path and time, or already sealed) is kept, so a retried
    /// write never duplicates.
    ///
    /// A poll costs one row per path in `recent` (its figures and its connections' in one
    /// blob), appended at the end of a table clustered by time; every `sealEvery` polls the
    /// recent rows are sealed into chunks and rollups (see `seal`), in a transaction of its own.
    ///
    /// Events are written with their poll, and a delivery to each of `deliverTo` (webhook URLs)
    /// for those the batch says to notify, in the same transaction.
    @discardableResult
    ///
    /// With `sealWhenDue` (the synchronous form tools and tests use), recent rows are sealed once
    /// `sealEvery` polls wait; the collector leaves that to the compactor (`compact`).
    public func append(_ batches: [PollBatch], deliverTo targets: [String] = [],
                       sealWhenDue: Bool = true) throws(SQLiteError) -> AppendReport {
        let report = try writer.withLock { state throws(SQLiteError) -> AppendReport in
            let db = state.connection
            var report = AppendReport()
            try db.execute("BEGIN IMMEDIATE")
            do throws(SQLiteError) {
                var ticks = Set<Int64>()
                for batch in batches {
                    let serverID = try Self.serverID(batch.poll.server, &state)
                    if let interval = batch.poll.intervalMs { try Self.note(interval: interval, serverID: serverID, &state) }
                    // A poll already stored was written before (a held poll written again): its events
                    // and their deliveries are not stored twice.
                    if try Self.insert(poll: batch.poll, serverID: serverID, db) {
                        report.events += try Self.insert(events: batch.events, notify: batch.notify, targets: targets,
                                                         &state)
                    }
                    guard let snapshot = batch.snapshot, snapshot.ts > state.watermarks.sealedUntil else { continue }
                    try Self.writeRecent(snapshot, serverID: serverID, &state, &report)
                    // A fleet's servers answer a tick a few milliseconds apart: polls are counted
                    // by tick, so chunks hold as many polls of each path as with one server.
                    if ticks.insert(snapshot.ts / Self.tickGrainMs).inserted {
                        state.connectionKeys.endPoll()
                        state.recentPolls += 1
                    }
                }
                try db.execute("COMMIT")
                return report
            } catch {
                try? db.execute("ROLLBACK")
                state.forgetCaches()
                throw error
            }
        }
        guard sealWhenDue, needsSeal else { return report }
        do {
            try seal()
        } catch {
            // The polls are stored; they stay recent rows, read as such, until a seal succeeds.
            writer.withLock { $0.recentPolls = sealEvery / 2 }
        }
        return report
    }

    /// Whether `sealEvery` polls wait as recent rows.
    var needsSeal: Bool { writer.withLock { $0.recentPolls >= sealEvery } }

    /// One poll's rows: each stored path with the connections that name it, and the
    /// connections that name no path under path 0.
    static func writeRecent(_ snapshot: Snapshot, serverID: Int64, _ state: inout WriterState,
                            _ report: inout AppendReport) throws(SQLiteError) {
        let ts = snapshot.ts
        // Rows live in an array and the dictionary holds their places: a row changed through
        // a dictionary's subscript is moved out and back for every connection appended to it.
        var rows: [StoredRow] = []
        var place: [Int64: Int] = [:]
        var ids: [Int64] = []
        rows.reserveCapacity(snapshot.paths.count + 1)
        place.reserveCapacity(snapshot.paths.count + 1)
        func row(_ id: Int64) -> Int {
            if let at = place[id] { return at }
            place[id] = rows.count
            rows.append(StoredRow(ts: ts, path: nil))
            ids.append(id)
            return rows.count - 1
        }
        let stored = snapshot.paths.filter { PathStates.isStored($0, at: ts) }
        // Rows written before a refusal are written again, one by one: what they added is undone first.
        try insertEach(stored, kind: "path", name: \.name, ts: ts, &state, &report,
                       retrying: { (rows, place, ids) = ([], [:], []) }) { sample, state throws(SQLiteError) in
            // The schema takes the empty name (a server's row for connections without a path): a
            // path sample must not be stored there, unseen by every read, so it is refused here.
            guard !sample.name.isEmpty else {
                throw SQLiteError(code: SQLITE_CONSTRAINT, message: "CHECK constraint failed: a path name is 1 to "
                                  + "\(Self.maxPathNameLength) characters", context: "storing a path without a name")
            }
            let id = try Self.pathID(sample.name, serverID: serverID, state.connection, cache: &state.pathIDs)
            rows[row(id)].path = StoredPath(sample, ts: ts)
        }
        let pathRows = (rows, place, ids)
        try insertEach(snapshot.connections, kind: "connection", name: \.id, ts: ts, &state, &report,
                       retrying: { (rows, place, ids) = pathRows }) { connection, state throws(SQLiteError) in
            // A path name the schema would refuse costs the connection its path, not its row.
            let storable = connection.path.flatMap(Self.storablePathName)
            let pathID = try storable.map { name throws(SQLiteError) in
                try Self.pathID(name, serverID: serverID, state.connection, cache: &state.pathIDs)
            }
            let key = try ConnectionRows.key(connection, serverID: serverID, pathID: pathID, ts: ts, state.connection,
                                             cache: &state.connectionKeys)
            // A poll that names no path keeps the connection's rows with the path it named before.
            let known = state.connectionKeys.entry(for: ConnectionKeyCache.id(connection.id, serverID: serverID))?.pathID
            let rowPath: Int64
            if let id = pathID ?? known { rowPath = id } else { rowPath = try Self.noPathID(serverID: serverID, &state) }
            rows[row(rowPath)].connections.append(StoredConnection(connection, key: key, ts: ts))
        }
        let insert = try state.connection.cached(
            "INSERT INTO recent (ts_ms, path_id, data) VALUES (?, ?, ?) ON CONFLICT (ts_ms, path_id) DO NOTHING")
        var encoded: [UInt8] = []
        for at in ids.indices.sorted(by: { ids[$0] < ids[$1] }) {
            RowCodec.encode(rows[at], into: &encoded)
            insert.bind(1, ts)
            insert.bind(2, ids[at])
            insert.bind(3, encoded)
            try insert.run()
            insert.reset()
        }
    }

    /// The longest path name the schema stores, in characters as SQLite counts them.
    static let maxPathNameLength = 1_024

    /// `name` if the `path` table accepts it (1–1,024 characters), else `nil`.
    static func storablePathName(_ name: String) -> String? {
        let length = name.unicodeScalars.count
        return length >= 1 && length <= maxPathNameLength ? name : nil
    }

    /// Writes `rows` inside one savepoint. When the schema refuses one (a constraint, a type or
    /// size limit), the savepoint is undone and the rows are written again one savepoint each,
    /// leaving out only the refused ones: one bad row never costs the others. Any other error
    /// (I/O, a full disk, a lock) is thrown, so the whole transaction is retried later.
    /// `retrying` undoes what the rows written so far added outside the file (a poll's rows being
    /// assembled), so that no row is added twice.
    static func insertEach<Row>(
        _ rows: [Row], kind: String, name: (Row) -> String, ts: Int64, _ state: inout WriterState,
        _ report: inout AppendReport, retrying: () -> Void = {},
        _ write: (Row, inout WriterState) throws(SQLiteError) -> Void
    ) throws(SQLiteError) {
        guard !rows.isEmpty else { return }
        let db = state.connection
        try db.execute("SAVEPOINT rows")
        do throws(SQLiteError) {
            for row in rows { try write(row, &state) }
            try db.execute("RELEASE rows")
            return
        } catch where error.isRefusal {
            try db.execute("ROLLBACK TO rows")
            state.forgetCaches()
            retrying()
        }
        for row in rows {
            try db.execute("SAVEPOINT row")
            do throws(SQLiteError) {
                try write(row, &state)
                try db.execute("RELEASE row")
            } catch where error.isRefusal {
                try db.execute("ROLLBACK TO row")
                try db.execute("RELEASE row")
                state.forgetCaches()
                report.skipped.append(.init(kind: kind, name: name(row), ts: ts, reason: error.description))
            }
        }
        try db.execute("RELEASE rows")
    }

    /// `append` on a thread made for blocking work, so a busy database never stalls the
    /// cooperative pool that serves HTTP. Detached so that cancelling the caller (shutdown)
    /// cannot abandon the write of the last poll.
    @discardableResult
    public func appendOffThread(_ batches: [PollBatch], deliverTo targets: [String] = []) async throws -> AppendReport {
        try await Task.detached {
            try await NIOThreadPool.singleton.runIfActive { try self.append(batches, deliverTo: targets) }
        }.value
    }

    /// Polls whose times fall in one such span are one tick of a fleet (see `append`).
    static let tickGrainMs: Int64 = 100

    static func pathID(_ name: String, serverID: Int64, _ db: SQLiteConnection,
                       cache: inout [PathKey: Int64]) throws(SQLiteError) -> Int64 {
        let key = PathKey(serverID: serverID, name: name)
        if let id = cache[key] { return id }
        let insert = try db.cached("INSERT INTO path (server_id, name) VALUES (?, ?) ON CONFLICT (server_id, name) DO NOTHING")
        insert.bind(1, serverID)
        insert.bind(2, name)
        try insert.run()
        let select = try db.cached("SELECT id FROM path WHERE server_id = ? AND name = ?")
        select.bind(1, serverID)
        select.bind(2, name)
        guard try select.step() else {
            throw SQLiteError(code: SQLITE_INTERNAL, message: "path row missing after insert", context: "path \(name)")
        }
        let id = select.int64(0)
        select.reset()
        cache[key] = id
        return id
    }

    /// Where a server's connections that name no path are kept: path 0 for the `default`
    /// server (as before fleets), a path row with the empty name for every other.
    static func noPathID(serverID: Int64, _ state: inout WriterState) throws(SQLiteError) -> Int64 {
        serverID == 1 ? 0 : try pathID("", serverID: serverID, state.connection, cache: &state.pathIDs)
    }

    /// Keeps the server's polling interval, which reader minutes across its gaps rest on.
    static func note(interval: Int64, serverID: Int64, _ state: inout WriterState) throws(SQLiteError) {
        guard state.intervals[serverID] != interval, interval > 0 else { return }
        let s = try state.connection.cached("UPDATE server SET interval_ms = ? WHERE id = ?")
        s.bind(1, interval)
        s.bind(2, serverID)
        try s.run()
        state.intervals[serverID] = interval
    }

    /// The server's row id, created on its first poll.
    static func serverID(_ name: String, _ state: inout WriterState) throws(SQLiteError) -> Int64 {
        if let id = state.serverIDs[name] { return id }
        let db = state.connection
        let insert = try db.cached("INSERT INTO server (name) VALUES (?) ON CONFLICT (name) DO NOTHING")
        insert.bind(1, name)
        try insert.run()
        let select = try db.cached("SELECT id FROM server WHERE name = ?")
        select.bind(1, name)
        defer { select.reset() }
        guard try select.step() else {
            throw SQLiteError(code: SQLITE_INTERNAL, message: "server row missing after insert", context: "server \(name)")
        }
        let id = select.int64(0)
        state.serverIDs[name] = id
        return id
    }

    /// Stores the poll unless the server has one at its time; whether it did.
    static func insert(poll: PollRecord, serverID: Int64, _ db: SQLiteConnection) throws(SQLiteError) -> Bool {
        let statement = try db.cached("""
            INSERT INTO poll (ts_ms, ok, duration_ms, path_count, error, reason, server_id) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (ts_ms, server_id) DO NOTHING
            """)
        statement.bind(7, serverID)
        statement.bind(1, poll.ts)
        statement.bind(2, poll.ok)
        statement.bind(3, max(0, poll.durationMs))
        statement.bind(4, poll.pathCount)
        statement.bind(5, poll.error)
        statement.bind(6, poll.reason)
        try statement.run()
        return db.changes == 1
    }

    /// Reader counts by type as the history file keeps them.
    static func readersJSON(_ counts: [String: Int]) -> String? { JSONText.counts(counts) }

    /// Runs `body` with a read connection from the pool (opened on demand, returned after).
    public func read<T>(_ body: (ReadConnection) throws -> T) throws -> T {
        let connection: SQLiteConnection
        if let pooled = readers.withLock({ $0.popLast() }) {
            connection = pooled
        } else {
            connection = try SQLiteConnection(path: path, readOnly: true)
            try Self.configure(connection, busyTimeoutMs: busyTimeoutMs)
            // Range scans read pages straight from the mapped file instead of copying each one
            // through a read() call: the larger part of a long query's time.
            try connection.execute("PRAGMA mmap_size = \(Self.readMapBytes)")
        }
        defer { readers.withLock { if $0.count < 8 { $0.append(connection) } } }
        return try body(ReadConnection(connection: connection))
    }
}

/// A path's identity in the history file: its server's row and its name.
struct PathKey: Hashable {
    var serverID: Int64
    var name: String
}

/// A read connection lent by `SQLiteHistory.read`; valid only inside that call.
public struct ReadConnection {
    let connection: SQLiteConnection
}

extension SQLiteError {
    /// The schema refused the row itself (a constraint, a type mismatch, a value over SQLite's
    /// size limit): writing it again would fail again.
    var isRefusal: Bool {
        let primary = code & 0xff
        return primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH || primary == SQLITE_TOOBIG
    }

    /// The file's own pages are damaged (as opposed to a full disk, a lock, or I/O that may
    /// succeed when tried again).
    var isDamage: Bool {
        let primary = code & 0xff
        return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB
    }
}
