import History
import MTXMonCore
import Testing

/// How the history counts what a path's counters did: across restarts, gaps and vanishings.
@Suite struct CounterTests {
    typealias F = Fixture

    /// cam at 0–40 s: a publisher restart the collector flagged at 20 s, and counters that went
    /// down at 40 s without its flag.
    static let restarts: [PollBatch] = [
        F.answered(at: F.t(0), [F.online("cam", in: 1_000, out: 4_000, readers: 3)]),
        F.answered(at: F.t(10), [F.online("cam", in: 2_000, out: 8_000, bitrateIn: 800, bitrateOut: 3_200,
                                          readers: 3)]),
        F.answered(at: F.t(20), [F.online("cam", in: 500, out: 1_000, readers: 3, reset: true)]),
        F.answered(at: F.t(30), [F.online("cam", in: 1_500, out: 5_000, bitrateIn: 800, bitrateOut: 3_200,
                                          readers: 3)]),
        F.answered(at: F.t(40), [F.online("cam", in: 300, out: 600, readers: 3)]),
    ]

    @Test(arguments: Store.allCases)
    func aRestartedCounterCountsItsNewValueAsTheIncrease(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        _ = try await history.append(Self.restarts, deliverTo: [])
        let cam = PathRef(name: "cam")

        let rates = try await history.windowRates(cam, from: F.t(0), to: F.t(40), maxGapMs: F.maxGapMs)
        var expected = WindowRates(from: F.t(0), to: F.t(40))
        expected.coveredFrom = F.t(0)
        expected.coveredTo = F.t(40)
        expected.samples = 5
        // The collector's verdict is the count: the drop at 40 s counts its bytes, not as a restart.
        expected.resets = 1
        expected.bytesIn = 1_000 + 500 + 1_000 + 300
        expected.bytesOut = 4_000 + 1_000 + 4_000 + 600
        expected.bitrateIn = BitrateStats(avg: 560, avgOnline: 800, min: 800, max: 800, last: 800)
        expected.bitrateOut = BitrateStats(avg: 1_920, avgOnline: 3_200, min: 3_200, max: 3_200, last: 3_200)
        expected.readerMinutes = 2
        expected.onlineMs = 20_000
        #expect(rates == expected)

        let points = try await history.points(cam, range: HistoryRange(from: F.t(0), to: F.t(40)))
        #expect(points.map(\.inboundBytes) == [1_000, 2_000, 500, 1_500, 300])
        #expect(points.map(\.reset) == [false, false, true, false, false])
    }

    @Test(arguments: Store.allCases)
    func aWindowCountsThePairsInsideItAndARestartAtItsFirstSample(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        _ = try await opened.history.append(Self.restarts, deliverTo: [])

        let rates = try await opened.history.windowRates(PathRef(name: "cam"), from: F.t(15), to: F.t(35),
                                                         maxGapMs: F.maxGapMs)
        #expect(rates.samples == 2 && rates.coveredFrom == F.t(20) && rates.coveredTo == F.t(30))
        #expect(rates.bytesIn == 1_000, "the pair entering the window is not counted")
        #expect(rates.resets == 1)
        #expect(rates.readerMinutes == 0.5)
    }

    @Test(arguments: Store.allCases)
    func aPollTheServerDidNotAnswerLeavesAGapThatReaderTimeIsNotCountedAcross(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        let cam = PathRef(name: "cam")
        _ = try await history.append([
            F.answered(at: F.t(0), [F.online("cam", in: 0, readers: 2)]),
            F.answered(at: F.t(10), [F.online("cam", in: 1_000, bitrateIn: 800, readers: 2)]),
            F.answered(at: F.t(20), [F.online("cam", in: 2_000, bitrateIn: 800, readers: 2)]),
            F.failed(at: F.t(30)), F.failed(at: F.t(40)), F.failed(at: F.t(50)),
        ], deliverTo: [])

        let down = try await history.polls(server: ServerName.default)
        #expect(down.lastPoll == PollRecord(ts: F.t(50), ok: false, durationMs: 1, error: "connection refused",
                                            reason: "refused"))
        #expect(down.lastAnsweredTs == F.t(20))
        #expect(down.failure == FailureRun(since: F.t(30), polls: 3, lastError: "connection refused",
                                           lastReason: "refused"))

        _ = try await history.append([
            F.answered(at: F.t(60), [F.online("cam", in: 6_000, readers: 2)]),
            F.answered(at: F.t(70), [F.online("cam", in: 7_000, bitrateIn: 800, readers: 2)]),
        ], deliverTo: [])
        let back = try await history.polls(server: ServerName.default)
        #expect(back.lastAnsweredTs == F.t(70) && back.failure == nil)
        #expect(try await history.firstPollTs() == F.t(0))

        let raw = try await history.points(cam, range: HistoryRange(from: F.t(0), to: F.t(70)))
        #expect(raw.map(\.t) == [F.t(0), F.t(10), F.t(20), F.t(60), F.t(70)], "no rows for the unanswered polls")
        let buckets = try await history.points(cam, range: HistoryRange(from: F.t(0), to: F.t(70), step: 20_000))
        #expect(buckets.map(\.t) == [F.t(0), F.t(20), F.t(60)], "no bucket for 40–59 s")
        #expect(buckets.map(\.samples) == [2, 1, 2])

        let rates = try await history.windowRates(cam, from: F.t(0), to: F.t(70), maxGapMs: F.maxGapMs)
        #expect(rates.bytesIn == 7_000, "bytes are counted across the gap")
        #expect(rates.readerMinutes == 1, "2 readers × 30 s, none over the 40 s gap")
        #expect(rates.onlineMs == 30_000)
        #expect(rates.bitrateIn == BitrateStats(avg: 800, avgOnline: 800, min: 800, max: 800, last: 800))
    }

    @Test(arguments: Store.allCases)
    func aPathThatVanishedHasOneOfflineRowAtThePollItVanished(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        let other = F.online("other", in: 5)
        _ = try await history.append([
            F.answered(at: F.t(0), [F.online("cam", in: 1_000, out: 10, readers: 1), other]),
            F.answered(at: F.t(10), [F.online("cam", in: 2_000, out: 20, bitrateIn: 800, readers: 1), other]),
            F.answered(at: F.t(20), [F.vanished("cam", since: F.t(20), in: 2_000, out: 20), other]),
            F.answered(at: F.t(30), [F.vanished("cam", since: F.t(20), in: 2_000, out: 20), other]),
        ], deliverTo: [])

        let points = try await history.points(PathRef(name: "cam"), range: HistoryRange(from: F.t(0), to: F.t(30)))
        #expect(points.map(\.t) == [F.t(0), F.t(10), F.t(20)])
        #expect(points.map(\.online) == [true, true, false])
        #expect(points.last?.inboundBytes == 2_000)

        let latest = try #require(try await history.latestSnapshot(server: ServerName.default,
                                                                   forgetAfterMs: 86_400_000))
        var cam = PathSample(name: "cam", online: false, inboundBytes: 2_000, outboundBytes: 20)
        cam.server = ServerName.default
        cam.state = .offline
        cam.since = F.t(20)
        cam.lastSeen = LastSeen(ts: F.t(10), bitrateIn: 800, bitrateOut: nil, readers: 1)
        cam.listed = false
        #expect(latest.ts == F.t(30))
        #expect(latest.path(named: "cam") == cam)
    }
}
