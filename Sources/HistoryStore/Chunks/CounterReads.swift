import MTXMonCore

extension ChunkCodec {
    /// The path's rows as rate inputs: counters, bitrates, readers and state, with the strings and
    /// link gauges between them walked past rather than built. A rate answer reads the chunks at
    /// both ends of its window this way; building whole rows there was a quarter of its time.
    static func decodeCounters(_ bytes: [UInt8]) throws(ChunkError) -> [CounterRow] {
        var r = ByteReader(bytes)
        let (rowTs, present) = try readTimes(&r)
        var ts: [Int64] = []
        ts.reserveCapacity(rowTs.count)
        for i in rowTs.indices where present[i] { ts.append(rowTs[i]) }
        let n = ts.count
        guard n > 0 else { return [] }
        // Column order: ChunkCodec.writePaths.
        let online = try Columns.readBools(n, &r)
        let reset = try Columns.readBools(n, &r)
        try Columns.skipStrings(n, &r)
        let inbound = try Columns.readInts(n, &r)
        let outbound = try Columns.readInts(n, &r)
        let bitrateIn = try Columns.readDoubles(n, predicted: { i in
            i == 0 ? nil : guess(inbound[i - 1], inbound[i], ts[i - 1], ts[i]) }, &r)
        let bitrateOut = try Columns.readDoubles(n, predicted: { i in
            i == 0 ? nil : guess(outbound[i - 1], outbound[i], ts[i - 1], ts[i]) }, &r)
        let readers = try Columns.readInts(n, &r)
        try Columns.skipStrings(n, &r)
        try Columns.skipOptionalInts(n, &r)
        try Columns.skipDoubles(n, &r)
        try Columns.skipDoubles(n, &r)
        try Columns.skipDoubles(n, &r)
        try Columns.skipOptionalInts(n, &r)
        let received = try Columns.readOptionalInts(n, &r)
        let lost = try Columns.readOptionalInts(n, &r)
        let retransmitted = try Columns.readOptionalInts(n, &r)
        let dropped = try Columns.readOptionalInts(n, &r)
        var rows: [CounterRow] = []
        rows.reserveCapacity(n)
        for i in 0..<n {
            rows.append(CounterRow(ts: ts[i], online: online[i], reset: reset[i], inboundBytes: inbound[i],
                                   outboundBytes: outbound[i], bitrateIn: bitrateIn[i], bitrateOut: bitrateOut[i],
                                   readers: Int(readers[i]), srtPacketsReceived: received[i], srtPacketsLost: lost[i],
                                   srtPacketsRetransmitted: retransmitted[i], srtPacketsDropped: dropped[i]))
        }
        return rows
    }
}

extension ReadConnection {
    /// The raw counters of one path in `[from, to]`, in time order, for rate maths: from legacy
    /// rows, sealed chunks (read for counters only) and recent rows alike.
    public func counterRows(pathID: Int64, from: Int64, to: Int64) throws -> [CounterRow] {
        guard from <= to else { return [] }
        var rows = try watermarks().legacyDone ? []
            : legacyPaths(pathID: pathID, from: from, to: to).map(\.counterRow)
        for data in try chunks(pathID: pathID, from: from, to: to) {
            rows += try ChunkCodec.decodeCounters(data).filter { $0.ts >= from && $0.ts <= to }
        }
        for data in try recent(pathID: pathID, from: from, to: to) {
            if let path = try RowCodec.decodePath(data) { rows.append(path.counterRow) }
        }
        if !zip(rows, rows.dropFirst()).allSatisfy({ $0.ts < $1.ts }) { rows.sort { $0.ts < $1.ts } }
        return rows
    }
}
