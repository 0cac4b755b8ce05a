import Foundation
import MTXMonCore
import NIOCore
import Testing
@testable import MTXMonServer

@Suite struct LiveMailboxTests {
    func encoded(_ ts: Int64, _ names: [String] = ["a", "b"]) -> EncodedSnapshot {
        EncodedSnapshot(Snapshot(ts: ts, paths: names.map { PathSample(name: $0, online: true) }), source: .cache,
                        sequence: ts)
    }

    @Test func theFirstMessageIsASnapshotAndLaterOnesAreUpdates() {
        var box = LiveMailbox(slowLimitMs: 10_000)
        #expect(box.offer(encoded(1), events: [], asSnapshot: false, nowMs: 0) == .queued)
        let first = box.take()
        #expect(first.update?.ts == 1)
        #expect(first.asSnapshot)
        #expect(box.offer(encoded(2), events: [], asSnapshot: false, nowMs: 1) == .queued)
        let second = box.take()
        #expect(second.update?.ts == 2)
        #expect(!second.asSnapshot)
        #expect(box.take().isEmpty)
    }

    /// The hub's sequence orders updates: after the collector's clock steps back, its polls
    /// are still sent, and one the hub took earlier never overtakes them.
    @Test func updatesGoInTheHubsOrderNotByTs() {
        func taken(_ ts: Int64, _ sequence: Int64) -> EncodedSnapshot {
            EncodedSnapshot(Snapshot(ts: ts, paths: []), source: .cache, sequence: sequence)
        }
        var box = LiveMailbox(slowLimitMs: .max)
        _ = box.offer(taken(10_000, 1), events: [], asSnapshot: false, nowMs: 0)
        _ = box.take()
        _ = box.offer(taken(4_000, 2), events: [], asSnapshot: false, nowMs: 1)
        let stepped = box.take()
        #expect(stepped.update?.ts == 4_000)
        #expect(!stepped.asSnapshot)
        _ = box.offer(taken(10_000, 1), events: [], asSnapshot: false, nowMs: 2)
        #expect(box.take().isEmpty)
    }

    @Test func aSlowReaderGetsOnlyTheNewestUpdateButEveryEvent() {
        var box = LiveMailbox(slowLimitMs: 10_000)
        _ = box.offer(encoded(1), events: [], asSnapshot: false, nowMs: 0)
        _ = box.take()
        _ = box.offer(encoded(2), events: [MonitorEvent(.offline, severity: .warning, ts: 2, path: "a", message: "a went offline")], asSnapshot: false, nowMs: 2)
        _ = box.offer(encoded(3), events: [MonitorEvent(.online, severity: .info, ts: 3, path: "a", message: "a is online")], asSnapshot: false, nowMs: 3)
        let batch = box.take()
        #expect(batch.update?.ts == 3)
        #expect(batch.events == [MonitorEvent(.offline, severity: .warning, ts: 2, path: "a", message: "a went offline"), MonitorEvent(.online, severity: .info, ts: 3, path: "a", message: "a is online")])
    }

    @Test func aClientThatReadsNothingForTheLimitIsClosedWithAReason() {
        var box = LiveMailbox(slowLimitMs: 1_000)
        #expect(box.offer(encoded(1), events: [], asSnapshot: false, nowMs: 0) == .queued)
        #expect(box.offer(encoded(2), events: [], asSnapshot: false, nowMs: 1_000) == .queued)
        guard case let .close(reason) = box.offer(encoded(3), events: [], asSnapshot: false, nowMs: 1_001) else {
            Issue.record("a client stuck past the limit must be closed")
            return
        }
        #expect(reason.code == 1008)
        #expect(reason.text.contains("read no update"))
    }

    @Test func readingResetsTheSlowClock() {
        var box = LiveMailbox(slowLimitMs: 1_000)
        for i in 0..<10 {
            #expect(box.offer(encoded(Int64(i)), events: [], asSnapshot: false, nowMs: Int64(i) * 900) == .queued)
            _ = box.take()
        }
    }

