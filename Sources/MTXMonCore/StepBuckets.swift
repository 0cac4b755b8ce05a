/// Buckets of `step` ms that start at its multiples, filled by values in time order: a bucket
/// closes when the first value of a later one arrives, so a long range folds in one pass, with
/// no sort, as its rows stream in. Path and connection history share it, so their buckets line up.
public struct StepBuckets<Bucket> {
    public let step: Int64
    @usableFromInline var open: (start: Int64, bucket: Bucket)?
    @usableFromInline var closed: [Bucket] = []

    public init(step: Int64) { self.step = step }

    /// Folds a value at `t` into its bucket with `update`; `make` opens the bucket (given its
    /// start) when the value is its first.
    @inlinable
    public mutating func add(at t: Int64, opening make: (_ start: Int64) -> Bucket, _ update: (inout Bucket) -> Void) {
        let start = t - t % step
        if let current = open, current.start != start {
            closed.append(current.bucket)
            open = nil
        }
        if open == nil { open = (start, make(start)) }
        update(&open!.bucket)
    }

    /// The buckets, oldest first; the folder is empty after.
    @inlinable
    public mutating func finish() -> [Bucket] {
        if let current = open { closed.append(current.bucket) }
        open = nil
        defer { closed = [] }
        return closed
    }
}
