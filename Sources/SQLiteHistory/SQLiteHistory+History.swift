import History
import HistoryChunks
import MTXMonCore
import NIOPosix

/// The history interface on the SQLite file: every read on a pooled read connection, every write
/// on the one writer, each on a thread made for blocking work so that a busy file never holds the
/// cooperative threads that poll and serve. Names are resolved to the file's row ids here and
/// nowhere else.
extension SQLiteHistory: HistoryWriter {
    public var location: String { path }

    /// Runs `body` on a read connection off the cooperative pool, with the file's errors told as
    /// the history's.
    func reading<T: Sendable>(_ body: @escaping @Sendable (ReadConnection) throws -> T) async throws -> T {
        do {
            return try await readOffThread(body)
        } catch let error as SQLiteError {
            throw error.history
        }
    }

    /// Runs `body` with the writer off the cooperative pool. Detached, so that cancelling the
    /// caller (a shutdown) cannot abandon a write halfway.
    func writing<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await Task.detached {
                try await NIOThreadPool.singleton.runIfActive { try body() }
            }.value
        } catch let error as SQLiteError {
            throw error.history
        }
    }

    public func check() async throws { try await reading { try $0.check() } }

    public func serverNames() async throws -> [String] { try await reading { try $0.serverNames() } }

    public func polls(server: String) async throws -> ServerPolls {
        try await reading { db in
            ServerPolls(name: server, lastPoll: try db.lastPoll(server: server),
                        lastAnsweredTs: try db.lastAnsweredPoll(server: server), failure: try db.failureRun(server: server),
                        intervalMs: try db.interval(server: server))
        }
    }

    public func lastPoll() async throws -> PollRecord? { try await reading { try $0.lastPoll() } }

    public func firstPollTs() async throws -> Int64? { try await reading { try $0.firstPoll() } }

    public func paths(server: String?) async throws -> [PathRef] {
        try await reading { db in try db.allPaths(server: server).map { PathRef(server: $0.server, name: $0.name) } }
    }

    public func path(named name: String, server: String?) async throws -> PathRef? {
        try await reading { db in
            guard let id = try db.pathID(name, server: server) else { return nil }
            return PathRef(server: try server ?? db.serverName(pathID: id), name: name)
        }
    }

    public func points(_ path: PathRef, range: HistoryRange, fields: PointFields) async throws -> [HistoryPoint] {
        try await reading { db in
            guard let id = try db.pathID(path.name, server: path.server) else { return [] }
            return try db.points(pathID: id, range: range, fields: fields)
        }
    }

    public func windowRates(_ path: PathRef, from: Int64, to: Int64, maxGapMs: Int64) async throws -> WindowRates {
        try await reading { db in
            guard let id = try db.pathID(path.name, server: path.server) else { return WindowRates(from: from, to: to) }
            return try db.windowRates(pathID: id, from: from, to: to, maxGapMs: maxGapMs)
        }
    }

    public func points(named name: String, server: String?, range: HistoryRange,
                       fields: PointFields) async throws -> (path: PathRef, points: [HistoryPoint])? {
        try await reading { db in
            guard let id = try db.pathID(name, server: server) else { return nil }
            let path = PathRef(server: try server ?? db.serverName(pathID: id), name: name)
            return (path, try db.points(pathID: id, range: range, fields: fields))
        }
    }

    public func windowRates(named name: String, server: String?, from: Int64, to: Int64,
                            fallbackIntervalMs: Int64) async throws -> (path: PathRef, rates: WindowRates)? {
        try await reading { db in
            guard let id = try db.pathID(name, server: server) else { return nil }
            let path = PathRef(server: try server ?? db.serverName(pathID: id), name: name)
            let interval = try db.interval(server: path.server) ?? fallbackIntervalMs
            return (path, try db.windowRates(pathID: id, from: from, to: to,
                                             maxGapMs: Cadence(intervalMs: interval).maxGapMs))
        }
    }

    public func connection(id: String, server: String?) async throws -> ConnectionInfo? {
        try await reading { try $0.connection(id: id, server: server) }
    }

    public func connectionPoints(_ connection: ConnectionRef, from: Int64, to: Int64,
                                 through: ConnectionColumn) async throws -> [ConnectionPoint] {
        try await reading { db in
            guard let key = try db.connectionKey(id: connection.id, server: connection.server) else { return [] }
            return try db.connectionPoints(key: key, from: from, to: to, through: through)
        }
    }

    public func connectionMinutes(_ connection: ConnectionRef, from: Int64, to: Int64,
                                  through: ConnectionColumn) async throws -> [ConnectionMinute] {
        try await reading { db in
            guard let key = try db.connectionKey(id: connection.id, server: connection.server) else { return [] }
            return try db.connectionMinuteRows(key: key, from: from, to: to, through: through)
        }
    }

    public func linkSamples(ids: [String], server: String?,
                            now: Int64) async throws -> [String: (firstTs: Int64, samples: [LinkSample])] {
        try await reading { db in try db.linkSamples(ids: ids, server: server, now: now) }
    }

    public func events(_ query: EventQuery) async throws -> (events: [MonitorEvent], more: Bool) {
        try await reading { db in try db.events(query) }
    }

    public func events(after: Int64, limit: Int) async throws -> [MonitorEvent] {
        try await reading { db in try db.events(after: after, limit: limit) }
    }

    public func lastEventID() async throws -> Int64 { try await reading { try $0.lastEventID() } }

    public func latestSnapshots(forgetAfterMs: Int64) async throws -> [Snapshot] {
        try await reading { try $0.latestSnapshots(forgetAfterMs: forgetAfterMs) }
    }

    public func latestSnapshot(server: String, forgetAfterMs: Int64) async throws -> Snapshot? {
        try await reading { try $0.latestSnapshot(server: server, forgetAfterMs: forgetAfterMs) }
    }

    public func quarantine() async throws -> QuarantineSummary { try await reading { try $0.quarantine() } }

    public func deliveryBacklog() async throws -> [DeliveryBacklog] { try await reading { try $0.deliveryBacklog() } }

    public func exportPaths(from: Int64, to: Int64, path: String?, server: String?,
                            _ body: @Sendable (ExportedPath) throws -> Void) async throws {
        do {
            try exportPaths(from: from, to: to, path: path, server: server, sliceMs: 3_600_000, body)
        } catch let error as SQLiteError {
            throw error.history
        }
    }

    public func exportConnections(from: Int64, to: Int64, id: String?, server: String?,
                                  _ body: @Sendable (ExportedConnection) throws -> Void) async throws {
        do {
            try exportConnections(from: from, to: to, id: id, server: server, sliceMs: 3_600_000, body)
        } catch let error as SQLiteError {
            throw error.history
        }
    }

    // MARK: Writes

    public func append(_ batches: [PollBatch], deliverTo targets: [String]) async throws -> AppendReport {
        try await writing { try self.append(batches, deliverTo: targets, sealWhenDue: false) }
    }

    public func rememberedPaths(server: String, since: Int64) async throws -> [RememberedPath] {
        try await reading { try $0.rememberedPaths(server: server, since: since) }
    }

    public func needsCompaction() async -> Bool { needsSeal }

    public func compact() async throws -> SealReport { try await writing { try self.seal() } }

    public func convertOlderRows(maxChunks: Int) async throws -> ConversionProgress {
        try await writing { try self.convertLegacy(maxChunks: maxChunks, counting: false) }
    }

    public func finish() async throws { try await writing { try self.finish() as Void } }

    public func prune(rawBefore: Int64, rollupsBefore: Int64, minutesBefore: Int64?, batch: Int,
                      dryRun: Bool) async throws -> PruneReport {
        try await writing {
            try self.prune(rawBefore: rawBefore, rollupsBefore: rollupsBefore, minutesBefore: minutesBefore,
                           batch: batch, dryRun: dryRun) as PruneReport
        }
    }

    public func nextDelivery(to target: String) async throws -> Delivery? {
        try await writing { try self.nextDelivery(to: target) as Delivery? }
    }

    public func settle(_ delivery: Delivery) async throws { try await writing { try self.settle(delivery) as Void } }

    public func retry(_ delivery: Delivery, at dueMs: Int64, error: String) async throws {
        try await writing { try self.retry(delivery, at: dueMs, error: error) as Void }
    }

    public func renameDeliveries(from url: String, to key: String) async throws {
        try await writing { try self.renameDeliveries(from: url, to: key) as Void }
    }

    public func dropDeliveries(notTo targets: [String]) async throws -> Int {
        try await writing { try self.dropDeliveries(notTo: targets) as Int }
    }
}

extension SQLiteError {
    /// The file's error as the history tells it: a full disk or a lock is a refusal, damage is
    /// damage, anything else means the file cannot be used now.
    var history: HistoryError {
        let primary = code & 0xff
        let kind: HistoryError.Kind = isDamage ? .damaged
            : primary == 13 /* SQLITE_FULL */ || isBusy || primary == 10 /* SQLITE_IOERR */ ? .refused : .unavailable
        return HistoryError(kind, description)
    }
}
