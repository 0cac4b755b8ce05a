import History
import MTXMonCore

/// The binary form of a run of `StoredRow`s of one path: a chunk when sealed, a single row
/// while recent.
///
/// Column by column, so each figure is encoded with its neighbours in time (see `Columns`).
/// Bitrates are guessed from the counters and the time between rows, as the collector worked
/// them out, and only the difference is kept; a counter's increase is guessed from the counter.
/// Each connection's block is listed in a directory with its length, so one connection is read
/// without decoding the others.
package enum ChunkCodec {
    package static let version: UInt8 = 1

    package static func encode(_ rows: [StoredRow]) -> [UInt8] { encode(rows[...]) }

    package static func encode(_ rows: ArraySlice<StoredRow>) -> [UInt8] {
        let rows = RowsOf(rows)
        var w = ByteWriter(capacity: 64 + rows.count * 16)
        w.byte(version)
        w.varint(rows.count)
        let ts = rows.map { $0.ts }
        Columns.writeInts(ts, &w)
        Columns.writePresence(rows.map { $0.path != nil }, &w)
        let paths = rows.compactMap { $0.path }
        if !paths.isEmpty {
            ColumnTable<PathColumn>.write({ $0.values(RowsOf(paths)) }, ts: paths.map(\.ts), &w)
        }
        var series: [Int64: [Int]] = [:]
        var keys: [Int64] = []
        for (i, row) in rows.enumerated() {
            for (j, c) in row.connections.enumerated() {
                if series[c.key] == nil { keys.append(c.key) }
                series[c.key, default: []].append(i << 16 | j)
            }
        }
        w.varint(keys.count)
        var blocks: [[UInt8]] = []
        for key in keys {
            let positions = series[key] ?? []
            var present = [Bool](repeating: false, count: rows.count)
            var samples: [ConnectionRow] = []
            samples.reserveCapacity(positions.count)
            for p in positions where !present[p >> 16] {
                present[p >> 16] = true
                samples.append(rows[p >> 16].connections[p & 0xffff].row)
            }
            var b = ByteWriter(capacity: 32 + samples.count * 8)
            Columns.writePresence(present, &b)
            writeConnections(samples, &b)
            blocks.append(b.bytes)
            w.varint(UInt64(bitPattern: key))
            w.varint(b.bytes.count)
        }
        for block in blocks { w.append(block) }
        return w.bytes
    }

    /// Every row with its path and connections.
    package static func decode(_ bytes: [UInt8]) throws(ChunkError) -> [StoredRow] {
        var r = ByteReader(bytes)
        let (ts, paths) = try readHead(&r)
        var rows = zip(ts, paths).map { StoredRow(ts: $0, path: $1) }
        for (key, range) in try readDirectory(&r) {
            var block = ByteReader(bytes, offset: range.lowerBound)
            let read = try readConnection(key: key, ts: ts, &block)
            for i in 0..<read.count { rows[read.rows[i]].connections.append(read.stored(i)) }
        }
        return rows
    }

    /// The path's own rows only, without reading its connections.
    package static func decodePaths(_ bytes: [UInt8]) throws(ChunkError) -> [StoredPath] {
        var r = ByteReader(bytes)
        return try readHead(&r).paths.compactMap { $0 }
    }

    /// The rows of one connection, or none when the chunk does not hold it. With `through`, only
    /// the block's columns up to that one are read (see `ConnectionColumn`); later figures keep
    /// neutral values.
    package static func decodeConnection(_ bytes: [UInt8], key: Int64,
                                 through: ConnectionColumn = .counters) throws(ChunkError) -> [StoredConnection] {
        guard let block = try connectionBlock(bytes, key: key, through: through) else { return [] }
        return (0..<block.count).map(block.stored)
    }

    /// One connection's block of the chunk, its columns read as far as `through`; `nil` when the
    /// chunk does not hold the connection.
    package static func connectionBlock(_ bytes: [UInt8], key: Int64,
                                through: ConnectionColumn) throws(ChunkError) -> ConnectionBlock? {
        var r = ByteReader(bytes)
        let (ts, present) = try readTimes(&r)
        // The path's own columns lie between the head and the directory: walked past, not built.
        try ColumnTable<PathColumn>.skip(present.lazy.filter { $0 }.count, &r)
        for (k, range) in try readDirectory(&r) where k == key {
            var block = ByteReader(bytes, offset: range.lowerBound)
            return try readConnection(key: key, ts: ts, through: through, &block)
        }
        return nil
    }

    /// The keys of the connections the chunk holds.
    package static func connectionKeys(_ bytes: [UInt8]) throws(ChunkError) -> [Int64] {
        var r = ByteReader(bytes)
        _ = try readHead(&r)
        return try readDirectory(&r).map(\.0)
    }

    // MARK: Head and directory

    /// The rows' times and which rows have the path's own figures.
    package static func readTimes(_ r: inout ByteReader) throws(ChunkError) -> (ts: [Int64], present: [Bool]) {
        let v = try r.byte()
        guard v == version else { throw ChunkError(detail: "version \(v), this mtxmon reads \(version)") }
        let n = try r.count(limit: 1 << 24)
        let ts = try Columns.readInts(n, &r)
        return (ts, try Columns.readPresence(n, &r))
    }

    /// The times of the rows that hold the path's own figures: what its columns are as long as.
    package static func readPathTimes(_ r: inout ByteReader) throws(ChunkError) -> [Int64] {
        let (rowTs, present) = try readTimes(&r)
        var ts: [Int64] = []
        ts.reserveCapacity(rowTs.count)
        for i in rowTs.indices where present[i] { ts.append(rowTs[i]) }
        return ts
    }

    private static func readHead(_ r: inout ByteReader) throws(ChunkError) -> (ts: [Int64], paths: [StoredPath?]) {
        let (ts, present) = try readTimes(&r)
        let n = ts.count
        let count = present.lazy.filter { $0 }.count
        var paths = [StoredPath?](repeating: nil, count: n)
        if count > 0 {
            let rowTs = zip(ts, present).compactMap { $1 ? $0 : nil }
            let decoded = StoredPath.rows(try ColumnTable<PathColumn>.read(rowTs, &r), ts: rowTs)
            var k = 0
            for i in 0..<n where present[i] {
                paths[i] = decoded[k]
                k += 1
            }
        }
        return (ts, paths)
    }

    private static func readDirectory(_ r: inout ByteReader) throws(ChunkError) -> [(Int64, Range<Int>)] {
        let count = try r.count(limit: r.bytes.count)
        var entries: [(Int64, Int)] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let key = Int64(bitPattern: try r.varint())
            entries.append((key, try r.count()))
        }
        var offset = r.offset
        var result: [(Int64, Range<Int>)] = []
        for (key, length) in entries {
            guard length <= r.bytes.count - offset else { throw ChunkError(detail: "connection block past the end") }
            result.append((key, offset..<offset + length))
            offset += length
        }
        return result
    }

    // MARK: Paths

    /// The collector's bitrate from two readings, as the decoder can work it out again: part of
    /// the format, so it is the rule without the bound on plausible rates added later.
    @inline(__always)
    package static func guess(_ previous: Int64, _ current: Int64, _ previousTs: Int64, _ ts: Int64) -> Double? {
        CounterRule.rawBitrate(previous: previous, current: current, elapsedMs: ts.subtractingSaturating(previousTs))
    }

    package static func guesses(_ ts: [Int64], _ bytes: [Int64]) -> [Double?] {
        ts.indices.map { i in i == 0 ? nil : guess(bytes[i - 1], bytes[i], ts[i - 1], ts[i]) }
    }

    // MARK: Connections

    /// A counter's increase as the collector works it out from two readings: the prediction of
    /// a stored delta, none where either reading is absent.
    @inline(__always)
    package static func increase(_ previous: Int64?, _ current: Int64?) -> Int64? {
        guard let current, let previous else { return nil }
        return CounterRule.increase(previous, current)
    }

    private static func writeConnections(_ c: [ConnectionRow], _ w: inout ByteWriter) {
        ColumnTable<ConnectionField>.write({ $0.values(RowsOf(c)) }, ts: c.map(\.ts), &w)
        let width = ConnectionCounters.count
        w.varint(width)
        for k in 0..<width { Columns.writeOptionalInts(c.map { $0.counters[k] }, &w) }
        Columns.writePresence(c.map { $0.deltas != nil }, &w)
        let withDeltas = c.indices.filter { c[$0].deltas != nil }
        guard !withDeltas.isEmpty else { return }
        for k in 0..<width {
            let residuals: [Int64?] = withDeltas.map { i in
                guard let d = c[i].deltas?[k] else { return nil }
                let g = i == 0 ? nil : increase(c[i - 1].counters[k], c[i].counters[k])
                return d &- (g ?? 0)
            }
            Columns.writeOptionalInts(residuals, &w)
        }
    }

    private static func readConnection(key: Int64, ts rowTs: [Int64], through: ConnectionColumn = .counters,
                                       _ r: inout ByteReader) throws(ChunkError) -> ConnectionBlock {
        let present = try Columns.readPresence(rowTs.count, &r)
        let rows = rowTs.indices.filter { present[$0] }
        let ts = rows.map { rowTs[$0] }
        // Past `through`, nothing more is read: the figures stay absent (nil, false, no counters).
        let table = try ColumnTable<ConnectionField>.read(ts, wanted: ConnectionField.through(through), &r)
        let counted = try through == .counters ? readCounters(ts.count, &r) : nil
        return ConnectionBlock(key: key, rows: rows, ts: ts, table, counted: counted)
    }

    /// The counters of `n` polls and, from each one's second poll on, their increases.
    private static func readCounters(_ n: Int, _ r: inout ByteReader) throws(ChunkError)
        -> (counters: [ConnectionCounters], deltas: [ConnectionCounters?]) {
        let counterCount = try r.count(limit: 4_096)
        let known = ConnectionCounters.count
        var columns: [[Int64?]] = []
        for _ in 0..<counterCount { columns.append(try Columns.readOptionalInts(n, &r)) }
        // Counters a later mtxmon adds are read past, not misread.
        var counters = [ConnectionCounters](repeating: ConnectionCounters(), count: n)
        for k in 0..<min(known, counterCount) {
            let column = columns[k]
            for i in 0..<n { counters[i][k] = column[i] }
        }
        let hasDeltas = try Columns.readPresence(n, &r)
        var deltas = [ConnectionCounters?](repeating: nil, count: n)
        let withDeltas = (0..<n).filter { hasDeltas[$0] }
        if !withDeltas.isEmpty {
            for i in withDeltas { deltas[i] = ConnectionCounters() }
            for k in 0..<counterCount {
                let residuals = try Columns.readOptionalInts(withDeltas.count, &r)
                guard k < known else { continue }
                for (j, i) in withDeltas.enumerated() {
                    guard let residual = residuals[j] else { continue }
                    let g = i == 0 ? nil : increase(columns[k][i - 1], columns[k][i])
                    deltas[i]?[k] = residual &+ (g ?? 0)
                }
            }
        }
        return (counters, deltas)
    }
}
