import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWSClient
import Logging
import MTXMonCore
import MTXMonServer
import NIOCore
import ServiceLifecycle
import SnapshotCache
import Testing
import TestSupport

/// Runs the API with its live hub on a loopback port (a real socket) and hands `body` the
/// port and the broadcaster that plays the collector.
func withLiveServer(
    _ fixture: HistoryFixture, token: String? = nil, slowLimitMs: Int64? = nil,
    _ body: @Sendable (_ port: Int, _ feed: SnapshotBroadcaster, _ hub: LiveHub) async throws -> Void
) async throws {
    var logger = Logger(label: "test.live")
    logger.logLevel = .critical
    let feed = SnapshotBroadcaster()
    let hub = LiveHub(feed: feed, intervalMs: HistoryFixture.interval, slowLimitMs: slowLimitMs, logger: logger)
    var environment = fixture.environment(token: token)
    environment.live = hub
    let (ports, portFound) = AsyncStream.makeStream(of: Int.self)
    let app = APIServer.application(environment, host: "127.0.0.1", port: 0, logger: logger) { channel in
        portFound.yield(channel.localAddress?.port ?? 0)
    }
    let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        // The hub listens once its service runs; a snapshot broadcast before that reaches nobody.
        try await eventually("the live feed listens") { await hub.isListening }
        do {
            try await body(port, feed, hub)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

func snapshot(_ ts: Int64, _ paths: [PathSample]) -> Snapshot {
    Snapshot(ts: ts, paths: paths, serverVersion: "v1.20.1")
}

func names(_ message: [String: Any]) -> [String] {
    (message["paths"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
}

@Suite(.serialized) struct LiveSocketTests {
    let base = HistoryFixture.now

    @Test func aSnapshotOnConnectThenEveryUpdateInOrderWithEvents() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withLiveServer(fixture) { port, feed, _ in
            feed.broadcast(snapshot(base, [HistoryFixture.cam(1), HistoryFixture.srt(1)]))
            let client = LiveSocketClient(url: "ws://127.0.0.1:\(port)/api/v1/ws")
            defer { client.close() }
            let first = try await client.next()
            #expect(first["type"] as? String == "snapshot")
            #expect(first["ts"] as? Int64 == base)
            #expect(first["stale"] as? Bool == false)
            #expect(names(first) == ["live/cam1", "srt/feed"])
            let srt = try #require((first["paths"] as? [[String: Any]])?[1]["srt"] as? [String: Any])
            #expect(srt["rttMs"] as? Double == 21)

            var cam = HistoryFixture.cam(2)
            for i in 1...5 {
                if i == 3 { cam.online = false }
                if i == 4 { cam.online = true }
                if i == 5 { cam.reset = true }
                // srt/feed disappears at the third poll.
                feed.broadcast(snapshot(base + Int64(i) * 2_000, i >= 3 ? [cam] : [cam, HistoryFixture.srt(2)]))
                if i == 3 {
                    let events = [try await client.next(), try await client.next()]
                    #expect(events.map { $0["event"] as? String } == ["offline", "offline"])
                    #expect(events.map { $0["path"] as? String } == ["live/cam1", "srt/feed"])
                } else if i == 4 {
                    let event = try await client.next()
                    #expect(event["type"] as? String == "event")
                    #expect(event["event"] as? String == "online")
                } else if i == 5 {
                    let event = try await client.next()
                    #expect(event["event"] as? String == "reset")
                    #expect(event["ts"] as? Int64 == base + 10_000)
                }
                let update = try await client.next()
                #expect(update["type"] as? String == "update")
                #expect(update["ts"] as? Int64 == base + Int64(i) * 2_000)
                #expect(names(update) == (i >= 3 ? ["live/cam1"] : ["live/cam1", "srt/feed"]))
            }
        }
    }

    @Test func subscribeNarrowsTheUpdatesAndPingIsAnswered() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withLiveServer(fixture) { port, feed, _ in
            let both = [HistoryFixture.cam(1), HistoryFixture.srt(1)]
            feed.broadcast(snapshot(base, both))
            let client = LiveSocketClient(url: "ws://127.0.0.1:\(port)/api/v1/ws")
            defer { client.close() }
            _ = try await client.next()
            client.send(#"{"type":"subscribe","paths":["srt/feed"],"id":1}"#)
            let ack = try await client.next()
            #expect(ack["type"] as? String == "subscribed")
            #expect(ack["paths"] as? [String] == ["srt/feed"])
            #expect(ack["id"] as? Int == 1)
            let narrowed = try await client.next()
            #expect(narrowed["type"] as? String == "snapshot")
            #expect(names(narrowed) == ["srt/feed"])
            feed.broadcast(snapshot(base + 2_000, both))
            #expect(names(try await client.next(type: "update")) == ["srt/feed"])
            client.send(#"{"type":"subscribe","paths":"*"}"#)
            _ = try await client.next(type: "subscribed")
            #expect(names(try await client.next(type: "snapshot")) == ["live/cam1", "srt/feed"])
            client.send(#"{"type":"ping","id":"p"}"#)
            let pong = try await client.next(type: "pong")
            #expect(pong["id"] as? String == "p")
        }
    }

    @Test func historyBackfillMatchesTheRESTAnswer() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withLiveServer(fixture) { port, _, _ in
            let client = LiveSocketClient(url: "ws://127.0.0.1:\(port)/api/v1/ws")
            defer { client.close() }
            // No collector has published: the snapshot comes from the history file's last poll.
            let first = try await client.next()
            #expect(first["source"] as? String == "history")
            #expect(names(first) == ["live/cam1", "srt/feed"], "srt/feed is remembered, offline")
            let from = (HistoryFixture.base + 20 * HistoryFixture.interval) / 1_000
            client.send(#"{"type":"history","id":"h","path":"live/cam1","from":\#(from),"to":"now","step":"10s","fields":"bitrateIn"}"#)
            let history = try await client.next(type: "history")
            #expect(history["id"] as? String == "h")
            #expect(history["step"] as? Int == 10_000)
            let points = try #require(history["points"] as? [[String: Any]])
            // Polls 20–59 at 2 s in buckets of 10 s, less the bucket of failed polls 40–44.
            #expect(points.count == 7)
            #expect(points.first?["t"] as? Int64 == HistoryFixture.base + 40_000)
            #expect(points.allSatisfy { Set($0.keys) == ["t", "samples", "bitrateIn"] })
            // The same points the REST route gives.
            let times = points.map { $0["t"] as? Int64 }
            let values = points.map { $0["bitrateIn"] as? Double }
            try await withAPI(fixture.environment()) { rest in
                try await rest.execute(uri: "/api/v1/history/live/cam1?from=\(from)&to=now&step=10s&fields=bitrateIn",
                                       method: .get) { response in
                    let body = try object(response)
                    let restPoints = try #require(body["points"] as? [[String: Any]])
                    #expect(restPoints.map { $0["t"] as? Int64 } == times)
                    #expect(restPoints.map { $0["bitrateIn"] as? Double } == values)
                }
            }
            client.send(#"{"type":"history","path":"nope"}"#)
            let unknown = try await client.next(type: "error")
            #expect(unknown["code"] as? String == "unknown_path")
            client.send(#"{"type":"history","path":"live/cam1","from":"yesterday"}"#)
            #expect(try await client.next(type: "error")["code"] as? String == "bad_from")
        }
    }

    @Test func badTextGetsAnErrorAndTheConnectionStays() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withLiveServer(fixture) { port, _, _ in
            let client = LiveSocketClient(url: "ws://127.0.0.1:\(port)/api/v1/ws")
            defer { client.close() }
            _ = try await client.next()
            for (text, code) in [("{", "bad_json"), (#"{"type":"launch"}"#, "unknown_type"), ("[42]", "bad_message")] {
                client.send(text)
                let error = try await client.next()
                #expect(error["type"] as? String == "error")
                #expect(error["code"] as? String == code)
            }
            client.send(#"{"type":"ping"}"#)
            #expect(try await client.next()["type"] as? String == "pong")
        }
    }

    @Test func binaryAndOversizedMessagesCloseWithTheirCodesAndOthersCarryOn() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withLiveServer(fixture) { port, feed, _ in
            let url = "ws://127.0.0.1:\(port)/api/v1/ws"
            let bystander = LiveSocketClient(url: url)
            defer { bystander.close() }
            _ = try await bystander.next()

            let binary = LiveSocketClient(url: url)
            _ = try await binary.next()
            binary.send(.binary([1, 2, 3]))
            let binaryClose = try await binary.closeFrame()
            #expect(binaryClose?.closeCode == .unacceptableData)
            #expect(binaryClose?.reason?.contains("JSON text") == true)

            let big = LiveSocketClient(url: url)
            _ = try await big.next()
            big.send(String(repeating: " ", count: 200_000))
            let bigClose = try await big.closeFrame()
            #expect(bigClose?.closeCode == .messageTooLarge)

            feed.broadcast(snapshot(base + 2_000, [HistoryFixture.cam(1)]))
            #expect(try await bystander.next(type: "update")["ts"] as? Int64 == base + 2_000)
        }
    }

    @Test func theTokenIsNeededAsHeaderOrQuery() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withLiveServer(fixture, token: "s3cret") { port, _, _ in
            let url = "ws://127.0.0.1:\(port)/api/v1/ws"
            // The same handshake is switched with the token and refused without it or with a wrong one,
            // so the refusal is the token's. (HummingbirdWebSocket answers every refused upgrade with
            // a bare 400; the 401 and its reason are what the same request gets without `Upgrade`.)
            let accepted = try RawWebSocket(port: port, target: "/api/v1/ws?token=s3cret")
            defer { accepted.close() }
            #expect(try await accepted.responseHead().hasPrefix("HTTP/1.1 101 "))
            for (target, header) in [("/api/v1/ws", nil), ("/api/v1/ws?token=nope", nil),
                                     ("/api/v1/ws", "Authorization: Bearer nope")] {
                let refused = try RawWebSocket(port: port, target: target, header: header)
                defer { refused.close() }
                let head = try await refused.responseHead()
                #expect(head.hasPrefix("HTTP/1.1 4"), "\(target) \(header ?? ""): \(head.prefix(80))")
                #expect(!head.lowercased().contains("upgrade: websocket"))
                let plain = try RawWebSocket(port: port, target: target, header: header, upgrade: false)
                defer { plain.close() }
                let plainHead = try await plain.responseHead()
                #expect(plainHead.hasPrefix("HTTP/1.1 401 "), "\(target) \(header ?? ""): \(plainHead.prefix(80))")
                #expect(plainHead.lowercased().contains("www-authenticate: bearer"))
            }

            let query = LiveSocketClient(url: url + "?token=s3cret")
            defer { query.close() }
            let viaQuery = try await query.next()
            #expect(viaQuery["type"] as? String == "snapshot")
            let header = LiveSocketClient(url: url, headers: [.authorization: "Bearer s3cret"])
            defer { header.close() }
            let viaHeader = try await header.next()
            #expect(viaHeader["type"] as? String == "snapshot")
        }
    }

    /// A client that never reads fills its socket, is closed after the limit, and never holds
    /// up a client that reads.
    @Test func aClientThatStopsReadingIsClosedAndOthersGetEveryUpdate() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withLiveServer(fixture, slowLimitMs: 300) { port, feed, hub in
            // ~500 paths: each update is some 250 kB, so the socket buffers fill within a few.
            let many = (0..<500).map { i in
                var path = HistoryFixture.cam(1)
                path.name = String(format: "live/cam%04d", i)
                return path
            }
            feed.broadcast(snapshot(base, many))
            let stuck = try RawWebSocket(port: port)
            defer { stuck.close() }
            let reader = LiveSocketClient(url: "ws://127.0.0.1:\(port)/api/v1/ws")
            defer { reader.close() }
            _ = try await reader.next()
            try await eventually("both clients are connected") { await hub.clientCount == 2 }
            var ts = base
            var received: [Int64] = []
            while await hub.clientCount == 2 {
                ts += 2_000
                feed.broadcast(snapshot(ts, many))
                received.append(try #require(try await reader.next(type: "update")["ts"] as? Int64))
                try #require(received.count < 2_000, "the stuck client was never closed")
            }
            #expect(received == (1...received.count).map { base + Int64($0) * 2_000 })
            // It left by the slow path, not by a failed write or its own hang-up, and the server hung up on it.
            #expect(await hub.slowClosedCount == 1)
            try await stuck.readUntilClosed()
        }
    }

    /// MediaMTX restarting with more paths than the event bound: every path comes online in one poll.
    @Test func aPollWithMoreEventsThanTheBoundSendsASnapshotAndClosesNobody() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withLiveServer(fixture) { port, feed, hub in
            let url = "ws://127.0.0.1:\(port)/api/v1/ws"
            feed.broadcast(snapshot(base, []))
            let everything = LiveSocketClient(url: url)
            defer { everything.close() }
            #expect(names(try await everything.next(type: "snapshot")).isEmpty)
            let one = LiveSocketClient(url: url)
            defer { one.close() }
            _ = try await one.next(type: "snapshot")
            one.send(#"{"type":"subscribe","paths":["live/cam0007"]}"#)
            _ = try await one.next(type: "subscribed")
            _ = try await one.next(type: "snapshot")

            let count = 1_200  // past the bound of 1,000 pending events
            let restarted = (0..<count).map { i in
                var path = HistoryFixture.cam(1)
                path.name = String(format: "live/cam%04d", i)
                return path
            }
            feed.broadcast(snapshot(base + 2_000, restarted))
            // The unfiltered client gets the new state whole instead of 1,200 events.
            let fresh = try await everything.next()
            #expect(fresh["type"] as? String == "snapshot")
            #expect(fresh["ts"] as? Int64 == base + 2_000)
            #expect(names(fresh).count == count)
            // The subscribed client counts only its path's event.
            let event = try await one.next()
            #expect(event["type"] as? String == "event")
            #expect(event["event"] as? String == "online")
            #expect(event["path"] as? String == "live/cam0007")
            let update = try await one.next()
            #expect(update["type"] as? String == "update")
            #expect(names(update) == ["live/cam0007"])

            feed.broadcast(snapshot(base + 4_000, restarted))
            #expect(try await everything.next()["type"] as? String == "update")
            #expect(try await one.next()["type"] as? String == "update")
            #expect(await hub.clientCount == 2)
            #expect(await hub.slowClosedCount == 0)
        }
    }
}

/// A WebSocket client on a bare socket: it sends the upgrade request and then reads only when
/// a test asks, so it can stand for a client that never reads, and show the server's answer
/// to the upgrade itself, which a WebSocket library turns into a bare error.
final class RawWebSocket: Sendable {
    let descriptor: Int32

    init(port: Int, target: String = "/api/v1/ws", header: String? = nil, upgrade: Bool = true) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        // A small receive buffer, so the server's writes back up soon.
        var size: Int32 = 4_096
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        // Reads give up rather than hang a test when the server never answers.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw TestSupportError("cannot connect to port \(port)") }
        let handshake = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            + "Sec-WebSocket-Version: 13\r\n"
        let request = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (upgrade ? handshake : "")
            + (header.map { $0 + "\r\n" } ?? "") + "\r\n"
        _ = request.withCString { send(descriptor, $0, strlen($0), 0) }
    }

    /// The status line and headers of the server's answer to the upgrade request.
    func responseHead() async throws -> String {
        try await offThread { [descriptor] in
            var head: [UInt8] = []
            var byte: UInt8 = 0
            while !head.ends(with: Array("\r\n\r\n".utf8)) {
                guard recv(descriptor, &byte, 1, 0) == 1 else {
                    throw TestSupportError("the connection ended inside the response head: \(String(decoding: head, as: UTF8.self))")
                }
                head.append(byte)
            }
            return String(decoding: head, as: UTF8.self)
        }
    }

    /// Reads what the server sent until it hangs up; throws if it is still connected after the timeout.
    func readUntilClosed() async throws {
        try await offThread { [descriptor] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let read = recv(descriptor, &buffer, buffer.count, 0)
                if read == 0 || (read < 0 && errno == ECONNRESET) { return }
                if read < 0 { throw TestSupportError("the server did not hang up (errno \(errno))") }
            }
        }
    }

    func close() { _ = Glibc.close(descriptor) }

    /// Blocking reads run on a thread of their own, not on the test's executor.
    private func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }
}

extension Array where Element: Equatable {
    func ends(with suffix: [Element]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
