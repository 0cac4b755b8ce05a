/// Decides when a run of failed polls deserves a log line: once when it starts, once when it ends.
///
/// Logging every failed poll at a 2 s interval would bury the one line an operator needs.
public struct OutageTracker: Sendable {
    public enum Transition: Equatable, Sendable {
        /// The first failure after a success (or at start): log the reason.
        case started(reason: String)
        /// The first success after failures: log how long it lasted.
        case ended(failedPolls: Int, sinceMs: Int64)
    }

    /// When the current run of failures began; `nil` while things work.
    public private(set) var failingSince: Int64?
    /// Failures in the current run.
    public private(set) var failedPolls = 0

    public init() {}

    /// True while the latest poll failed.
    public var inOutage: Bool { failingSince != nil }

    public mutating func recordFailure(at ts: Int64, reason: String) -> Transition? {
        failedPolls += 1
        guard failingSince == nil else { return nil }
        failingSince = ts
        return .started(reason: reason)
    }

    public mutating func recordSuccess(at ts: Int64) -> Transition? {
        guard let since = failingSince else { return nil }
        let transition = Transition.ended(failedPolls: failedPolls, sinceMs: ts - since)
        failingSince = nil
        failedPolls = 0
        return transition
    }
}
