/// Sum, count, extremes and latest of one figure over a bucket; samples without it are skipped.
///
/// Shared by path and connection history, so that `agg=` means the same for both.
public struct Fold: Sendable, Equatable {
    public var sum = 0.0
    public var count = 0
    public var low = Double.infinity
    public var high = -Double.infinity
    public var last: Double?

    public init() {}

    public init(sum: Double, count: Int, low: Double, high: Double, last: Double?) {
        self.sum = sum
        self.count = count
        self.low = low
        self.high = high
        self.last = last
    }

    public mutating func add(_ value: Double?) {
        guard let value else { return }
        sum += value
        count += 1
        low = Swift.min(low, value)
        high = Swift.max(high, value)
        last = value
    }

    /// Adds a fold of later values (a rollup row) to this one.
    public mutating func merge(_ other: Fold) {
        guard other.count > 0 else { return }
        sum += other.sum
        count += other.count
        low = Swift.min(low, other.low)
        high = Swift.max(high, other.high)
        last = other.last ?? last
    }

    /// The bucket's value by `aggregation`; `nil` when no sample had the figure, or when a rollup
    /// row did not keep the extreme asked for.
    public func value(_ aggregation: Aggregation) -> Double? {
        guard count > 0 else { return nil }
        switch aggregation {
        case .avg: return sum / Double(count)
        case .min: return low.isFinite ? low : nil
        case .max: return high.isFinite ? high : nil
        case .last: return last
        }
    }
}
