/// How far the recent rows have been sealed and the minutes rolled up, kept in `store_state` so
/// a restarted writer and every reader agree on where each part of history lies.
struct Watermarks: Sendable, Equatable {
    /// Every poll at or before this time is in chunks; later ones are in `recent`.
    var sealedUntil: Int64 = .min
    /// Every minute starting before this time is in the rollups; later ones are read raw.
    var rolledUntil: Int64 = .min
    /// No row is left in `sample` or `connection_sample`.
    var legacyDone = false

    static func read(_ db: SQLiteConnection) throws(SQLiteError) -> Watermarks {
        let s = try db.cached("SELECT key, value FROM store_state")
        defer { s.reset() }
        var marks = Watermarks()
        var found = Set<String>()
        while try s.step() {
            let key = s.string(0) ?? ""
            found.insert(key)
            switch key {
            case "sealed_until": marks.sealedUntil = s.int64(1)
            case "rolled_until": marks.rolledUntil = s.int64(1)
            case "legacy_done": marks.legacyDone = s.int64(1) != 0
            default: break
            }
        }
        return marks
    }

    func write(_ db: SQLiteConnection) throws(SQLiteError) {
        let s = try db.cached("INSERT OR REPLACE INTO store_state (key, value) VALUES (?, ?)")
        for (key, value) in [("sealed_until", sealedUntil), ("rolled_until", rolledUntil),
                             ("legacy_done", legacyDone ? 1 : 0)] {
            s.bind(1, key)
            s.bind(2, value)
            try s.run()
            s.reset()
        }
    }

    /// The watermarks of a file opened for the first time since chunks: its old rows are read
    /// where they are, and the rollups they already made are complete but for the minute of the
    /// newest one, which the first seal makes again with the rows that follow it.
    static func start(_ db: SQLiteConnection) throws(SQLiteError) -> Watermarks {
        // Under the write lock from the start: two processes opening a new file together (a
        // `collect` and a `serve`) must not both find it unmarked, and a read that turns into a
        // write cannot wait for the other's lock, it fails at once.
        try db.execute("BEGIN IMMEDIATE")
        do throws(SQLiteError) {
            let marks = try startLocked(db)
            try db.execute("COMMIT")
            return marks
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    private static func startLocked(_ db: SQLiteConnection) throws(SQLiteError) -> Watermarks {
        let s = try db.cached("SELECT count(*) FROM store_state")
        let marked = try s.step() && s.int64(0) > 0
        s.reset()
        if marked { return try read(db) }
        var marks = Watermarks()
        let newest = try db.cached("""
            SELECT (SELECT max(ts_ms) FROM poll), (SELECT EXISTS (SELECT 1 FROM sample)),
                   (SELECT EXISTS (SELECT 1 FROM connection_sample))
            """)
        if try newest.step() {
            marks.legacyDone = newest.int64(1) == 0 && newest.int64(2) == 0
            // The newest poll's minute (the rows written so far were rolled up as they came).
            if !marks.legacyDone, let last = newest.optionalInt64(0) { marks.rolledUntil = last - last % 60_000 }
        }
        newest.reset()
        try marks.write(db)
        return marks
    }
}
