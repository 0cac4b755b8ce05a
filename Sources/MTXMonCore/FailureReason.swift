/// Why a poll of MediaMTX failed, in one word: the `reason` label of `mtxmon_poll_failures_total`,
/// the poll row's `reason`, and what `/healthz` words its problem from.
public enum FailureReason: String, Sendable, CaseIterable, Codable {
    case refused, dns, tls, network, timeout, auth, status, body
}