    func events(_ count: Int, ts: Int64, kind: MonitorEvent.Kind = .online) -> [MonitorEvent] {
        (0..<count).map { MonitorEvent(kind, severity: kind == .online ? .info : .warning, ts: ts, path: String(format: "p%04d", $0),
                                 message: String(format: "p%04d changed", $0)) }
    }

    /// MediaMTX restarting with more paths than the event bound: one poll brings them all.
    @Test func morePathEventsInOnePollThanTheBoundBecomeASnapshotNotAClose() {
        var box = LiveMailbox(slowLimitMs: 10_000)
        _ = box.offer(encoded(1), events: [], asSnapshot: false, nowMs: 0)
        _ = box.take()
        #expect(box.offer(encoded(2), events: events(1_500, ts: 2), asSnapshot: false, nowMs: 1) == .queued)
        let batch = box.take()
        #expect(batch.events.isEmpty)
        #expect(batch.update?.ts == 2)
        #expect(batch.asSnapshot)
        // Keeping up again, it gets events and updates as before.
        #expect(box.offer(encoded(3), events: [MonitorEvent(.reset, severity: .warning, ts: 3, path: "a", message: "a changed")], asSnapshot: false, nowMs: 2) == .queued)
        let next = box.take()
        #expect(next.events == [MonitorEvent(.reset, severity: .warning, ts: 3, path: "a", message: "a changed")])
        #expect(!next.asSnapshot)
    }

    @Test func aFilteredClientCountsOnlyTheEventsOfItsPaths() {
        var box = LiveMailbox(slowLimitMs: 10_000)
        box.subscribe(.only(["p0007"]), current: encoded(1))
        _ = box.take()
        #expect(box.offer(encoded(2), events: events(1_500, ts: 2), asSnapshot: false, nowMs: 1) == .queued)
        let batch = box.take()
        #expect(batch.events == [MonitorEvent(.online, severity: .info, ts: 2, path: "p0007", message: "p0007 changed")])
        #expect(!batch.asSnapshot)
    }

    @Test func eventsPilingUpOverPollsPastTheBoundAreDroppedUntilTheSnapshotIsSent() {
        var box = LiveMailbox(slowLimitMs: 10_000)
        _ = box.offer(encoded(1), events: [], asSnapshot: false, nowMs: 0)
        _ = box.take()
        #expect(box.offer(encoded(2), events: events(600, ts: 2), asSnapshot: false, nowMs: 1) == .queued)
        #expect(box.offer(encoded(3), events: events(600, ts: 3, kind: .offline), asSnapshot: false, nowMs: 2) == .queued)
        // After a gap in the events, later ones alone would mislead: the snapshot says it all.
        #expect(box.offer(encoded(4), events: [MonitorEvent(.reset, severity: .warning, ts: 4, path: "a", message: "a changed")], asSnapshot: false, nowMs: 3) == .queued)
        let batch = box.take()
        #expect(batch.events.isEmpty)
        #expect(batch.asSnapshot)
        #expect(batch.update?.ts == 4)
    }

    @Test func aClientReadingNothingIsStillClosedAfterAnEventBurst() {
        var box = LiveMailbox(slowLimitMs: 1_000)
        #expect(box.offer(encoded(1), events: events(1_500, ts: 1), asSnapshot: false, nowMs: 0) == .queued)
        guard case .close = box.offer(encoded(2), events: [], asSnapshot: false, nowMs: 1_001) else {
            Issue.record("a client stuck past the limit must be closed")
            return
        }
    }

