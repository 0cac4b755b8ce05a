import Foundation
import MTXMonCore
import NIOCore

/// One connected live client as the hub sees it: its mailbox behind a lock, the doorbell its
/// writer waits on, and the signal that closes it when it cannot keep up.
///
/// Offering to a client never waits for it: the hub takes the lock, swaps the pending update
/// and rings, so a thousand clients cost the hub a thousand short critical sections per poll.
final class LiveClient: @unchecked Sendable {
    let id: UInt64
    /// Rung whenever there is something to send; the writer drains the mailbox on each ring.
    let rings: AsyncStream<Void>
    /// Yields once when the server decides to end this connection.
    let closes: AsyncStream<CloseReason>
    private let doorbell: AsyncStream<Void>.Continuation
    private let closeSignal: AsyncStream<CloseReason>.Continuation
    // Guarded by `lock`.
    private var mailbox: LiveMailbox
    private var closed = false
    private var reason: CloseReason?
    private let lock = NSLock()

    init(id: UInt64, slowLimitMs: Int64) {
        self.id = id
        mailbox = LiveMailbox(slowLimitMs: slowLimitMs)
        (rings, doorbell) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (closes, closeSignal) = AsyncStream.makeStream(of: CloseReason.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Returns false when the client was closed for being too slow.
    @discardableResult
    func offer(_ update: EncodedSnapshot, events: [MonitorEvent], asSnapshot: Bool, nowMs: Int64) -> Bool {
        let outcome = lock.withLock { closed ? .queued : mailbox.offer(update, events: events, asSnapshot: asSnapshot, nowMs: nowMs) }
        return settle(outcome)
    }

    /// Returns false when the client was closed for leaving too many replies unread.
    @discardableResult
    func reply(_ message: ByteBuffer, id: RequestID? = nil) -> Bool {
        settle(lock.withLock { closed ? .queued : mailbox.reply(message, id: id) })
    }

    /// Checked before a request whose answer is costly to build: with no room it would be
    /// built only to be replaced by an error.
    var hasRoomForReply: Bool { lock.withLock { mailbox.hasRoomForReply() } }

    /// The `subscribed` reply is bounded like any other: returns false when it closed the client.
    @discardableResult
    func subscribe(_ filter: PathFilter, current: EncodedSnapshot?, reply: ByteBuffer, id: RequestID?) -> Bool {
        settle(lock.withLock {
            guard !closed else { return .queued }
            let outcome = mailbox.reply(reply, id: id)
            if outcome == .queued { mailbox.subscribe(filter, current: current) }
            return outcome
        })
    }

    func take() -> (LiveMailbox.Batch, PathFilter) {
        lock.withLock { (mailbox.take(), mailbox.filter) }
    }

    /// Ends the writer and the close watcher; `reason` when the server ends the connection.
    func finish(_ reason: CloseReason? = nil) {
        let first = lock.withLock {
            defer { closed = true }
            if !closed { self.reason = reason }
            return !closed
        }
        guard first else { return }
        if let reason { closeSignal.yield(reason) }
        closeSignal.finish()
        doorbell.finish()
    }

    /// Why the server ended the connection, once it has.
    var closeReason: CloseReason? { lock.withLock { reason } }

    private func settle(_ outcome: LiveMailbox.Outcome) -> Bool {
        switch outcome {
        case .queued:
            doorbell.yield()
            return true
        case let .close(reason):
            finish(reason)
            return false
        }
    }
}
