import CSQLite
import History
import HistoryChunks
import MTXMonCore
import NIOPosix

extension SQLiteHistory {
    /// Seals every recent row into chunks and rolls up the minutes that are complete, in one
    /// transaction: a kill at any moment leaves the rows either recent or sealed, never both,
    /// never neither. The collector calls it every `sealEvery` polls and when it stops.
    @discardableResult
    public func sealAll() throws(SQLiteError) -> SealReport { try seal(hoursThroughEnd: true) }

    /// Seals when enough recent rows wait, as `HistoryCompactor` does beside a collector: for a
    /// writer that appends and seals on one thread (a benchmark, an import), so that its file grows
    /// as a running mtxmon's does.
    public func sealIfDue() throws(SQLiteError) -> SealReport? { needsSeal ? try seal() : nil }

    /// What a writer does when it stops: seals every recent row, gives the pages they used back
    /// to the file system (files created since chunks), and folds the write-ahead log into the
    /// file, so what is left on disk is the history and little else.
    public func finish() throws(SQLiteError) {
        try seal(hoursThroughEnd: true)
        try writer.withLock { state throws(SQLiteError) in
            try state.connection.execute("PRAGMA incremental_vacuum")
            try state.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    /// `finish` on a thread made for blocking work.
    public func finishOffThread() async throws {
        try await Task.detached {
            try await NIOThreadPool.singleton.runIfActive { try self.finish() }
        }.value
    }

    /// `sealAll` on a thread made for blocking work, as `appendOffThread`.
    @discardableResult
    public func sealAllOffThread() async throws -> SealReport {
        try await Task.detached {
            try await NIOThreadPool.singleton.runIfActive { try self.seal(hoursThroughEnd: true) }
        }.value
    }

    @discardableResult
    /// `hoursThroughEnd`: the hour rollups take the newest minute too, though it is not over
    /// (a writer that stops, a prune): the next seal folds that hour again from its minutes.
    func seal(hoursThroughEnd: Bool = false) throws(SQLiteError) -> SealReport {
        try writer.withLock { state throws(SQLiteError) -> SealReport in
            let db = state.connection
            try db.execute("BEGIN IMMEDIATE")
            do throws(SQLiteError) {
                var marks = try Watermarks.read(db)
                let report = try Self.seal(db, &marks, readerGapMs: ReaderGaps.read(db, fallback: readerGapMs), chunkRows: sealEvery,
                                           tails: &state.tails, hoursThroughEnd: hoursThroughEnd)
                try marks.write(db)
                try db.execute("COMMIT")
                state.watermarks = marks
                state.recentPolls = 0
                return report
            } catch {
                try? db.execute("ROLLBACK")
                state.forgetCaches()
                throw error
            }
        }
    }

    /// Paths whose recent rows a seal reads together.
    static let sealGroup = 64

    static func seal(_ db: SQLiteConnection, _ marks: inout Watermarks, readerGapMs: ReaderGaps,
                     chunkRows: Int, tails: inout RollTails, hoursThroughEnd: Bool = false) throws(SQLiteError) -> SealReport {
        var report = SealReport()
        let span = try db.cached("SELECT max(ts_ms) FROM recent")
        let newest = try span.step() ? span.optionalInt64(0) : nil
        span.reset()
        guard let newest else {
            // Nothing new, but the hours may still lack the newest minute.
            if hoursThroughEnd {
                report.minutes = try rollUp(db, &marks, readerGapMs: readerGapMs, tails: &tails, hoursThroughEnd: true,
                                            report: &report)
            }
            return report
        }
        // Paths in groups of consecutive ids, each group's rows in one pass per poll: the table is
        // clustered by time, then path, so a group's rows of one poll share a page or two, read
        // once, rather than once per path. Memory holds one group's blobs, not the whole table.
        let known = try db.cached("SELECT id FROM path ORDER BY id")
        var ids: [Int64] = [0]
        while try known.step() { ids.append(known.int64(0)) }
        known.reset()
        let rowsOfGroup = try db.cached("""
            SELECT r.path_id, r.data, r.ts_ms FROM (SELECT DISTINCT ts_ms FROM poll WHERE ts_ms > ?3) AS p
            JOIN recent AS r ON r.ts_ms = p.ts_ms AND r.path_id BETWEEN ?1 AND ?2
            ORDER BY p.ts_ms, r.path_id
            """)
        var lastSeen: [Int64: Int64] = [:]
        // Rolled up path by path while its rows are in memory; `rolledUntil` moves once all are.
        let roll = Roll(from: marks.rolledUntil, end: newest + 1, complete: (newest + 1) / 60_000 * 60_000,
                        readerGapMs: readerGapMs, hoursThroughEnd: hoursThroughEnd)
        var rolled = Set<Int64>()
        let reader = ReadConnection(connection: db)
        for group in stride(from: 0, to: ids.count, by: Self.sealGroup) {
            // The ranges cover every id, so a row of a path the table does not list is sealed too.
            let low = group == 0 ? Int64.min : ids[group]
            let high = group + Self.sealGroup < ids.count ? ids[group + Self.sealGroup] - 1 : Int64.max
            var blobs: [Int64: [(ts: Int64, data: [UInt8])]] = [:]
            rowsOfGroup.bind(1, low)
            rowsOfGroup.bind(2, high)
            rowsOfGroup.bind(3, marks.sealedUntil)
            do throws(SQLiteError) {
                while try rowsOfGroup.step() {
                    blobs[rowsOfGroup.int64(0), default: []].append((rowsOfGroup.int64(2), rowsOfGroup.blob(1)))
                }
            } catch {
                rowsOfGroup.reset()
                throw error
            }
            rowsOfGroup.reset()
            for pathID in blobs.keys.sorted() {
                let rowBlobs = blobs.removeValue(forKey: pathID) ?? []
                var all: [StoredRow] = []
                all.reserveCapacity(rowBlobs.count)
                for (ts, blob) in rowBlobs {
                    do {
                        all.append(try RowCodec.decode(blob))
                    } catch {
                        // One damaged row is moved aside; the path's others are sealed.
                        try quarantine(recent: blob, ts: ts, pathID: pathID, error: "\(error)", db)
                        report.quarantined += 1
                    }
                }
                report.rows += all.count
                // Many polls written at once (an import, a writer that was stopped a long time) still
                // make chunks of a few minutes: a query reads only the chunks its range touches.
                for start in stride(from: 0, to: all.count, by: chunkRows) {
                    if try ChunkCodec.insert(all[start..<min(all.count, start + chunkRows)], pathID: pathID, db) {
                        report.chunks += 1
                    }
                }
                // By index: a `for` over the rows would copy every connection sample out.
                for i in all.indices {
                    for j in all[i].connections.indices {
                        let key = all[i].connections[j].key, ts = all[i].connections[j].ts
                        lastSeen[key] = max(lastSeen[key] ?? .min, ts)
                    }
                }
                report.minutes += try rollUp(pathID, new: all, roll, reader, &tails, &report)
                rolled.insert(pathID)
            }
        }
        let touch = try db.cached("UPDATE connection SET last_ts_ms = max(last_ts_ms, ?) WHERE key = ?")
        for (key, ts) in lastSeen {
            touch.bind(1, ts)
            touch.bind(2, key)
            try touch.run()
            touch.reset()
        }
        // Every row was read above: a row is written with its poll, after `sealedUntil`, in one
        // transaction. Emptied whole, the table's pages go to the free list as they are, rather
        // than each being rewritten row by row into the log (a megabyte a poll at 1,000 paths).
        try db.execute("DELETE FROM recent")
        marks.sealedUntil = newest
        // Readers of this transaction (the roll-up below) must know the rows are sealed.
        try marks.write(db)
        report.minutes += try rollUp(db, &marks, readerGapMs: readerGapMs, skipping: rolled, tails: &tails,
                                     hoursThroughEnd: hoursThroughEnd, report: &report)
        return report
    }

    /// Rolls up the minutes from `rolledUntil` through the newest sealed row. The newest minute
    /// may not be over: its row is written all the same (so `history_1m` is current as of the
    /// seal, also after a shutdown), but `rolledUntil` stops before it, so queries read it raw
    /// and the next seal makes it again from all its rows.
    static func rollUp(_ db: SQLiteConnection, _ marks: inout Watermarks, readerGapMs: ReaderGaps,
                       skipping done: Set<Int64> = [], tails: inout RollTails,
                       hoursThroughEnd: Bool = false, report: inout SealReport) throws(SQLiteError) -> Int {
        guard marks.sealedUntil > .min, marks.sealedUntil >= marks.rolledUntil else {
            tails.removeAll()
            return 0
        }
        let complete = (marks.sealedUntil + 1) / 60_000 * 60_000
        let end = marks.sealedUntil + 1
        let from = marks.rolledUntil
        let roll = Roll(from: from, end: end, complete: complete, readerGapMs: readerGapMs,
                        hoursThroughEnd: hoursThroughEnd)
        let paths = try db.cached("SELECT DISTINCT path_id FROM chunk WHERE last_ts >= ?")
        paths.bind(1, from)
        var ids: [Int64] = []
        while try paths.step() { ids.append(paths.int64(0)) }
        paths.reset()
        if !marks.legacyDone {
            let legacy = try db.cached("SELECT id FROM path WHERE EXISTS (SELECT 1 FROM sample WHERE path_id = id AND ts_ms >= ?)")
            legacy.bind(1, from)
            while try legacy.step() { ids.append(legacy.int64(0)) }
            legacy.reset()
        }
        let reader = ReadConnection(connection: db)
        var minutes = 0
        for pathID in Set(ids).subtracting(done).sorted() {
            minutes += try rollUp(pathID, new: [], roll, reader, &tails, &report)
        }
        marks.rolledUntil = max(marks.rolledUntil, complete)
        tails.from = marks.rolledUntil
        return minutes
    }

    /// Rolls up one path. A chunk it cannot read (damaged, or written by a defect) is moved to
    /// `quarantine` and the path rolled up again without it; a path that still fails is left
    /// out of this roll-up, named in the report, rather than keeping every other path's rows
    /// from being sealed. I/O errors (a full disk, a lock) are thrown: the seal is tried again.
    static func rollUp(_ pathID: Int64, new: [StoredRow], _ roll: Roll, _ reader: ReadConnection,
                       _ tails: inout RollTails, _ report: inout SealReport) throws(SQLiteError) -> Int {
        for attempt in 0..<2 {
            do {
                return try roll.path(pathID, new: new, reader, &tails)
            } catch let error as SQLiteError where !error.isDamage {
                throw error
            } catch {
                tails.byPath[pathID] = nil
                if attempt == 0 {
                    let moved = try quarantineUnreadableChunks(pathID: pathID, from: roll.from, error: "\(error)",
                                                               reader.connection)
                    report.quarantined += moved
                    if moved > 0 { continue }
                }
                report.unrolled.append("path \(pathID): \(error)")
                return 0
            }
        }
        return 0
    }

    /// Moves a recent row that cannot be decoded to `quarantine`.
    static func quarantine(recent blob: [UInt8], ts: Int64, pathID: Int64, error: String,
                           _ db: SQLiteConnection) throws(SQLiteError) {
        let s = try db.cached("""
            INSERT INTO quarantine (at_ms, kind, path_id, first_ts, last_ts, rows, error, data)
            VALUES (?1, 'recent', ?2, ?3, ?3, 1, ?4, ?5)
            """)
        s.bind(1, WallClock.nowMs())
        s.bind(2, pathID)
        s.bind(3, ts)
        s.bind(4, String(error.prefix(1_000)))
        s.bind(5, blob)
        try s.run()
    }

    /// Moves every chunk of the path from `from` on that cannot be decoded to `quarantine`;
    /// returns how many.
    static func quarantineUnreadableChunks(pathID: Int64, from: Int64, error: String,
                                           _ db: SQLiteConnection) throws(SQLiteError) -> Int {
        let find = try db.cached("SELECT rowid, data FROM chunk WHERE path_id = ? AND last_ts >= ?")
        find.bind(1, pathID)
        find.bind(2, from == .min ? .min : from - RollupTier.hour.ms)
        var bad: [Int64] = []
        do throws(SQLiteError) {
            while try find.step() {
                let data = find.blob(1)
                do {
                    _ = try ChunkCodec.decode(data)
                } catch {
                    bad.append(find.int64(0))
                }
            }
        } catch {
            find.reset()
            throw error
        }
        find.reset()
        let move = try db.cached("""
            INSERT INTO quarantine (at_ms, kind, path_id, first_ts, last_ts, rows, error, data)
            SELECT ?1, 'chunk', path_id, first_ts, last_ts, rows, ?2, data FROM chunk WHERE rowid = ?3
            """)
        let remove = try db.cached("DELETE FROM chunk WHERE rowid = ?")
        for rowid in bad {
            move.bind(1, WallClock.nowMs())
            move.bind(2, String(error.prefix(1_000)))
            move.bind(3, rowid)
            try move.run()
            move.reset()
            remove.bind(1, rowid)
            try remove.run()
            remove.reset()
        }
        return bad.count
    }

    /// Polls in `recent`, for a writer that opens a file with rows not yet sealed.
    static func countRecentPolls(_ db: SQLiteConnection) throws(SQLiteError) -> Int {
        let s = try db.cached("SELECT count(DISTINCT ts_ms) FROM recent")
        defer { s.reset() }
        return try s.step() ? Int(s.int64(0)) : 0
    }
}

/// Where each path's roll-up stopped (the newest minute, not over yet), kept by the writer
/// between seals so that a seal goes on from memory with what it has just sealed, rather than
/// reading back the chunks it wrote. The minute's sums so far are kept, not its rows: a
/// thousand paths cost a few hundred kilobytes, not a minute of rows with their connections.
struct RollTails {
    /// The `rolledUntil` these sums start at; tails for another are not used.
    var from: Int64 = .min
    var byPath: [Int64: Tail] = [:]

    struct Tail {
        /// The newest row folded: the next row's increases are counted from it.
        var previous: StoredPath?
        /// The minute that was not over, as far as it was folded.
        var minute: RollupRow?
        var connections: [Int64: ConnectionMinuteFold] = [:]
    }

    mutating func removeAll() {
        from = .min
        byPath.removeAll()
    }
}

/// One roll-up: the minutes of `[from, end)`, of which those before `complete` are over.
struct Roll {
    let from: Int64
    let end: Int64
    let complete: Int64
    let readerGapMs: ReaderGaps
    let hoursThroughEnd: Bool

    /// Rolls up one path from its rows since `from` (`new`: those just sealed, in memory).
    func path(_ pathID: Int64, new: [StoredRow], _ reader: ReadConnection, _ tails: inout RollTails) throws -> Int {
        let db = reader.connection
        let gap = readerGapMs.gap(pathID: pathID)
        var rows: [StoredRow]
        var previous: StoredPath?
        var pathMinutes: [RollupRow] = []
        var connectionMinutes: [Int64: [ConnectionMinuteFold]] = [:]
        if tails.from == from, from > .min, let tail = tails.byPath[pathID] {
            // Folds are sequential: going on from the sums gives what folding every row would.
            rows = new
            previous = tail.previous
            if let minute = tail.minute { pathMinutes = [minute] }
            connectionMinutes = tail.connections.mapValues { [$0] }
        } else {
            let firstNew = new.first?.ts ?? end
            rows = try reader.storedRows(pathID: pathID, from: from, to: firstNew - 1) + new
            previous = from == .min ? nil : try reader.newestStoredPath(pathID: pathID, atOrBefore: from - 1)
        }
        for i in rows.indices {
            let minute = rows[i].ts - rows[i].ts % 60_000
            if let p = rows[i].path {
                let pair = previous.map { PairIncreases($0.counterRow, p.counterRow, readerGapMs: gap) }
                    ?? PairIncreases()
                if pathMinutes.last?.start != minute { pathMinutes.append(RollupRow(start: minute)) }
                pathMinutes[pathMinutes.count - 1].add(p, pair: pair, previousTs: previous?.ts)
                previous = p
            }
            for j in rows[i].connections.indices {
                // Changed where it lies in the dictionary: one lookup, no copy of the list.
                let key = rows[i].connections[j].key
                ConnectionMinuteFold.minutes(CollectionOfOne(rows[i].connections[j].row),
                                             into: &connectionMinutes[key, default: []])
            }
        }
        var tail = RollTails.Tail(previous: previous)
        if let last = pathMinutes.last, last.start >= complete { tail.minute = last }
        for (key, list) in connectionMinutes {
            if let last = list.last, last.start >= complete { tail.connections[key] = last }
        }
        tails.byPath[pathID] = previous == nil && tail.minute == nil && tail.connections.isEmpty ? nil : tail
        for m in pathMinutes { try m.write(pathID: pathID, tier: .minute, db) }
        for (key, list) in connectionMinutes { for m in list { try m.write(key: key, db) } }
        // Hours take the minutes that are over, in order, each once.
        for m in pathMinutes where m.start < complete || hoursThroughEnd {
            let hour = m.start - m.start % RollupTier.hour.ms
            var folded = try RollupRow.read(pathID: pathID, tier: .hour, from: hour, endBefore: hour + 1, db).first
                ?? RollupRow(start: hour)
            if folded.samples > 0 && m.start <= folded.lastTs {
                // The hour already holds part of this minute (rolled up by an older mtxmon as its
                // samples came): fold it again from its minutes.
                folded = RollupRow(start: hour)
                for minute in try RollupRow.read(pathID: pathID, tier: .minute, from: hour, endBefore: m.start + 1, db) {
                    folded.merge(minute)
                }
            } else {
                folded.merge(m)
            }
            try folded.write(pathID: pathID, tier: .hour, db)
        }
        return pathMinutes.count
    }
}

extension ReadConnection {
    /// How many rows and chunks are in `quarantine`, and why the newest is.
    public func quarantine() throws -> QuarantineSummary {
        let s = try connection.cached("SELECT count(*), (SELECT error FROM quarantine ORDER BY id DESC LIMIT 1) FROM quarantine")
        defer { s.reset() }
        guard try s.step() else { return QuarantineSummary() }
        return QuarantineSummary(count: Int(s.int64(0)), lastError: s.string(1))
    }
}

/// How far apart two samples of each path may lie and still count reader time between them: its
/// server's cadence (see `Cadence`), read once per seal.
struct ReaderGaps {
    var byPath: [Int64: Int64] = [:]
    var fallback: Int64

    func gap(pathID: Int64) -> Int64 { byPath[pathID] ?? fallback }

    static func read(_ db: SQLiteConnection, fallback: Int64) throws(SQLiteError) -> ReaderGaps {
        var gaps = ReaderGaps(fallback: fallback)
        let s = try db.cached("""
            SELECT p.id, s.interval_ms FROM path AS p JOIN server AS s ON s.id = p.server_id WHERE s.interval_ms IS NOT NULL
            """)
        defer { s.reset() }
        while try s.step() { gaps.byPath[s.int64(0)] = Cadence(intervalMs: s.int64(1)).maxGapMs }
        return gaps
    }
}
