import History
import Hummingbird
import HummingbirdWebSocket
import Logging
import MTXMonCore
import NIOCore
import NIOWebSocket

/// `GET /api/v1/ws`: the live feed. A `snapshot` on connect, then an `update` per poll and
/// `event`s as paths change; `subscribe`, `history` and `ping` requests from the client.
struct LiveRoutes: Sendable {
    let environment: APIEnvironment
    let hub: LiveHub
    /// Messages larger than this are split into frames of this size; clients' own messages
    /// may not be larger (they are a few hundred bytes).
    static let frameSize = 64 * 1_024

    func add(to router: Router<APIRequestContext>) {
        router.ws("/api/v1/ws", shouldUpgrade: { request, _ in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                throw APIError(.upgradeRequired, "websocket_required", "/api/v1/ws is a WebSocket: connect with a "
                    + "WebSocket client, e.g. new WebSocket('ws://host:9990/api/v1/ws') or python3 -m websockets "
                    + "ws://host:9990/api/v1/ws", headers: [.upgrade: "websocket"])
            }
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, context in
            try await LiveSession(environment: environment, hub: hub, outbound: outbound,
                                  channel: context.requestContext.channel, logger: context.logger).run(inbound)
        })
    }
}

/// One live connection: a reader of the client's requests, a writer draining its mailbox,
/// and a watcher that ends the connection when the hub gives up on the client.
struct LiveSession: Sendable {
    let environment: APIEnvironment
    let hub: LiveHub
    let outbound: WebSocketOutboundWriter
    let channel: any Channel
    let logger: Logger

