import MTXMonCore
import NIOCore

/// Which paths a live client asked for.
enum PathFilter: Sendable, Equatable {
    case all
    case only(Set<String>)

    func contains(_ name: String) -> Bool {
        switch self {
        case .all: true
        case let .only(names): names.contains(name)
        }
    }
}

/// Why the server ends a live connection itself.
struct CloseReason: Sendable, Equatable, Error {
    /// A WebSocket close code (RFC 6455 §7.4).
    let code: UInt16
    let text: String

    static func tooSlow(_ text: String) -> CloseReason { CloseReason(code: 1008, text: text) }
}

/// What one live client has still to be sent: at most the newest update, the path events
/// since the last send, and replies to its own requests. Pure state, so the rules for slow
/// clients are tested without sockets.
///
/// Updates replace each other: a client that reads slowly skips snapshots rather than making
/// the server queue them. Events are kept (an `offline` must not be skipped) up to a bound;
/// a client that let them pile up to it, or read nothing for `slowLimitMs`, is closed.
struct LiveMailbox {
    struct Batch: Equatable {
        var replies: [ByteBuffer] = []
        var events: [PathEvent] = []
        var update: EncodedSnapshot?
        /// Send `update` as a `snapshot` message: the client's first, after `subscribe`, or after
        /// the feed was lost and updates may have been missed.
        var asSnapshot = false

        var isEmpty: Bool { replies.isEmpty && events.isEmpty && update == nil }
    }

    enum Outcome: Equatable {
        case queued
        case close(CloseReason)
    }

    static let maxEvents = 1_000
    static let maxReplies = 16

    var filter: PathFilter = .all
    private(set) var pending = Batch()
    /// When the oldest unsent update was offered; `nil` while the client is keeping up.
    private(set) var waitingSinceMs: Int64?
    private var snapshotSent = false
    private var lastSentTs: Int64?
    let slowLimitMs: Int64

    init(slowLimitMs: Int64) {
        self.slowLimitMs = slowLimitMs
    }

    /// A new snapshot (and the events it brought) for this client.
    mutating func offer(_ update: EncodedSnapshot, events: [PathEvent], asSnapshot: Bool, nowMs: Int64) -> Outcome {
        if let since = waitingSinceMs, nowMs - since > slowLimitMs {
            return .close(.tooSlow("this client read no update for \((nowMs - since) / 1_000) s; reconnect "
                + "when it can keep up (a snapshot is sent on connect)"))
        }
        if pending.events.count + events.count > Self.maxEvents {
            return .close(.tooSlow("this client left more than \(Self.maxEvents) path events unread; reconnect "
                + "when it can keep up"))
        }
        if let lastSentTs, update.order <= lastSentTs, !asSnapshot { return .queued }
        pending.events.append(contentsOf: events.filter { filter.contains($0.path) })
        pending.update = update
        pending.asSnapshot = pending.asSnapshot || asSnapshot
        if waitingSinceMs == nil { waitingSinceMs = nowMs }
        return .queued
    }

    /// A reply to the client's own request; refused when it sends requests faster than it reads.
    mutating func reply(_ message: ByteBuffer) -> Outcome {
        guard pending.replies.count < Self.maxReplies else {
            return .close(.tooSlow("this client sent more than \(Self.maxReplies) requests without reading "
                + "the replies"))
        }
        pending.replies.append(message)
        return .queued
    }

    /// Narrows (or widens) the paths sent from now on; the next message is a snapshot of them.
    mutating func subscribe(_ filter: PathFilter, current: EncodedSnapshot?) {
        self.filter = filter
        pending.events.removeAll { !filter.contains($0.path) }
        if let current, pending.update.map({ $0.order <= current.order }) ?? true { pending.update = current }
        pending.asSnapshot = true
    }

    /// Everything to send now, emptying the mailbox.
    mutating func take() -> Batch {
        var batch = pending
        pending = Batch()
        waitingSinceMs = nil
        if batch.update != nil, !snapshotSent {
            batch.asSnapshot = true
        }
        if let update = batch.update {
            if let lastSentTs, update.order <= lastSentTs, !batch.asSnapshot {
                batch.update = nil
            } else {
                lastSentTs = max(lastSentTs ?? update.order, update.order)
                snapshotSent = true
            }
        }
        return batch
    }
}
