import Synchronization

/// The shape a receiver takes its notifications in, named before its URL
/// (`slack+https://hooks.slack.com/…`; no prefix is `json`).
public enum WebhookFormat: String, Sendable, CaseIterable {
    /// mtxmon's own body (`GET /api/v1/events`'s members), signed when a secret is set.
    case json
    /// The incoming-webhook shape Slack, Mattermost and Rocket.Chat accept (`text`, `attachments`).
    case slack
    /// ntfy's publish API: the message as the body of a POST to the topic's URL, with title,
    /// priority and tags as headers.
    case ntfy
    /// Mail through SMTP (`MTXMON_SMTP_URL`): its entry is the `smtp://` or `smtps://` URL.
    case email
}

/// A webhook receiver as mtxmon names it outside the process: its format and URL without
/// credentials (the key its deliveries are queued under in the history file, and what `/healthz`
/// and logs show). The URL itself, with the credentials it may hold, stays in the settings and
/// the sender.
public enum WebhookTarget {
    /// The name deliveries to `entry` are queued under.
    public static func key(_ entry: String) -> String {
        let (format, url) = split(entry)
        return (format == .json || format == .email ? "" : format.rawValue + "+") + Redaction.url(url)
    }

    /// The format an entry names and its URL; an unknown prefix is left in the URL (the settings
    /// refuse it).
    public static func split(_ entry: String) -> (format: WebhookFormat, url: String) {
        if entry.hasPrefix("smtp://") || entry.hasPrefix("smtps://") { return (.email, entry) }
        guard let plus = entry.firstIndex(of: "+"), let format = WebhookFormat(rawValue: String(entry[..<plus])),
              entry[entry.index(after: plus)...].hasPrefix("http") else { return (.json, entry) }
        return (format, String(entry[entry.index(after: plus)...]))
    }
}

/// What each receiver's sender did last, shared with `/healthz`: a receiver that fails shows
/// from its first failed attempt, not once its backlog has aged.
public final class WebhookStatus: Sendable {
    public struct Receiver: Sendable, Equatable {
        public var key: String
        public var format: WebhookFormat
        /// `delivered`, `failed`, `refused`, or `nil` before the first attempt.
        public var lastResult: String?
        public var lastAttemptTs: Int64?
        public var lastError: String?
        /// Since when every attempt failed; `nil` while it takes them.
        public var failingSince: Int64?
        public var delivered = 0
        public var failed = 0
        public var refused = 0
    }

    private let state: Mutex<[String: Receiver]>
    /// The receivers in the order they were configured.
    public let keys: [String]

    public init(entries: [String]) {
        keys = entries.map(WebhookTarget.key)
        state = Mutex(Dictionary(entries.map {
            (WebhookTarget.key($0), Receiver(key: WebhookTarget.key($0), format: WebhookTarget.split($0).format))
        }, uniquingKeysWith: { first, _ in first }))
    }

    public var receivers: [Receiver] { state.withLock { all in keys.compactMap { all[$0] } } }

    public func record(_ key: String, result: String, at ts: Int64, error: String? = nil) {
        state.withLock { all in
            guard var receiver = all[key] else { return }
            receiver.lastResult = result
            receiver.lastAttemptTs = ts
            switch result {
            case "delivered":
                receiver.delivered += 1
                receiver.failingSince = nil
                receiver.lastError = nil
            case "refused":
                receiver.refused += 1
                receiver.lastError = error
            default:
                receiver.failed += 1
                receiver.failingSince = receiver.failingSince ?? ts
                receiver.lastError = error
            }
            all[key] = receiver
        }
    }
}
