import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore

/// A real WebSocket client for live tests: collects every text message it receives and sends
/// what the test asks, over HummingbirdWSClient.
public final class LiveSocketClient: Sendable {
    public enum Outgoing: Sendable {
        case text(String)
        case binary([UInt8])
    }

    /// Messages received, in order; `closed` once the server ended the connection.
    public actor Inbox {
        public private(set) var messages: [String] = []
        public private(set) var closed = false
        var cursor = 0
        func append(_ text: String) { messages.append(text) }
        func close() { closed = true }

        /// The next message not yet taken, if one arrived.
        func take() -> String? {
            guard cursor < messages.count else { return nil }
            defer { cursor += 1 }
            return messages[cursor]
        }
    }

    public let inbox = Inbox()
    private let outgoing: AsyncStream<Outgoing>.Continuation
    private let connection: Task<WebSocketCloseFrame?, any Error>

    public init(url: String, headers: HTTPFields = [:]) {
        let (stream, outgoing) = AsyncStream.makeStream(of: Outgoing.self)
        self.outgoing = outgoing
        let inbox = inbox
        var logger = Logger(label: "test.ws")
        logger.logLevel = .critical
        connection = Task {
            defer { Task { await inbox.close() } }
            return try await WebSocketClient.connect(
                url: url, configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers), logger: logger
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in inbound.messages(maxSize: 1 << 26) {
                            if case let .text(text) = message { await inbox.append(text) }
                        }
                        await inbox.close()
                    }
                    group.addTask {
                        for await item in stream {
                            switch item {
                            case let .text(text): try await outbound.write(.text(text))
                            case let .binary(bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                            }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    public func send(_ text: String) { outgoing.yield(.text(text)) }
    public func send(_ item: Outgoing) { outgoing.yield(item) }

    /// Ends the connection from the client side.
    public func close() {
        outgoing.finish()
        connection.cancel()
    }

    /// How the connection ended: the server's close frame, or the error that ended it.
    public func closeFrame(timeout: Duration = .seconds(30)) async throws -> WebSocketCloseFrame? {
        try await eventually("the connection ends", timeout: timeout) { await inbox.closed }
        return try await connection.value
    }

    /// The next message, parsed as a JSON object; fails after `timeout`.
    public func next(timeout: Duration = .seconds(30)) async throws -> [String: Any] {
        var text: String?
        try await eventually("a live message", timeout: timeout) {
            text = await inbox.take()
            if text == nil, await inbox.closed { throw TestSupportError("the connection closed while a message was awaited") }
            return text != nil
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(text!.utf8)) as? [String: Any] else {
            throw TestSupportError("not a JSON object: \(text!.prefix(200))")
        }
        return object
    }

    /// Skips messages until one of `type` arrives and returns it.
    public func next(type: String, timeout: Duration = .seconds(30)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let message = try await next(timeout: deadline - ContinuousClock.now)
            if message["type"] as? String == type { return message }
        }
    }
}
