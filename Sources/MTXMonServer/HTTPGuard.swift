import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The HTTP server's connections, each with a `RequestGuard` in front of Hummingbird: the same
/// HTTP/1.1 and WebSocket channel, plus answers and hang-ups for what it leaves open (a request
/// the parser refuses, an oversized one, a slow or silent client, a refused upgrade, a
/// connection caught half-sent by a shutdown).
struct GuardedHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value
    let inner: HTTP1WebSocketUpgradeChannel
    let limits: HTTPLimits
    let gate: LiveFeedGate

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            let guardHandler = RequestGuard(limits: limits, gate: gate)
            try pipeline.addHandler(guardHandler, position: .after(decoder))
            try pipeline.addHandler(RequestBytesSensor(guard: guardHandler), position: .first)
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }

    /// The server builder `Application` takes: the WebSocket router's upgrades, Hummingbird's
    /// own keep-alive idle timeout after each answer, and the decoder's size limits.
    static func builder<WSRouter: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: WSRouter, ws: WebSocketServerConfiguration, limits: HTTPLimits, gate: LiveFeedGate
    ) -> HTTPServerBuilder where WSRouter.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        let http1 = HTTP1Channel.Configuration(
            idleTimeout: .nanoseconds(limits.idleTimeout.nanoseconds),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: limits.maxHeadBytes, maxHeaderListSize: limits.maxHeadBytes,
                                            maxHeaderFieldCount: limits.maxHeaders))
        return HTTPServerBuilder { responder in
            GuardedHTTPChannel(
                inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder,
                                                    configuration: .init(http1: http1, ws: ws)),
                limits: limits, gate: gate)
        }
    }
}

/// First in the pipeline: tells the guard when a request's first bytes arrive, so that an idle
/// kept-alive connection waits `idleTimeout` and a request being sent has `readTimeout`.
final class RequestBytesSensor: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let requestGuard: RequestGuard

    init(guard requestGuard: RequestGuard) { self.requestGuard = requestGuard }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        requestGuard.bytesArrived(context.channel)
        context.fireChannelRead(data)
    }
}

