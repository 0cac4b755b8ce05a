import Logging
import MTXMonCore
import SnapshotCache
import Testing
import TestSupport
@testable import MTXMonServer

/// Which snapshot the hub keeps when the feed and a first client's read disagree, and when the
/// collector's clock steps back.
@Suite struct LiveHubTests {
    let base = HistoryFixture.now

    func hub() -> LiveHub {
        var logger = Logger(label: "test.hub")
        logger.logLevel = .critical
        return LiveHub(feed: SnapshotBroadcaster(), intervalMs: HistoryFixture.interval, logger: logger)
    }

    func poll(_ ts: Int64) -> Snapshot { snapshot(ts, [HistoryFixture.cam(1)]) }

    @Test func aFeedSnapshotWithAnOlderTsIsTakenAndTheSamePollAgainIsNot() async {
        let hub = hub()
        let client = await hub.connect { (nil, .none) }
        _ = client.take()
        await hub.receive(poll(base), via: .feed)
        #expect(client.take().0.update?.ts == base)

        // NTP stepped the collector's clock back a minute.
        await hub.receive(poll(base - 60_000), via: .feed)
        let stepped = client.take().0
        #expect(stepped.update?.ts == base - 60_000)
        #expect(!stepped.asSnapshot)
        #expect(await hub.latest?.ts == base - 60_000)

        await hub.receive(poll(base - 60_000), via: .feed)
        #expect(client.take().0.isEmpty)
        await hub.receive(poll(base - 58_000), via: .feed)
        #expect(client.take().0.update?.ts == base - 58_000)
    }

    /// The feed's poll came while the first client's read was on its way: the read, older by
    /// publish order whatever its `ts`, must not replace it.
    @Test(arguments: [-2_000, 2_000] as [Int64])
    func aReadAnsweredWhileTheFeedDeliveredDoesNotSupersedeIt(readOffset: Int64) async throws {
        let hub = hub()
        let (asked, ask) = AsyncStream.makeStream(of: Void.self)
        let (answers, answer) = AsyncStream.makeStream(of: Snapshot.self)
        let base = base
        let connecting = Task {
            await hub.connect {
                ask.yield()
                for await snapshot in answers { return (snapshot, .cache) }
                return (nil, .none)
            }
        }
        for await _ in asked { break }
        await hub.receive(poll(base), via: .feed)
        answer.yield(poll(base + readOffset))
        let client = await connecting.value
        let first = client.take().0
        #expect(first.update?.ts == base)
        #expect(first.asSnapshot)
        #expect(await hub.latest?.ts == base)

        // The feed goes on from its own snapshot, not from the read.
        await hub.receive(poll(base + 2_000), via: .feed)
        #expect(client.take().0.update?.ts == base + 2_000)
    }

    @Test func aReadFillsAnEmptyHubAndTheFeedsCopyOfItIsADuplicate() async {
        let hub = hub()
        let client = await hub.connect { (poll(base), .cache) }
        #expect(client.take().0.update?.ts == base)
        await hub.receive(poll(base), via: .feed)
        #expect(client.take().0.isEmpty)
        await hub.receive(poll(base + 2_000), via: .feed)
        #expect(client.take().0.update?.ts == base + 2_000)
    }

    /// Through real sockets: a client of a collector whose clock stepped back keeps getting updates.
    @Test func clientsFollowTheFeedWhenTheCollectorsClockStepsBack() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withLiveServer(fixture) { port, feed, _ in
            let client = LiveSocketClient(url: "ws://127.0.0.1:\(port)/api/v1/ws")
            defer { client.close() }
            // Registered once its first message (the history file's last poll) has come.
            _ = try await client.next(type: "snapshot")
            // One poll at a time: a client that has not read an update yet gets only the newest.
            for ts in [base, base + 2_000, base - 60_000] {
                feed.broadcast(poll(ts))
                #expect(try await client.next(type: "update")["ts"] as? Int64 == ts)
            }
            feed.broadcast(poll(base - 60_000))
            feed.broadcast(poll(base - 58_000))
            #expect(try await client.next(type: "update")["ts"] as? Int64 == base - 58_000)
        }
    }
}

/// A fleet's servers arrive one snapshot each; live clients see them as one, every item and
/// event under its server, and may subscribe to some servers only.
@Suite struct FleetLiveHubTests {
    let base = HistoryFixture.now

    func poll(_ server: String, _ ts: Int64, online: Bool = true) -> Snapshot {
        var cam = PathSample(name: "cam1", online: online, sourceType: online ? "rtspSession" : nil, readers: 1)
        cam.state = online ? .online : .offline
        return Snapshot(ts: ts, paths: [cam], serverVersion: "v1.20.1").named(server)
    }

    @Test func twoServersSnapshotsAreOneViewAndEventsNameTheirServer() async throws {
        var logger = Logger(label: "test.hub")
        logger.logLevel = .critical
        let hub = LiveHub(feed: SnapshotBroadcaster(), intervalMs: HistoryFixture.interval, logger: logger)
        let client = await hub.connect { (nil, .none) }
        _ = client.take()
        await hub.receive(poll("a", base), via: .feed)
        await hub.receive(poll("b", base + 3), via: .feed)
        let both = try #require(await hub.latest)
        #expect(both.snapshot?.paths.map { "\($0.serverName)/\($0.name)" } == ["a/cam1", "b/cam1"])
        #expect(both.snapshot?.servers?.map(\.name) == ["a", "b"])
        _ = client.take()

        // b's publisher leaves: one event, b's; a's cam1 is untouched.
        await hub.receive(poll("b", base + 2_003, online: false), via: .feed)
        let (batch, _) = client.take()
        #expect(batch.events.map { "\($0.server ?? "")/\($0.path ?? "")/\($0.kind.rawValue)" } == ["b/cam1/offline"])
        #expect(batch.events.first?.ts == base + 2_003)
        let update = try #require(batch.update)
        #expect(update.snapshot?.path(named: "cam1", server: "a")?.currentState == .online)
        #expect(update.snapshot?.path(named: "cam1", server: "b")?.currentState == .offline)

        let onlyA = String(buffer: update.message(type: "update", filter: .onServers(["a"], paths: nil), stale: nil))
        #expect(onlyA.contains("\"server\":\"a\"") && !onlyA.contains("\"server\":\"b\",\"name\""))
        let message = try ClientMessage.parse(#"{"type":"subscribe","servers":["b"],"paths":["cam1"]}"#)
        #expect(message == .subscribe(.onServers(["b"], paths: ["cam1"]), id: nil))
        #expect(throws: ClientMessageError.self) { try ClientMessage.parse(#"{"type":"subscribe","servers":["b c"]}"#) }
    }
}
