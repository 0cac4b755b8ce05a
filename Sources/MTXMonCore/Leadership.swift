/// Whether this process's collector polls, where collectors share one history in an
/// active–standby pair: exactly one of them leads at a time, and the other stands by.
///
/// `leads` is read at every tick and must answer at once, from what the process last learned;
/// `nil` while it knows nothing yet (the tick is not polled, and nothing is said).
public protocol Leadership: Sendable {
    func leads() -> Bool?
}