/// Right after the HTTP decoder: answers what the rest of the pipeline would leave unanswered.
///
/// - A request the parser refuses gets 400, 431 (head too large, too many headers) or 505 (not
///   HTTP/1.x), and the connection is closed: after a parse error nothing more can be read.
/// - A body over `maxBodyBytes` gets 413 (at once when its `Content-Length` says so).
/// - A request not whole within `readTimeout` of its first byte gets 408; a kept-alive connection
///   quiet for `idleTimeout` is closed.
/// - A WebSocket upgrade the gate refuses gets 401 or 403 with the API's JSON error.
/// - On shutdown (`ChannelShouldQuiesceEvent`) a connection with no request being answered is
///   closed at once, one being answered right after its answer.
final class RequestGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let limits: HTTPLimits
    let gate: LiveFeedGate
    private var context: ChannelHandlerContext?
    /// A request's head was passed on and its answer has not ended.
    private var answering = 0
    /// Body bytes of the request being read.
    private var bodyBytes = 0
    /// Inbound parts are dropped from here on (an answer of ours is going out).
    private var refusing = false
    /// Bytes of a request have arrived (or the connection just opened) and its head has not.
    private var awaitingHead = true
    /// A request's head has arrived and its end has not.
    private var receiving = false
    private var timer: Scheduled<Void>?
    private var closeAfterAnswer = false

    init(limits: HTTPLimits, gate: LiveFeedGate) {
        self.limits = limits
        self.gate = gate
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The first request has `readTimeout` from the connection's opening.
        arm(limits.readTimeout, context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    /// From the sensor: a new request's bytes (after an idle keep-alive wait) start its read timeout.
    func bytesArrived(_ channel: any Channel) {
        guard let context, !awaitingHead, answering == 0, !refusing else { return }
        awaitingHead = true
        arm(limits.readTimeout, context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refusing else { return }
        let part = unwrapInboundIn(data)
        switch part {
        case let .head(head):
            awaitingHead = false
            receiving = true
            bodyBytes = 0
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > limits.maxBodyBytes {
                refuse(413, "body_too_large", "the request body is \(length) bytes; this server takes at most "
                    + "\(limits.maxBodyBytes) (MTXMON_HTTP_MAX_BODY)", context)
                return
            }
            if head.headers.first(name: "upgrade")?.lowercased() == "websocket" {
                let (path, query) = Self.split(head.uri)
                if let (status, code, message) = gate.refusal(
                    path: path, query: query, authorization: head.headers.first(name: "authorization"),
                    origin: head.headers.first(name: "origin"), host: head.headers.first(name: "host")) {
                    refuse(status, code, message, context)
                    return
                }
                // The upgrade takes the connection out of HTTP: the guard's work is done.
                timer?.cancel()
                timer = nil
                context.fireChannelRead(data)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                if let sensor = try? context.pipeline.syncOperations.handler(type: RequestBytesSensor.self) {
                    context.pipeline.syncOperations.removeHandler(sensor, promise: nil)
                }
                return
            }
            answering += 1
            context.fireChannelRead(data)
        case let .body(buffer):
            bodyBytes += buffer.readableBytes
            if bodyBytes > limits.maxBodyBytes {
                if answering > 0 {
                    // The route answers already (it read no body): close once it has.
                    refusing = true
                    closeAfterAnswer = true
                } else {
                    refuse(413, "body_too_large", "the request body is over \(limits.maxBodyBytes) bytes "
                        + "(MTXMON_HTTP_MAX_BODY)", context)
                }
                return
            }
            context.fireChannelRead(data)
        case .end:
            receiving = false
            timer?.cancel()
            timer = nil
            context.fireChannelRead(data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            answering = max(0, answering - 1)
            if answering == 0 {
                if closeAfterAnswer {
                    context.writeAndFlush(data, promise: promise)
                    context.close(promise: nil)
                    return
                }
                if !awaitingHead, !receiving { arm(limits.idleTimeout, context, idle: true) }
            }
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let (status, code, message) = Self.answer(to: parse, limits)
        refuse(status, code, message, context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            if answering == 0 {
                Self.hangUp(context)
            } else {
                closeAfterAnswer = true
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// What a parse error is answered with.
    static func answer(to error: HTTPParserError, _ limits: HTTPLimits) -> (Int, String, String) {
        switch error {
        case .headerOverflow:
            (431, "head_too_large", "the request line and headers are over \(limits.maxHeadBytes) bytes or "
                + "\(limits.maxHeaders) fields (MTXMON_HTTP_MAX_HEAD, MTXMON_HTTP_MAX_HEADERS)")
        case .invalidVersion:
            (505, "http_version", "this server speaks HTTP/1.0 and HTTP/1.1")
        case .unexpectedContentLength, .invalidContentLength:
            (400, "bad_request", "the request's Content-Length and Transfer-Encoding contradict each other or "
                + "are malformed")
        default:
            (400, "bad_request", "the request is not well-formed HTTP/1.1 (\(error))")
        }
    }

    /// Answers `status` with the API's JSON error, unless an answer is already under way, and
    /// closes the connection.
    private func refuse(_ status: Int, _ code: String, _ message: String, _ context: ChannelHandlerContext) {
        guard !refusing || closeAfterAnswer else { return }
        refusing = true
        timer?.cancel()
        timer = nil
        guard answering == 0 else {
            closeAfterAnswer = true
            return
        }
        var body = JSONWriter(capacity: 96 + message.utf8.count)
        body.beginObject()
        body.key("error")
        body.beginObject()
        body.key("code")
        body.string(code)
        body.key("message")
        body.string(message)
        body.endObject()
        body.endObject()
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json; charset=utf-8")
        headers.add(name: "content-length", value: String(body.buffer.readableBytes))
        headers.add(name: "connection", value: "close")
        if status == 401 { headers.add(name: "www-authenticate", value: "Bearer realm=\"mtxmon\"") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body.buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in Self.hangUp(context) }
    }

    /// Closes the connection, telling what waits for a request first that none will come, so that
    /// the upgrade negotiation ends as for a client that went away (nothing logged) rather than
    /// as an error.
    static func hangUp(_ context: ChannelHandlerContext) {
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        context.close(promise: nil)
    }

    /// Starts (again) the timer that ends a connection waiting for a request: 408 while one is
    /// being sent, a plain close when a kept-alive connection stayed `idle`.
    private func arm(_ after: Duration, _ context: ChannelHandlerContext, idle: Bool = false) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(after.nanoseconds)) { [weak self] in
            guard let self, let context = self.context else { return }
            self.timer = nil
            if idle {
                if self.answering == 0, !self.receiving, !self.awaitingHead { Self.hangUp(context) }
            } else if self.awaitingHead || self.receiving {
                // Answered already (a route that reads no body) or not: the request did not come whole.
                self.refuse(408, "request_timeout", "the request was not sent whole within "
                    + "\(after.components.seconds) s (MTXMON_HTTP_READ_TIMEOUT)", context)
            }
        }
    }

    static func split(_ uri: String) -> (String, String?) {
        guard let question = uri.firstIndex(of: "?") else { return (uri, nil) }
        return (String(uri[..<question]), String(uri[uri.index(after: question)...]))
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
