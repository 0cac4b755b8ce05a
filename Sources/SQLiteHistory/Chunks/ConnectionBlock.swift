import History
import MTXMonCore

/// One connection's columns as read from a chunk, from which rows are built one at a time.
///
/// A stored connection row carries its counters and their increases (some 800 bytes); a chart
/// needs a few figures of each poll. Building points straight from the columns, rather than
/// whole rows first, keeps a raw connection answer from spending its time copying rows.
struct ConnectionBlock {
    let key: Int64
    /// The chunk row of each poll the connection was in.
    let rows: [Int]
    let ts: [Int64]
    let role: [String?]
    let inbound: [Int64]
    let outbound: [Int64]
    let bitrateIn: [Double?]
    let gauges: ChunkCodec.ConnectionGauges?
    let counted: (counters: [ConnectionCounters], deltas: [ConnectionCounters?])?

    var count: Int { ts.count }

    func stored(_ i: Int) -> StoredConnection {
        StoredConnection(
            key: key, ts: ts[i], role: role[i] ?? "idle", inboundBytes: inbound[i], outboundBytes: outbound[i],
            bitrateIn: bitrateIn[i], bitrateOut: gauges?.bitrateOut[i], reset: gauges?.reset[i] ?? false,
            rttMs: gauges?.rtt[i], recvRateMbps: gauges?.recv[i], sendRateMbps: gauges?.send[i],
            linkCapacityMbps: gauges?.link[i], latencyMs: gauges?.latency[i], jitter: gauges?.jitter[i],
            counters: counted?.counters[i] ?? ConnectionCounters(), deltas: counted?.deltas[i] ?? nil)
    }

    /// The same point `stored(i).point` gives; without counters read, made from the columns alone.
    func point(_ i: Int) -> ConnectionPoint {
        guard counted == nil else { return stored(i).point }
        return ConnectionPoint(
            t: ts[i], role: role[i] ?? "idle", inboundBytes: inbound[i], outboundBytes: outbound[i],
            bitrateIn: bitrateIn[i], bitrateOut: gauges?.bitrateOut[i], reset: gauges?.reset[i] ?? false,
            rttMs: gauges?.rtt[i], recvRateMbps: gauges?.recv[i], sendRateMbps: gauges?.send[i],
            linkCapacityMbps: gauges?.link[i], latencyMs: gauges?.latency[i], jitter: gauges?.jitter[i],
            lost: nil, retransmitted: nil, dropped: nil)
    }
}
