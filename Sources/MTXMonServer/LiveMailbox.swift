import MTXMonCore
import NIOCore

/// Which paths a live client asked for.
enum PathFilter: Sendable, Equatable {
    case all
    /// These path names, on whichever server.
    case only(Set<String>)
    /// The paths of these servers: all of them, or the ones named.
    case onServers(Set<String>, paths: Set<String>?)

    func contains(_ name: String, server: String? = nil) -> Bool {
        switch self {
        case .all: true
        case let .only(names): names.contains(name)
        case let .onServers(servers, paths): servers.contains(server ?? ServerName.default) && paths?.contains(name) ?? true
        }
    }

    /// An event of a path goes where the path's items go; one of a whole server to those who
    /// watch that server; the recorder's own to everyone.
    func admits(_ event: MonitorEvent) -> Bool {
        if let path = event.path { return contains(path, server: event.server) }
        guard let server = event.server, case let .onServers(servers, _) = self else { return true }
        return servers.contains(server)
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
/// past it the list is worth less than the state it describes, so the events are dropped and
/// the next message is a `snapshot`, which tells the client everything the events would have.
/// Only a client that reads nothing for `slowLimitMs` is closed: a burst of events (MediaMTX
/// restarting with thousands of paths) must not cost a client that keeps up its connection.
///
/// Replies are bounded by count and by bytes, because a history reply can be megabytes: a
/// request that would pass the byte bound is answered with an error naming it, and one past
/// the count bound closes the client, which is sending requests without reading the answers.
struct LiveMailbox {
    struct Batch: Equatable {
        var replies: [ByteBuffer] = []
        var events: [MonitorEvent] = []
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
    /// Room for one history reply at its largest (11,000 points of every field, some 3 MB)
    /// with a few small replies beside it; a reply larger than this still goes out alone.
    static let maxReplyBytes = 4 * 1_024 * 1_024

    var filter: PathFilter = .all
    private(set) var pending = Batch()
    /// The bytes of `pending.replies`.
    private(set) var pendingReplyBytes = 0
    /// When the oldest unsent update was offered; `nil` while the client is keeping up.
    private(set) var waitingSinceMs: Int64?
    private var snapshotSent = false
    /// Events overflowed since the last send: the rest until then are dropped too.
    private(set) var eventsDropped = false
    private var lastSentOrder: Int64?
    let slowLimitMs: Int64

    init(slowLimitMs: Int64) {
        self.slowLimitMs = slowLimitMs
    }

    /// A new snapshot (and the events it brought) for this client.
    mutating func offer(_ update: EncodedSnapshot, events: [MonitorEvent], asSnapshot: Bool, nowMs: Int64) -> Outcome {
        if let since = waitingSinceMs, nowMs - since > slowLimitMs {
            return .close(.tooSlow("this client read no update for \((nowMs - since) / 1_000) s; reconnect "
                + "when it can keep up (a snapshot is sent on connect)"))
        }
        if let lastSentOrder, update.order <= lastSentOrder, !asSnapshot { return .queued }
        let kept = events.filter(filter.admits)
        if eventsDropped {
            // Events after a gap in them would be read as the whole story: the snapshot tells it.
        } else if pending.events.count + kept.count > Self.maxEvents {
            pending.events.removeAll()
            pending.asSnapshot = true
            eventsDropped = true
        } else {
            pending.events.append(contentsOf: kept)
        }
        pending.update = update
        pending.asSnapshot = pending.asSnapshot || asSnapshot
        if waitingSinceMs == nil { waitingSinceMs = nowMs }
        return .queued
    }

    /// A reply to the client's own request (`id` is the request's). One that would pass
    /// `maxReplyBytes` is replaced by an error naming the bound; more than `maxReplies` unread
    /// closes the client.
    mutating func reply(_ message: ByteBuffer, id: RequestID? = nil) -> Outcome {
        guard pending.replies.count < Self.maxReplies else {
            return .close(.tooSlow("this client sent more than \(Self.maxReplies) requests without reading "
                + "the replies"))
        }
        let queued = hasRoomForReply(message.readableBytes) ? message : LiveReply.error(Self.replyLimit(id: id))
        pending.replies.append(queued)
        pendingReplyBytes += queued.readableBytes
        return .queued
    }

    /// Whether a reply of `bytes` would be queued as it is; a reply never waits for nothing.
    func hasRoomForReply(_ bytes: Int = 1) -> Bool {
        pendingReplyBytes == 0 || pendingReplyBytes + bytes <= Self.maxReplyBytes
    }

    static func replyLimit(id: RequestID?) -> ClientMessageError {
        ClientMessageError(code: "reply_limit", message: "this connection has \(maxReplyBytes / 1_048_576) MiB of "
            + "replies unread, its limit: read them, then ask again", id: id)
    }

    /// Narrows (or widens) the paths sent from now on; the next message is a snapshot of them.
    mutating func subscribe(_ filter: PathFilter, current: EncodedSnapshot?) {
        self.filter = filter
        pending.events.removeAll { !filter.admits($0) }
        if let current, pending.update.map({ $0.order <= current.order }) ?? true { pending.update = current }
        pending.asSnapshot = true
    }

    /// Everything to send now, emptying the mailbox.
    mutating func take() -> Batch {
        var batch = pending
        pending = Batch()
        pendingReplyBytes = 0
        eventsDropped = false
        waitingSinceMs = nil
        if batch.update != nil, !snapshotSent {
            batch.asSnapshot = true
        }
        if let update = batch.update {
            if let lastSentOrder, update.order <= lastSentOrder, !batch.asSnapshot {
                batch.update = nil
            } else {
                lastSentOrder = max(lastSentOrder ?? update.order, update.order)
                snapshotSent = true
            }
        }
        return batch
    }
}
