import History
import MTXMonCore

/// One connection's columns as read from a chunk, from which rows are built one at a time.
///
/// A stored connection row carries its counters and their increases (some 800 bytes); a chart
/// needs a few figures of each poll. Building points straight from the columns, rather than
/// whole rows first, keeps a raw connection answer from spending its time copying rows.
package struct ConnectionBlock {
    package let key: Int64
    /// The chunk row of each poll the connection was in.
    package let rows: [Int]
    package let ts: [Int64]
    package let role: [String?]
    package let inbound, outbound: [Int64]
    package let bitrateIn, bitrateOut: [Double?]
    package let reset: [Bool]
    package let rtt, recv, send, link: [Double?]
    package let latency: [Int64?]
    package let jitter: [Double?]
    package let counted: (counters: [ConnectionCounters], deltas: [ConnectionCounters?])?

    package init(key: Int64, rows: [Int], ts: [Int64], _ t: ColumnTable<ConnectionField>,
         counted: (counters: [ConnectionCounters], deltas: [ConnectionCounters?])?) {
        self.key = key
        self.rows = rows
        self.ts = ts
        role = t.strings(.role)
        inbound = t.ints(.inboundBytes)
        outbound = t.ints(.outboundBytes)
        bitrateIn = t.doubles(.bitrateIn)
        bitrateOut = t.doubles(.bitrateOut)
        reset = t.bools(.reset)
        rtt = t.doubles(.rttMs)
        recv = t.doubles(.recvRateMbps)
        send = t.doubles(.sendRateMbps)
        link = t.doubles(.linkCapacityMbps)
        latency = t.optionalInts(.latencyMs)
        jitter = t.doubles(.jitter)
        self.counted = counted
    }

    package var count: Int { ts.count }

    package func row(_ i: Int) -> ConnectionRow {
        ConnectionRow(
            ts: ts[i], role: role[i] ?? "idle", inboundBytes: inbound[i], outboundBytes: outbound[i],
            bitrateIn: bitrateIn[i], bitrateOut: bitrateOut[i], reset: reset[i], rttMs: rtt[i],
            recvRateMbps: recv[i], sendRateMbps: send[i], linkCapacityMbps: link[i], latencyMs: latency[i],
            jitter: jitter[i], counters: counted?.counters[i] ?? ConnectionCounters(),
            deltas: counted?.deltas[i] ?? nil)
    }

    package func stored(_ i: Int) -> StoredConnection { StoredConnection(key: key, row: row(i)) }

    /// The same point `row(i).point` gives; without counters read, made from the columns alone.
    package func point(_ i: Int) -> ConnectionPoint {
        guard counted == nil else { return row(i).point }
        return ConnectionPoint(
            t: ts[i], role: role[i] ?? "idle", inboundBytes: inbound[i], outboundBytes: outbound[i],
            bitrateIn: bitrateIn[i], bitrateOut: bitrateOut[i], reset: reset[i], rttMs: rtt[i],
            recvRateMbps: recv[i], sendRateMbps: send[i], linkCapacityMbps: link[i], latencyMs: latency[i],
            jitter: jitter[i], lost: nil, retransmitted: nil, dropped: nil)
    }
}
