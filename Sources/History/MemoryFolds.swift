import MTXMonCore

/// One minute of a connection folded from its rows, as a store rolls up its connection minutes:
/// gauges summed in time order, counters at the minute's newest row, increases summed. Both
/// stores fold with it, so a minute reads the same from either.
public struct ConnectionMinuteFold: Sendable {
    public let start: Int64
    public private(set) var samples = 0
    public private(set) var lastTs: Int64 = .min
    public private(set) var role = "idle"
    public private(set) var inbound: Int64 = 0
    public private(set) var outbound: Int64 = 0
    public private(set) var resets = 0
    public private(set) var bitrateIn = Fold()
    public private(set) var bitrateOut = Fold()
    public private(set) var rtt = Fold()
    public private(set) var latency: Int64?
    public private(set) var lost: Int64?
    public private(set) var retransmitted: Int64?
    public private(set) var dropped: Int64?

    public init(start: Int64) { self.start = start }

    public mutating func add(_ c: ConnectionRow) {
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
        // The same figures as `c.point` gives, without building the whole point.
        guard let deltas = c.deltas else { return }
        let role = ConnectionRole(rawValue: c.role) ?? .idle
        if let l = deltas.lost(role) { lost = (lost ?? 0).addingSaturating(l) }
        if let r = deltas.retransmitted(role) { retransmitted = (retransmitted ?? 0).addingSaturating(r) }
        if let d = deltas.dropped(role) { dropped = (dropped ?? 0).addingSaturating(d) }
    }

    /// Folds `rows` (in time order) into their minutes.
    public static func minutes<Rows: Sequence>(_ rows: Rows, into list: inout [ConnectionMinuteFold])
        where Rows.Element == ConnectionRow {
        for c in rows {
            let minute = c.ts - c.ts % 60_000
            if list.last?.start != minute { list.append(ConnectionMinuteFold(start: minute)) }
            list[list.count - 1].add(c)
        }
    }

    /// The minute as a store's reader gives it back.
    public var minute: ConnectionMinute {
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
