import Foundation
@testable import MediaMTXClient
import MTXMonCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

/// A server that closes a keep-alive connection once it has answered on it, the way a real
/// MediaMTX was seen to: the client finds out only when it sends its next request on the
/// pooled connection. Each such request must be sent again on a new connection, not lost.
@Suite struct KeepAliveTests {
    @Test func aServerThatAnswersOncePerConnectionLosesNoListIn100Ticks() async throws {
        let server = try await OneAnswerServer.start()
        defer { server.stop() }
        let client = MediaMTXClient(endpoint: .init(baseURL: "http://127.0.0.1:\(server.port)", requestTimeout: .seconds(5)))
        for tick in 0..<100 {
            let reply = try await client.poll()
            #expect(reply.failedLists.isEmpty, "tick \(tick): \(reply.failedLists.map(\.description))")
            #expect(reply.paths.compactMap(\.name) == ["cam"])
            #expect(reply.lists.map(\.proto) == [.rtsp, .webrtc], "tick \(tick)")
            #expect(reply.lists.map(\.items.count) == [1, 1], "tick \(tick)")
        }
        // The requests really met closed connections: without a second try each was a lost list.
        #expect(server.refused > 100)
    }
}

/// Answers MediaMTX's path list and two connection lists, one request per connection: a second
/// request on a connection is met with a close, without an answer.
final class OneAnswerServer: Sendable {
    let channel: any Channel
    let port: Int
    private let counter: Counter

    var refused: Int { counter.refused.withLock { $0 } }

    private init(channel: any Channel, port: Int, counter: Counter) {
        self.channel = channel
        self.port = port
        self.counter = counter
    }

    static func start() async throws -> OneAnswerServer {
        let counter = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(counter: counter))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return OneAnswerServer(channel: channel, port: channel.localAddress?.port ?? 0, counter: counter)
    }

    func stop() { try? channel.close().wait() }

    final class Counter: Sendable {
        let refused = Mutex(0)
    }

    static func body(for uri: String) -> String? {
        let path = uri.split(separator: "?").first.map(String.init) ?? uri
        switch path {
        case "/v3/paths/list":
            return #"{"itemCount":1,"pageCount":1,"items":[{"name":"cam","online":true,"source":{"type":"rtspSession","id":"s1"},"readers":[{"type":"webRTCSession","id":"w1"}],"inboundBytes":1000,"outboundBytes":500}]}"#
        case "/v3/srtconns/list":
            return #"{"itemCount":0,"pageCount":0,"items":[]}"#
        case "/v3/rtspsessions/list":
            return #"{"itemCount":1,"pageCount":1,"items":[{"id":"s1","state":"publish","path":"cam","inboundBytes":1000,"inboundRTPPackets":10,"inboundRTPPacketsLost":0}]}"#
        case "/v3/webrtcsessions/list":
            return #"{"itemCount":1,"pageCount":1,"items":[{"id":"w1","state":"read","path":"cam","outboundBytes":500}]}"#
        default:
            return nil
        }
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let counter: Counter
        var answered = false
        var uri = ""

        init(counter: Counter) { self.counter = counter }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case let .head(head):
                uri = head.uri
            case .body:
                break
            case .end:
                guard !answered else {
                    counter.refused.withLock { $0 += 1 }
                    context.close(promise: nil)
                    return
                }
                answered = true
                let text = OneAnswerServer.body(for: uri)
                let body = context.channel.allocator.buffer(string: text ?? "404 page not found\n")
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: text == nil ? "text/plain" : "application/json")
                headers.add(name: "Content-Length", value: String(body.readableBytes))
                let head = HTTPResponseHead(version: .http1_1, status: text == nil ? .notFound : .ok, headers: headers)
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
