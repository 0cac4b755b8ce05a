/// How the points of one bucket become one point.
public enum Aggregation: String, Sendable, CaseIterable {
    case avg, min, max, last
}

/// A validated history request: an inclusive time range, and a bucket size or raw resolution.
public struct HistoryRange: Sendable, Equatable {
    public var from: Int64
    public var to: Int64
    /// Bucket width in ms; `nil` is raw resolution (every stored sample).
    public var step: Int64?
    public var aggregation: Aggregation

    public init(from: Int64, to: Int64, step: Int64? = nil, aggregation: Aggregation = .avg) {
        self.from = from
        self.to = to
        self.step = step
        self.aggregation = aggregation
    }

    /// Points per series a response may hold, as in Prometheus's range queries.
    public static let maxPoints: Int64 = 11_000

    /// Checks and fills in the query parameters of a history request.
    ///
    /// Defaults: the past hour at raw resolution. A step at or below the poll interval is raw
    /// resolution too, since there is nothing to average. A range that would return more than
    /// `maxPoints` per series is refused with the smallest step that fits, so a client can retry.
    public static func parse(
        from: String?, to: String?, step: String?, aggregation: String?, now: Int64, interval: Int64
    ) throws(QueryError) -> HistoryRange {
        let toMs = try to.map { text throws(QueryError) in try TimeArgument.milliseconds(text, parameter: "to", now: now) } ?? now
        let fromMs = try from.map { text throws(QueryError) in try TimeArgument.milliseconds(text, parameter: "from", now: now) }
            ?? toMs - 3_600_000
        guard fromMs < toMs else {
            throw QueryError("from", "from (\(fromMs) ms) must be before to (\(toMs) ms): e.g. from=now-1h&to=now")
        }
        var stepMs: Int64?
        if let step {
            let ms: Int64
            do { ms = try DurationParser.milliseconds(step) } catch {
                throw QueryError("step", "step='\(step)' is not a duration: use e.g. step=10s, step=1m, step=1h or step=60")
            }
            guard ms >= 1 else { throw QueryError("step", "step must be above zero: use e.g. step=10s") }
            if ms > interval { stepMs = ms }
        }
        let agg = try aggregation.map { text throws(QueryError) -> Aggregation in
            guard let value = Aggregation(rawValue: text.lowercased()) else {
                throw QueryError("agg", "agg='\(text)' is not an aggregation: use avg, min, max or last, e.g. agg=max")
            }
            return value
        } ?? .avg
        let span = toMs - fromMs
        let width = stepMs ?? interval
        // Both ends count, and buckets align to multiples of the step: up to two points more.
        if span / max(1, width) + 2 > maxPoints {
            let fits = (span + maxPoints - 3) / (maxPoints - 2)
            let seconds = (fits + 999) / 1_000
            throw QueryError("step", "from..to spans \(span / 1_000) s, more than \(maxPoints) points at "
                + "\(stepMs == nil ? "raw resolution" : "step=\(width / 1_000)s"): use step=\(seconds)s or larger, "
                + "or a shorter range")
        }
        return HistoryRange(from: fromMs, to: toMs, step: stepMs, aggregation: agg)
    }
}

/// One point of a history series: a stored sample, or the aggregate of one bucket of them.
public struct HistoryPoint: Sendable, Equatable {
    /// The sample's time, or the bucket's start (a multiple of the step in unix ms).
    public var t: Int64
    /// Samples in the bucket (1 at raw resolution).
    public var samples: Int
    /// Online in any sample of the bucket.
    public var online: Bool
    /// A counter reset (publisher reconnect) in the bucket.
    public var reset: Bool
    /// The counters at the bucket's last sample.
    public var inboundBytes: Int64
    public var outboundBytes: Int64
    public var bitrateIn: Double?
    public var bitrateOut: Double?
    public var readers: Double
    public var rttMs: Double?
    public var recvRateMbps: Double?
    public var linkCapacityMbps: Double?

    public init(
        t: Int64, samples: Int = 1, online: Bool, reset: Bool = false, inboundBytes: Int64, outboundBytes: Int64,
        bitrateIn: Double? = nil, bitrateOut: Double? = nil, readers: Double = 0, rttMs: Double? = nil,
        recvRateMbps: Double? = nil, linkCapacityMbps: Double? = nil
    ) {
        self.t = t
        self.samples = samples
        self.online = online
        self.reset = reset
        self.inboundBytes = inboundBytes
        self.outboundBytes = outboundBytes
        self.bitrateIn = bitrateIn
        self.bitrateOut = bitrateOut
        self.readers = readers
        self.rttMs = rttMs
        self.recvRateMbps = recvRateMbps
        self.linkCapacityMbps = linkCapacityMbps
    }
}

extension HistoryPoint {
    /// The point as an answer asked for `fields` holds it: the other figures neutral (false, 0,
    /// nil), so answers narrowed the same way compare equal however they were read.
    public func narrowed(to fields: PointFields) -> HistoryPoint {
        var p = HistoryPoint(t: t, samples: samples, online: false, inboundBytes: 0, outboundBytes: 0)
        if fields.contains(.online) { p.online = online }
        if fields.contains(.reset) { p.reset = reset }
        if fields.contains(.inboundBytes) { p.inboundBytes = inboundBytes }
        if fields.contains(.outboundBytes) { p.outboundBytes = outboundBytes }
        if fields.contains(.bitrateIn) { p.bitrateIn = bitrateIn }
        if fields.contains(.bitrateOut) { p.bitrateOut = bitrateOut }
        if fields.contains(.readers) { p.readers = readers }
        if fields.contains(.rttMs) { p.rttMs = rttMs }
        if fields.contains(.recvRateMbps) { p.recvRateMbps = recvRateMbps }
        if fields.contains(.linkCapacityMbps) { p.linkCapacityMbps = linkCapacityMbps }
        return p
    }
}

/// `fields=bitrateIn,readers`: the point members an answer carries besides `t`. A chart of one
/// figure needs one; leaving the rest out makes a long answer several times smaller, and the
/// query reads only those columns, which is most of a long scan's cost.
public struct PointFields: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let samples = PointFields(rawValue: 1 << 0)
    public static let online = PointFields(rawValue: 1 << 1)
    public static let reset = PointFields(rawValue: 1 << 2)
    public static let bitrateIn = PointFields(rawValue: 1 << 3)
    public static let bitrateOut = PointFields(rawValue: 1 << 4)
    public static let readers = PointFields(rawValue: 1 << 5)
    public static let inboundBytes = PointFields(rawValue: 1 << 6)
    public static let outboundBytes = PointFields(rawValue: 1 << 7)
    public static let rttMs = PointFields(rawValue: 1 << 8)
    public static let recvRateMbps = PointFields(rawValue: 1 << 9)
    public static let linkCapacityMbps = PointFields(rawValue: 1 << 10)

    /// In answer order, which is also the CSV column order.
    public static let all: [(name: String, flag: PointFields)] = [
        ("samples", .samples), ("online", .online), ("reset", .reset), ("bitrateIn", .bitrateIn),
        ("bitrateOut", .bitrateOut), ("readers", .readers), ("inboundBytes", .inboundBytes),
        ("outboundBytes", .outboundBytes), ("rttMs", .rttMs), ("recvRateMbps", .recvRateMbps),
        ("linkCapacityMbps", .linkCapacityMbps),
    ]
    public static let everything = PointFields(rawValue: (1 << 11) - 1)

    /// `samples` only means something when points are buckets.
    public func stepped(_ stepped: Bool) -> PointFields { stepped ? self : subtracting(.samples) }
}
