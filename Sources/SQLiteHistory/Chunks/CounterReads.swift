import History
import MTXMonCore

extension ChunkCodec {
    /// The path's rows as rate inputs: counters, bitrates, readers and state, with the strings and
    /// link gauges between them walked past rather than built. A rate answer reads the chunks at
    /// both ends of its window this way; building whole rows there was a quarter of its time.
    static func decodeCounters(_ bytes: [UInt8]) throws(ChunkError) -> [CounterRow] {
        var r = ByteReader(bytes)
        let ts = try readPathTimes(&r)
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
        try storedPathFigures(pathID: pathID, from: from, to: to, ts: \.ts, row: \.counterRow,
                              chunk: ChunkCodec.decodeCounters)
    }
}
