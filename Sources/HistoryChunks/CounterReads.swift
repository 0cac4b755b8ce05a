import History
import MTXMonCore

extension ChunkCodec {
    /// The path's rows as rate inputs: counters, bitrates, readers and state, with the strings and
    /// link gauges between them walked past rather than built. A rate answer reads the chunks at
    /// both ends of its window this way; building whole rows there was a quarter of its time.
    package static func decodeCounters(_ bytes: [UInt8]) throws(ChunkError) -> [CounterRow] {
        var r = ByteReader(bytes)
        let ts = try readPathTimes(&r)
        let t = try ColumnTable<PathColumn>.read(ts, wanted: [
            .online, .reset, .inboundBytes, .outboundBytes, .bitrateIn, .bitrateOut, .readers, .srtPacketsReceived,
            .srtPacketsLost, .srtPacketsRetransmitted, .srtPacketsDropped,
        ], &r)
        let online = t.bools(.online), reset = t.bools(.reset)
        let inbound = t.ints(.inboundBytes), outbound = t.ints(.outboundBytes)
        let bitrateIn = t.doubles(.bitrateIn), bitrateOut = t.doubles(.bitrateOut), readers = t.ints(.readers)
        let received = t.optionalInts(.srtPacketsReceived), lost = t.optionalInts(.srtPacketsLost)
        let retransmitted = t.optionalInts(.srtPacketsRetransmitted), dropped = t.optionalInts(.srtPacketsDropped)
        return ts.indices.map { i in
            CounterRow(ts: ts[i], online: online[i], reset: reset[i], inboundBytes: inbound[i],
                       outboundBytes: outbound[i], bitrateIn: bitrateIn[i], bitrateOut: bitrateOut[i],
                       readers: Int(readers[i]), srtPacketsReceived: received[i], srtPacketsLost: lost[i],
                       srtPacketsRetransmitted: retransmitted[i], srtPacketsDropped: dropped[i])
        }
    }
}
