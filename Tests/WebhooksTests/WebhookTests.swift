import Crypto
import Foundation
import SQLiteHistory
import History
import HTTPTypes
import Hummingbird
import Logging
import MTXMonCore
import ServiceLifecycle
import Synchronization
import PostgresHistory
import Testing
import TestSupport
@testable import Webhooks

/// A real HTTP receiver that is first down, then answers 500, then hangs, then takes events:
/// every event reaches it once it takes them, once each, in order, signed.
@Suite struct WebhookTests {
    static let secret = "s3cret"

    enum Mode: Sendable { case failing, slow, taking, refusing }

    struct Received: Sendable {
        var mode: Mode
        var id: String?
        var signature: String?
        var body: [UInt8]
    }

    /// The receiver: answers as `mode` says and keeps every request it got.
    final class Receiver: Sendable {
        let mode = Mutex(Mode.failing)
        let received = Mutex([Received]())

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.post("/hook") { request, context -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                let mode = self.mode.withLock { $0 }
                self.received.withLock {
                    $0.append(Received(mode: mode, id: request.headers[HTTPField.Name("X-Mtxmon-Event")!],
                                       signature: request.headers[HTTPField.Name("X-Mtxmon-Signature")!],
                                       body: Array(buffer: body)))
                }
                switch mode {
                case .failing: return Response(status: .internalServerError)
                case .slow:
                    try await Task.sleep(for: .seconds(3))
                    return Response(status: .ok)
                case .taking: return Response(status: .noContent)
                case .refusing: return Response(status: .notFound)
                }
            }
            return router
        }

        func count(_ mode: Mode) -> Int { received.withLock { $0.filter { $0.mode == mode }.count } }
    }

    static let logger = {
        var logger = Logger(label: "test.webhooks")
        logger.logLevel = .critical
        return logger
    }()

    static func events(_ paths: [String], from: Int64) -> [PollBatch] {
        paths.enumerated().map { i, path in
            let event = MonitorEvent(.offline, severity: .warning, ts: from + Int64(i) * 2_000, path: path,
                                     message: "\(path) went offline: no publisher", figures: ["n": .number(Double(i))])
            return PollBatch(poll: PollRecord(ts: from + Int64(i) * 2_000, ok: true, durationMs: 1), snapshot: nil,
                             events: [event], notify: [0])
        }
    }

    @Test func deliveredOnceInOrderAndSignedAfterTheReceiverRecovers() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("w.sqlite"))
        let port = try freePort()
        let url = "http://127.0.0.1:\(port)/hook"
        let now = WallClock.nowMs()
        try await store.append(Self.events(["a", "b", "a", "c", "a"], from: now), deliverTo: [url])
        let sender = WebhookSender(store: store, settings: WebhookSettings(
            targets: [url], secret: Self.secret, requestTimeout: .seconds(1), maxBackoff: .milliseconds(500)),
            logger: Self.logger)
        let receiver = Receiver()
        let senderGroup = ServiceGroup(configuration: .init(services: [sender], logger: Self.logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await senderGroup.run() }
            defer { Task { await senderGroup.triggerGracefulShutdown() } }
            // Down: nothing listens, every try fails and is kept.
            // /healthz shows it failing from its first failed attempt, not once its backlog aged.
            try await eventually("the first failed attempt shown") { sender.status.receivers.first?.failingSince != nil }
            #expect(sender.status.receivers.first?.lastResult == "failed")
            try await eventually("tries while the receiver is down") { sender.totals.retried >= 2 }
            #expect(sender.totals.delivered == 0)
            let app = Application(router: receiver.router(), configuration: .init(address: .hostname("127.0.0.1", port: port)),
                                  logger: Self.logger)
            let receiverGroup = ServiceGroup(configuration: .init(services: [app], logger: Self.logger))
            group.addTask { try await receiverGroup.run() }
            try await eventually("500s") { receiver.count(.failing) >= 2 }
            receiver.mode.withLock { $0 = .slow }
            try await eventually("a hanging answer") { receiver.count(.slow) >= 1 }
            receiver.mode.withLock { $0 = .taking }
            try await eventually("every event taken") { try store.deliveryBacklog().isEmpty }
            #expect(sender.status.receivers.first?.failingSince == nil, "taking again")
            // A receiver that refuses an event (4xx) is not asked again for it.
            receiver.mode.withLock { $0 = .refusing }
            try await store.append(Self.events(["z"], from: now + 60_000), deliverTo: [url])
            // The sender counts a drop after the delivery is gone from the backlog: wait for both.
            try await eventually("the refused event dropped") {
                try store.deliveryBacklog().isEmpty && sender.totals.dropped >= 1
            }
            #expect(receiver.count(.refusing) == 1)
            #expect(sender.totals.dropped == 1)
            await receiverGroup.triggerGracefulShutdown()
            await senderGroup.triggerGracefulShutdown()
            try await group.waitForAll()
        }
        let taken = receiver.received.withLock { $0.filter { $0.mode == .taking } }
        #expect(taken.map(\.id) == ["1", "2", "3", "4", "5"], "once each, in the order they happened")
        for request in taken {
            let code = HMAC<SHA256>.authenticationCode(for: request.body,
                                                       using: SymmetricKey(data: Array(Self.secret.utf8)))
            #expect(request.signature == "sha256=" + code.map { String(format: "%02x", $0) }.joined())
            let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
            #expect(body["type"] as? String == "event" && body["kind"] as? String == "offline")
            #expect(body["id"] as? Int == Int(request.id ?? ""))
            #expect(body["connection"] is NSNull && body["server"] as? String == "default",
                    "the members GET /api/v1/events has, null where absent")
        }
        let paths = try taken.map { try #require(JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any])["path"] as? String }
        #expect(paths == ["a", "b", "a", "c", "a"])
    }

    /// Two processes on one PostgreSQL history, each with a sender for the same receiver (an
    /// active–standby pair, or API nodes): the receiver gets each event once, in order.
    @Test func twoSendersOnOneDatabaseDeliverEachEventOnceInOrder() async throws {
        let database = try await PostgresServer.shared().newDatabase()
        let first = try await PostgresHistory(url: PostgresURL(database))
        let second = try await PostgresHistory(url: PostgresURL(database))
        defer {
            first.close()
            second.close()
        }
        let port = try freePort()
        let url = "http://127.0.0.1:\(port)/hook"
        let receiver = Receiver()
        receiver.mode.withLock { $0 = .taking }
        let app = Application(router: receiver.router(), configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              logger: Self.logger)
        let settings = WebhookSettings(targets: [url], secret: Self.secret, requestTimeout: .seconds(2))
        let senders = [WebhookSender(store: first, settings: settings, logger: Self.logger),
                       WebhookSender(store: second, settings: settings, logger: Self.logger)]
        let group = ServiceGroup(configuration: .init(services: [app] + senders, logger: Self.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let now = WallClock.nowMs()
            for round in 0..<6 {
                _ = try await first.append(Self.events(["a", "b", "c", "d", "e"], from: now + Int64(round) * 10_000),
                                           deliverTo: [url])
            }
            try await eventually("every event taken") {
                try await first.deliveryBacklog().isEmpty && receiver.received.withLock { $0.count } >= 30
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let ids = receiver.received.withLock { $0.map(\.id) }
        #expect(ids == (1...30).map { "\($0)" }, "once each, in order, across both senders")
        #expect(senders.map(\.totals.delivered).reduce(0, +) == 30, "no event sent by both")
    }
}
