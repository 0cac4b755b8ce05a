import HistoryChunks

extension ChunkCodec {
    /// Writes `rows` of one path as one chunk, keyed by its first and last poll: the one way a
    /// chunk enters the file, from a seal or from a file's older tables. False when there are none.
    static func insert(_ rows: ArraySlice<StoredRow>, pathID: Int64, _ db: SQLiteConnection) throws(SQLiteError) -> Bool {
        guard let first = rows.first, let last = rows.last else { return false }
        let insert = try db.cached("INSERT INTO chunk (path_id, first_ts, last_ts, rows, data) VALUES (?, ?, ?, ?, ?)")
        insert.bind(1, pathID)
        insert.bind(2, first.ts)
        insert.bind(3, last.ts)
        insert.bind(4, rows.count)
        insert.bind(5, encode(rows))
        try insert.run()
        insert.reset()
        return true
    }
}
