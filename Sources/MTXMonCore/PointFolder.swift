/// Folds time-ordered points (and the minutes or hours rolled up from them) into a path's history
/// points of one step, by `aggregation`: the one fold every history store answers with.
///
/// With a step of whole minutes, points are folded minute by minute and the minutes merged into
/// the bucket (hour by hour first, with a step of whole hours), exactly as roll-ups are made.
/// Floating-point sums depend on their order, so this order is what gives a bucket the same sums,
/// to the bit, whether its minutes come from raw rows or from roll-ups, and in every store.
public struct PointFolder {
    private static let minuteMs: Int64 = 60_000
    private static let hourMs: Int64 = 3_600_000

    public let aggregation: Aggregation
    private var buckets: StepBuckets<PointBucket>
    private let byMinute: Bool
    private let byHour: Bool
    private var minute: PointBucket?
    private var hour: PointBucket?

    public init(step: Int64, aggregation: Aggregation) {
        self.aggregation = aggregation
        buckets = StepBuckets(step: step)
        byMinute = step % Self.minuteMs == 0
        byHour = step % Self.hourMs == 0
    }

    public mutating func add(_ point: HistoryPoint) {
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

    /// A minute (or, `wholeHour`, an hour) already folded, as a store's roll-up keeps it.
    public mutating func add(rolled bucket: PointBucket, wholeHour: Bool) {
        flushMinute()
        if wholeHour {
            flushHour()
            mergeIntoBucket(bucket)
        } else {
            mergeMinute(bucket)
        }
    }

    private mutating func flushMinute() {
        guard let done = minute else { return }
        minute = nil
        mergeMinute(done)
    }

    private mutating func mergeMinute(_ m: PointBucket) {
        guard byHour else { return mergeIntoBucket(m) }
        let start = m.start - m.start % Self.hourMs
        if hour?.start != start {
            flushHour()
            hour = PointBucket(start: start)
        }
        hour?.merge(m)
    }

    private mutating func flushHour() {
        guard let done = hour else { return }
        hour = nil
        mergeIntoBucket(done)
    }

    private mutating func mergeIntoBucket(_ b: PointBucket) {
        buckets.add(at: b.start, opening: PointBucket.init(start:)) { $0.merge(b) }
    }

    public mutating func finish() -> [HistoryPoint] {
        flushMinute()
        flushHour()
        return buckets.finish().map { $0.point(aggregation) }
    }
}

/// The running fold of one bucket's points.
public struct PointBucket: Sendable {
    public let start: Int64
    public var count = 0
    public var online = false
    public var reset = false
    public var inbound: Int64 = 0
    public var outbound: Int64 = 0
    public var bitrateIn = Fold()
    public var bitrateOut = Fold()
    public var readers = Fold()
    public var rtt = Fold()
    public var recvRate = Fold()
    public var linkCapacity = Fold()

    public init(start: Int64) { self.start = start }

    public mutating func add(_ p: HistoryPoint) {
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

    public mutating func merge(_ b: PointBucket) {
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

    public func point(_ aggregation: Aggregation) -> HistoryPoint {
        HistoryPoint(
            t: start, samples: count, online: online, reset: reset, inboundBytes: inbound, outboundBytes: outbound,
            bitrateIn: bitrateIn.value(aggregation), bitrateOut: bitrateOut.value(aggregation),
            readers: readers.value(aggregation) ?? 0, rttMs: rtt.value(aggregation),
            recvRateMbps: recvRate.value(aggregation), linkCapacityMbps: linkCapacity.value(aggregation))
    }
}
