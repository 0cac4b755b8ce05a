/// Exponential backoff for reconnects: doubles from `initial` up to `maximum`, back to `initial`
/// after a success.
public struct Backoff: Sendable, Equatable {
    public let initial: Duration
    public let maximum: Duration
    private var current: Duration

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
        self.current = initial
    }

    /// The delay to wait before the next attempt; each call doubles the following one.
    public mutating func next() -> Duration {
        let delay = current
        current = min(current * 2, maximum)
        return delay
    }

    public mutating func reset() {
        current = initial
    }
}