    @Test func repliesPastTheCountBoundCloseTheClient() {
        var box = LiveMailbox(slowLimitMs: .max)
        for _ in 0..<LiveMailbox.maxReplies { #expect(box.reply(ByteBuffer(string: "{}")) == .queued) }
        guard case let .close(reason) = box.reply(ByteBuffer(string: "{}")) else {
            Issue.record("replies past the bound must close the client")
            return
        }
        #expect(reason.code == 1008)
    }

    @Test func aReplyPastTheByteBoundIsAnsweredWithAnErrorNamingIt() throws {
        var box = LiveMailbox(slowLimitMs: .max)
        let large = ByteBuffer(repeating: UInt8(ascii: " "), count: 3 * 1_024 * 1_024)
        #expect(box.reply(large) == .queued)
        #expect(box.hasRoomForReply())
        #expect(box.reply(large, id: .string("h2")) == .queued)
        #expect(!box.hasRoomForReply(large.readableBytes))
        #expect(box.pendingReplyBytes <= LiveMailbox.maxReplyBytes)
        let batch = box.take()
        #expect(batch.replies.count == 2)
        #expect(batch.replies.first?.readableBytes == large.readableBytes)
        let second = try #require(batch.replies.last)
        let refusal = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: second).utf8)) as? [String: Any])
        #expect(refusal["type"] as? String == "error")
        #expect(refusal["code"] as? String == "reply_limit")
        #expect(refusal["id"] as? String == "h2")
        #expect((refusal["message"] as? String)?.contains("4 MiB") == true)
        // Once read, there is room again; a reply larger than the bound still goes out alone.
        #expect(box.hasRoomForReply())
        let huge = ByteBuffer(repeating: UInt8(ascii: " "), count: LiveMailbox.maxReplyBytes + 1)
        #expect(box.reply(huge) == .queued)
        #expect(box.take().replies.map(\.readableBytes) == [huge.readableBytes])
    }

    @Test func theSubscribedAckIsBoundedLikeAnyReply() {
        let client = LiveClient(id: 1, slowLimitMs: .max)
        for _ in 0..<LiveMailbox.maxReplies { #expect(client.reply(ByteBuffer(string: "{}"))) }
        #expect(!client.subscribe(.all, current: nil, reply: LiveReply.subscribed(.all, id: nil), id: nil))
        #expect(client.closeReason?.code == 1008)
    }

    @Test func theSubscribedAckIsQueuedBeforeTheSnapshot() {
        let client = LiveClient(id: 1, slowLimitMs: .max)
        #expect(client.subscribe(.only(["b"]), current: encoded(3), reply: LiveReply.subscribed(.only(["b"]), id: nil),
                                 id: nil))
        let (batch, filter) = client.take()
        #expect(filter == .only(["b"]))
        #expect(batch.replies.map { String(buffer: $0) } == [#"{"type":"subscribed","paths":["b"]}"#])
        #expect(batch.asSnapshot && batch.update?.ts == 3)
    }

    @Test func subscribingFiltersPendingEventsAndSendsASnapshotNext() {
        var box = LiveMailbox(slowLimitMs: .max)
        _ = box.offer(encoded(1), events: [], asSnapshot: false, nowMs: 0)
        _ = box.take()
        _ = box.offer(encoded(2), events: [MonitorEvent(.reset, severity: .warning, ts: 2, path: "a", message: "a changed"), MonitorEvent(.reset, severity: .warning, ts: 2, path: "b", message: "b changed")],
                      asSnapshot: false, nowMs: 0)
        box.subscribe(.only(["b"]), current: encoded(2))
        let batch = box.take()
        #expect(batch.asSnapshot)
        #expect(batch.events.map(\.path) == ["b"])
        let later = [MonitorEvent(.reset, severity: .warning, ts: 3, path: "a", message: "a changed")]
        _ = box.offer(encoded(3), events: later, asSnapshot: false, nowMs: 0)
        #expect(box.take().events.isEmpty)
    }

    @Test func anOlderSnapshotThanOneSentIsNotSentAsAnUpdate() {
        var box = LiveMailbox(slowLimitMs: .max)
        _ = box.offer(encoded(5), events: [], asSnapshot: false, nowMs: 0)
        _ = box.take()
        _ = box.offer(encoded(5), events: [], asSnapshot: false, nowMs: 0)
        #expect(box.take().update == nil)
    }

    @Test func filteredMessagesHoldOnlyTheAskedPaths() throws {
        let snapshot = encoded(7, ["a", "b", "c"])
        let all = String(buffer: snapshot.message(type: "update", filter: .all, stale: nil))
        #expect(all.hasPrefix("{\"type\":\"update\",\"ts\":7,"))
        #expect(all.contains("\"name\":\"a\"") && all.contains("\"name\":\"c\""))
        let some = String(buffer: snapshot.message(type: "snapshot", filter: .only(["b"]), stale: false))
        #expect(some.hasPrefix("{\"type\":\"snapshot\",\"ts\":7,\"stale\":false,\"source\":\"cache\""))
        #expect(!some.contains("\"name\":\"a\"") && some.contains("\"name\":\"b\"") && !some.contains("\"name\":\"c\""))
        let none = String(buffer: snapshot.message(type: "update", filter: .only(["zzz"]), stale: nil))
        #expect(none.hasSuffix("\"paths\":[]}"))
    }
}

