import History
import MTXMonCore
import Testing

/// What a process that starts finds in the history: each server's latest state, and the paths a
/// collector remembers to judge its first poll against.
@Suite struct LatestStateTests {
    typealias F = Fixture

    static let link = SRTLink(connectionID: "conn-7", rttMs: 12.5, recvRateMbps: 4.25, linkCapacityMbps: 100,
                              tsbpdDelayMs: 120, packetsReceived: 1_000, packetsReceivedLoss: 3,
                              packetsReceivedRetrans: 2, packetsReceivedDrop: 1)

    /// Server a: cam1 over RTSP with readers, cam2 over SRT, cam3 gone at 10 s, and `ancient`, last
    /// seen long before. Server b answered once, then failed twice. Server c never answered.
    static var polls: [PollBatch] {
        var cam1 = F.online("cam1", in: 3_000, out: 6_000, bitrateIn: 800, bitrateOut: 1_600, readers: 2)
        cam1.readersByType = ["rtspSession": 1, "hlsMuxer": 1]
        var cam2 = F.online("cam2", in: 9_000, bitrateIn: 2_400, source: "srtConn")
        cam2.srt = link
        cam2.inboundFramesInError = 4
        return [
            F.answered("a", at: F.t(-200), [F.online("ancient", in: 1)]),
            F.answered("a", at: F.t(0), [F.online("cam1", in: 1_000, out: 2_000, readers: 1),
                                         F.online("cam2", in: 3_000, source: "srtConn"),
                                         F.online("cam3", in: 700, bitrateIn: 56, readers: 1)]),
            F.answered("a", at: F.t(10), [F.online("cam1", in: 2_000, out: 4_000, bitrateIn: 800, readers: 2),
                                          F.online("cam2", in: 6_000, bitrateIn: 2_400, source: "srtConn"),
                                          F.vanished("cam3", since: F.t(10), in: 700)]),
            F.answered("a", at: F.t(20), [cam1, cam2, F.vanished("cam3", since: F.t(10), in: 700)]),
            F.answered("b", at: F.t(0), [F.online("cam9", in: 100, source: "rtmpConn")]),
            F.failed("b", at: F.t(10)),
            F.failed("b", at: F.t(20), error: "timed out after 2 s", reason: "timeout"),
            F.failed("c", at: F.t(20)),
        ]
    }

    @Test(arguments: Store.allCases)
    func theLatestSnapshotAfterARestartIsRebuiltFromTheHistory(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        _ = try await opened.history.append(Self.polls, deliverTo: [])
        let history = try await opened.restarted()

        var cam1 = PathSample(name: "cam1", online: true, sourceType: "rtspSession", inboundBytes: 3_000,
                              outboundBytes: 6_000, bitrateIn: 800, bitrateOut: 1_600, readers: 2,
                              readersByType: ["rtspSession": 1, "hlsMuxer": 1])
        cam1.state = .online
        cam1.lastSeen = LastSeen(ts: F.t(20), bitrateIn: 800, bitrateOut: 1_600, readers: 2)
        var cam2 = PathSample(name: "cam2", online: true, sourceType: "srtConn", inboundBytes: 9_000, bitrateIn: 2_400,
                              inboundFramesInError: 4)
        // The link's figures are kept; the connection's id is not (it is the connections' to tell).
        cam2.srt = SRTLink(connectionID: "", rttMs: 12.5, recvRateMbps: 4.25, linkCapacityMbps: 100, tsbpdDelayMs: 120,
                           packetsReceived: 1_000, packetsReceivedLoss: 3, packetsReceivedRetrans: 2,
                           packetsReceivedDrop: 1)
        cam2.state = .online
        cam2.lastSeen = LastSeen(ts: F.t(20), bitrateIn: 2_400, bitrateOut: nil, readers: 0)
        var cam3 = PathSample(name: "cam3", online: false, inboundBytes: 700)
        cam3.state = .offline
        cam3.since = F.t(10)
        cam3.lastSeen = LastSeen(ts: F.t(0), bitrateIn: 56, bitrateOut: nil, readers: 1)
        cam3.listed = false
        let a = Snapshot(ts: F.t(20), paths: [cam1, cam2, cam3]).named("a")

        // b's newest poll failed: its path is unknown since the first failure, its figures in lastSeen.
        var cam9 = PathSample(name: "cam9", online: false, sourceType: "rtmpConn", inboundBytes: 100)
        cam9.state = .unknown
        cam9.since = F.t(10)
        cam9.lastSeen = LastSeen(ts: F.t(0), bitrateIn: nil, bitrateOut: nil, readers: 0)
        cam9.listed = false
        let b = Snapshot(ts: F.t(20), paths: [cam9], reachable: false, error: "timed out after 2 s").named("b")

        #expect(try await history.latestSnapshots(forgetAfterMs: 60_000) == [a, b])
        #expect(try await history.latestSnapshot(server: "a", forgetAfterMs: 60_000) == a)
        #expect(try await history.latestSnapshot(server: "c", forgetAfterMs: 60_000) == nil, "never answered")
        #expect(try await history.latestSnapshot(server: "a", forgetAfterMs: 300_000)?.paths.map(\.name)
            == ["ancient", "cam1", "cam2", "cam3"], "remembered for as long as asked")
    }

    @Test(arguments: Store.allCases)
    func rememberedPathsGiveEachPathsNewestRowAndItsLastOnlineFigures(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        _ = try await opened.history.append(Self.polls, deliverTo: [])
        let history = try await opened.restarted()

        #expect(try await history.rememberedPaths(server: "a", since: F.t(-60)) == [
            RememberedPath(name: "cam1", ts: F.t(20), online: true, inboundBytes: 3_000, outboundBytes: 6_000,
                           sourceType: "rtspSession",
                           lastSeen: LastSeen(ts: F.t(20), bitrateIn: 800, bitrateOut: 1_600, readers: 2)),
            RememberedPath(name: "cam2", ts: F.t(20), online: true, inboundBytes: 9_000, outboundBytes: 0,
                           sourceType: "srtConn",
                           lastSeen: LastSeen(ts: F.t(20), bitrateIn: 2_400, bitrateOut: nil, readers: 0)),
            // Its newest row is the offline marker; the row before it, its last online figures.
            RememberedPath(name: "cam3", ts: F.t(10), online: false, inboundBytes: 700, outboundBytes: 0,
                           lastSeen: LastSeen(ts: F.t(0), bitrateIn: 56, bitrateOut: nil, readers: 1)),
        ])
        #expect(try await history.rememberedPaths(server: "a", since: F.t(15)).map(\.name) == ["cam1", "cam2"])
        #expect(try await history.rememberedPaths(server: "b", since: F.t(-60)).map(\.name) == ["cam9"])
        #expect(try await history.rememberedPaths(server: "z", since: F.t(-60)).isEmpty)
    }
}
