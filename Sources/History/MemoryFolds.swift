import MTXMonCore

/// Folds time-ordered points into buckets of a step, as `SQLiteHistory`'s `BucketFolder` folds raw
/// rows: with a step of whole minutes, minute by minute and the minutes merged into the bucket (hour
/// by hour first, with a step of whole hours). Floating-point sums depend on their order, so this
/// order is what makes a bucket's average the same to the bit in both stores; the contract tests
/// (`HistoryContractTests`) hold the two to it.
struct PointFolder {
    private static let minuteMs: Int64 = 60_000
    private static let hourMs: Int64 = 3_600_000

    let aggregation: Aggregation
    private var buckets: StepBuckets<PointBucket>
    private let byMinute: Bool
    private let byHour: Bool
    private var minute: PointBucket?
    private var hour: PointBucket?

    init(step: Int64, aggregation: Aggregation) {
        self.aggregation = aggregation
        buckets = StepBuckets(step: step)
        byMinute = step % Self.minuteMs == 0
        byHour = step % Self.hourMs == 0
    }

    mutating func add(_ point: HistoryPoint) {
        guard byMinute else {
            buckets.add(at: point.t, opening: PointBucket.init(start:)) { $0.add(point) }
            return
        }
        let start = point.t - point.t % Self.minuteMs
        if minute?.start != start {
            flushMinute()
            minute = PointBucket(start: start)
        }
        minute?.add(point)
    }

    private mutating func flushMinute() {
        guard let done = minute else { return }
        minute = nil
        guard byHour else { return mergeIntoBucket(done) }
        let start = done.start - done.start % Self.hourMs
        if hour?.start != start {
            flushHour()
            hour = PointBucket(start: start)
        }
        hour?.merge(done)
    }

    private mutating func flushHour() {
        guard let done = hour else { return }
        hour = nil
        mergeIntoBucket(done)
    }

    private mutating func mergeIntoBucket(_ b: PointBucket) {
        buckets.add(at: b.start, opening: PointBucket.init(start:)) { $0.merge(b) }
    }

    mutating func finish() -> [HistoryPoint] {
        flushMinute()
        flushHour()
        return buckets.finish().map { $0.point(aggregation) }
    }
}

/// The running fold of one bucket's points.
struct PointBucket {
    let start: Int64
    var count = 0
    var online = false
    var reset = false
    var inbound: Int64 = 0
    var outbound: Int64 = 0
    var bitrateIn = Fold()
    var bitrateOut = Fold()
    var readers = Fold()
    var rtt = Fold()
    var recvRate = Fold()
    var linkCapacity = Fold()

    init(start: Int64) { self.start = start }

    mutating func add(_ p: HistoryPoint) {
        count += 1
        online = online || p.online
        reset = reset || p.reset
        inbound = p.inboundBytes
        outbound = p.outboundBytes
        bitrateIn.add(p.bitrateIn)
        bitrateOut.add(p.bitrateOut)
        readers.add(p.readers)
        rtt.add(p.rttMs)
        recvRate.add(p.recvRateMbps)
        linkCapacity.add(p.linkCapacityMbps)
    }

    mutating func merge(_ b: PointBucket) {
        guard b.count > 0 else { return }
        count += b.count
        online = online || b.online
        reset = reset || b.reset
        inbound = b.inbound
        outbound = b.outbound
        bitrateIn.merge(b.bitrateIn)
        bitrateOut.merge(b.bitrateOut)
        readers.merge(b.readers)
        rtt.merge(b.rtt)
        recvRate.merge(b.recvRate)
        linkCapacity.merge(b.linkCapacity)
    }

    func point(_ aggregation: Aggregation) -> HistoryPoint {
        HistoryPoint(
            t: start, samples: count, online: online, reset: reset, inboundBytes: inbound, outboundBytes: outbound,
            bitrateIn: bitrateIn.value(aggregation), bitrateOut: bitrateOut.value(aggregation),
            readers: readers.value(aggregation) ?? 0, rttMs: rtt.value(aggregation),
            recvRateMbps: recvRate.value(aggregation), linkCapacityMbps: linkCapacity.value(aggregation))
    }
}

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