@Suite struct ClientMessageTests {
    @Test func understoodMessages() throws {
        #expect(try ClientMessage.parse(#"{"type":"subscribe","paths":"*"}"#) == .subscribe(.all, id: nil))
        #expect(try ClientMessage.parse(#"{"type":"subscribe","paths":["a","live/b"],"id":"x"}"#)
            == .subscribe(.only(["a", "live/b"]), id: .string("x")))
        #expect(try ClientMessage.parse(#"{"type":"ping","id":3}"#) == .ping(id: .number(3)))
        #expect(try ClientMessage.parse(#"{"type":"history","path":"a","from":"now-1h","step":60,"fields":"bitrateIn"}"#)
            == .history(.init(path: "a", from: "now-1h", step: "60", fields: "bitrateIn")))
    }

    @Test(arguments: [
        ("not json", "bad_json"),
        ("[1,2]", "bad_message"),
        (#"{"paths":"*"}"#, "bad_message"),
        (#"{"type":"unsubscribe"}"#, "unknown_type"),
        (#"{"type":"subscribe"}"#, "bad_paths"),
        (#"{"type":"subscribe","paths":"a"}"#, "bad_paths"),
        (#"{"type":"subscribe","paths":[1]}"#, "bad_paths"),
        (#"{"type":"subscribe","paths":[""]}"#, "bad_paths"),
        (#"{"type":"history"}"#, "bad_path"),
        (#"{"type":"history","path":"a","from":true}"#, "bad_from"),
        (#"{"type":"ping","id":{"a":1}}"#, "bad_id"),
        (#"{"type":"ping","id":false}"#, "bad_id"),
    ])
    func refusedMessagesNameTheProblem(text: String, code: String) {
        #expect(throws: ClientMessageError.self) { try ClientMessage.parse(text) }
        do {
            _ = try ClientMessage.parse(text)
        } catch {
            #expect(error.code == code)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func theRequestIDIsEchoedOnErrors() {
        do {
            _ = try ClientMessage.parse(#"{"type":"nope","id":"q1"}"#)
            Issue.record("an unknown type must be refused")
        } catch {
            #expect(error.id == .string("q1"))
            #expect(String(buffer: LiveReply.error(error)).contains("\"id\":\"q1\""))
        }
    }
}

@Suite struct DashboardRouteTests {
    @Test func thePageAndItsAssetsAreServedWithoutTheTokenAndNothingElseIs() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment(token: "t")) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(text(response).contains("<script src=\"assets/app.js\"></script>"))
                #expect(response.headers[.init("Content-Security-Policy")!]?.contains("default-src 'self'") == true)
            }
            for (asset, type) in [("app.js", "text/javascript"), ("chart.js", "text/javascript"), ("style.css", "text/css")] {
                try await client.execute(uri: "/assets/\(asset)", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix(type) == true)
                    #expect(response.body.readableBytes > 1_000)
                }
            }
            try await client.execute(uri: "/assets/secret.txt", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response) == "no_such_asset")
            }
            try await client.execute(uri: "/api/v1/paths", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}