    func run(_ inbound: WebSocketInboundStream) async throws {
        let paths = PathRoutes(environment: environment)
        let client = await hub.connect { (try? await paths.latest()) ?? (nil, .none) }
        let reason: CloseReason?
        do {
            reason = try await withThrowingTaskGroup(of: CloseReason?.self) { group in
                group.addTask { try await read(inbound, client) }
                group.addTask { try await write(client); return nil }
                group.addTask {
                    for await reason in client.closes { return reason }
                    return nil
                }
                let first = try await group.next() ?? nil
                client.finish()
                group.cancelAll()
                // The reader may end first when its own reply closed the client.
                return first ?? client.closeReason
            }
        } catch {
            await hub.disconnect(client)
            throw error
        }
        await hub.disconnect(client)
        guard let reason else { return }
        // A client too slow to read may not read the close frame either: give it a moment, then hang up.
        try? await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await outbound.close(WebSocketErrorCode(codeNumber: Int(reason.code)), reason: reason.text) }
            group.addTask { try await Task.sleep(for: .seconds(2)) }
            try await group.next()
            group.cancelAll()
        }
        if reason.code == CloseReason.tooSlow("").code { try? await channel.close() }
    }

    /// Handles the client's messages until it closes; a reason when the server must end it.
    private func read(_ inbound: WebSocketInboundStream, _ client: LiveClient) async throws -> CloseReason? {
        for try await message in inbound.messages(maxSize: LiveRoutes.frameSize) {
            guard case let .text(text) = message else {
                return CloseReason(code: 1003, text: "binary messages are not understood: send JSON text, "
                    + "e.g. {\"type\":\"subscribe\",\"paths\":\"*\"}")
            }
            let request: ClientMessage
            do {
                request = try ClientMessage.parse(text)
            } catch {
                guard client.reply(LiveReply.error(error), id: error.id) else { return nil }
                continue
            }
            switch request {
            case let .subscribe(filter, id):
                guard client.subscribe(filter, current: await hub.latest, reply: LiveReply.subscribed(filter, id: id),
                                       id: id) else { return nil }
            case let .ping(id):
                guard client.reply(LiveReply.pong(id: id, ts: environment.now()), id: id) else { return nil }
            case let .history(wanted):
                // While the writer is stuck, replies pile up here: refuse before reading the file.
                let answer = client.hasRoomForReply
                    ? await history(wanted) : LiveReply.error(LiveMailbox.replyLimit(id: wanted.id))
                guard client.reply(answer, id: wanted.id) else { return nil }
            }
        }
        return nil
    }

    /// The same points `GET /api/v1/history/{path}` gives, as a `history` message.
    private func history(_ wanted: ClientMessage.HistoryRequest) async -> ByteBuffer {
        do {
            let range = try HistoryRange.parse(from: wanted.from, to: wanted.to, step: wanted.step,
                                               aggregation: wanted.agg, now: environment.now(),
                                               interval: environment.intervalMs)
            let fields = try PointFields.parse(wanted.fields)
            let name = wanted.path
            let server = wanted.server
            if let server, let problem = ServerName.problem(server) {
                throw APIError(.badRequest, "bad_server", "server: \(problem): use a name GET /api/v1/servers lists")
            }
            let path = try await HistoryRoutes.resolve(environment.history, name, server: server)
            let on = path.server
            let points = try await environment.history.points(path, range: range, fields: fields)
            var w = JSONWriter(capacity: 256 + points.count * (16 + 20 * fields.rawValue.nonzeroBitCount))
            w.beginObject()
            w.key("type"); w.string("history")
            if let id = wanted.id { w.key("id"); id.write(to: &w) }
            w.key("server"); w.string(on)
            w.key("path"); w.string(name)
            w.key("from"); w.int(range.from)
            w.key("to"); w.int(range.to)
            w.key("step"); w.int(range.step)
            w.key("agg"); w.string(range.step == nil ? nil : range.aggregation.rawValue)
            w.key("points")
            HistoryRoutes.write(points, fields: fields.stepped(range.step != nil), to: &w)
            w.endObject()
            return w.buffer
        } catch let error as QueryError {
            return LiveReply.error(ClientMessageError(code: "bad_\(error.parameter)", message: error.message, id: wanted.id))
        } catch let error as APIError {
            return LiveReply.error(ClientMessageError(code: error.code, message: error.message, id: wanted.id))
        } catch let error as AmbiguousPath {
            return LiveReply.error(ClientMessageError(code: "ambiguous_path", message: "path '\(error.name)' exists on "
                + "servers \(error.servers.joined(separator: ", ")): add \"server\" to the history request, e.g. "
                + "\"server\":\"\(error.servers.first ?? ServerName.default)\"", id: wanted.id))
        } catch {
            logger.error("live history request failed", metadata: ["error": "\(error)"])
            return LiveReply.error(ClientMessageError(code: "history_unavailable", message: "the history file could "
                + "not be read (\(error)): see GET /healthz", id: wanted.id))
        }
    }

    /// Sends what the mailbox holds on every ring: replies, then events, then the update.
    private func write(_ client: LiveClient) async throws {
        for await _ in client.rings {
            let (batch, filter) = client.take()
            for reply in batch.replies { try await send(reply) }
            for event in batch.events where filter.admits(event) { try await send(LiveReply.event(event)) }
            if let update = batch.update {
                if batch.asSnapshot {
                    let cadence = update.snapshot?.cadence(fallback: environment.intervalMs)
                        ?? Cadence(intervalMs: environment.intervalMs)
                    let stale = update.ts.map { !cadence.isCurrent($0, at: environment.now()) } ?? true
                    // Too old to vouch for anything: its paths go out `unknown`, as GET /api/v1/paths has them.
                    let shown = stale ? update.snapshot.map {
                        EncodedSnapshot($0.unknown(), source: update.source, sequence: update.sequence)
                    } ?? update : update
                    try await send(shown.message(type: "snapshot", filter: filter, stale: stale,
                                                 intervalMs: environment.intervalMs))
                } else {
                    try await send(update.message(type: "update", filter: filter, stale: nil))
                }
            }
        }
    }

    /// One text message, in frames of at most `frameSize` so that clients with frame limits
    /// take large snapshots; the bytes are shared with every other client, not copied.
    private func send(_ message: ByteBuffer) async throws {
        guard message.readableBytes > LiveRoutes.frameSize else {
            try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: message)))
            return
        }
        try await outbound.withTextMessageWriter { writer in
            var rest = message
            while rest.readableBytes > 0, let slice = rest.readSlice(length: min(LiveRoutes.frameSize, rest.readableBytes)) {
                try await writer(slice)
            }
        }
    }
}
