import MTXMonCore

/// One minute of a connection folded from its rows, as `SQLiteHistory` rolls up `connection_1m`:
/// gauges summed in time order, counters at the minute's newest row, increases summed.
struct ConnectionMinuteFold {
    let start: Int64
    var samples = 0
    var lastTs: Int64 = .min
    var role = "idle"
    var inbound: Int64 = 0
    var outbound: Int64 = 0
    var resets = 0
    var bitrateIn = Fold()
    var bitrateOut = Fold()
    var rtt = Fold()
    var latency: Int64?
    var lost: Int64?
    var retransmitted: Int64?
    var dropped: Int64?

    init(start: Int64) { self.start = start }

    mutating func add(_ c: ConnectionRow) {
        samples += 1
        if c.ts >= lastTs {
            lastTs = c.ts
            role = c.role
            inbound = c.inboundBytes
            outbound = c.outboundBytes
            if let l = c.latencyMs { latency = l }
        }
        if c.reset { resets += 1 }
        bitrateIn.add(c.bitrateIn)
        bitrateOut.add(c.bitrateOut)
        rtt.add(c.rttMs)
        let point = c.point
        if let l = point.lost { lost = (lost ?? 0).addingSaturating(l) }
        if let r = point.retransmitted { retransmitted = (retransmitted ?? 0).addingSaturating(r) }
        if let d = point.dropped { dropped = (dropped ?? 0).addingSaturating(d) }
    }

    var minute: ConnectionMinute {
        func gauge(_ f: Fold) -> ConnectionMinute.Gauge {
            ConnectionMinute.Gauge(sum: f.count > 0 ? f.sum : 0, count: f.count, min: f.count > 0 ? f.low : nil,
                                   max: f.count > 0 ? f.high : nil)
        }
        let i = gauge(bitrateIn), o = gauge(bitrateOut), r = gauge(rtt)
        let point = ConnectionPoint(
            t: start, role: role, inboundBytes: inbound, outboundBytes: outbound, bitrateIn: i.mean, bitrateOut: o.mean,
            reset: resets > 0, rttMs: r.mean, latencyMs: latency, lost: lost, retransmitted: retransmitted,
            dropped: dropped)
        return ConnectionMinute(point: point, samples: samples, bitrateIn: i, bitrateOut: o, rtt: r)
    }
}
