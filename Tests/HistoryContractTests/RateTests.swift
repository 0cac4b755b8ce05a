import History
import MTXMonCore
import Testing

/// Rates over windows with restarts in them, short (read raw) and long (which the file answers
/// from its minute rollups once its rows are compacted).
@Suite struct RateTests {
    typealias F = Fixture

    /// Index `i` of a poll every 10 s for 15 minutes: a restart the collector flagged at 450 s,
    /// counters that went down without its flag at 600 s, no bitrate at the first poll of each run.
    static func inbound(_ i: Int64) -> Int64 {
        i < 45 ? 1_000 * i : i < 60 ? 1_000 * (i - 45) + 500 : 1_000 * (i - 60) + 200
    }

    static let polls: [PollBatch] = (Int64(0)..<90).map { i in
        let first = i == 0 || i == 45 || i == 60
        return F.answered(at: F.t(10 * i), [
            F.online("cam", in: inbound(i), out: 2 * inbound(i), bitrateIn: first ? nil : 800 + Double(i), readers: 3,
                     reset: i == 45),
        ])
    }

    /// An answer about one path asks the store once; what it gets is what the separate calls give.
    @Test(arguments: Store.allCases)
    func oneCallByNameAnswersAsTheCallsItStandsFor(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        _ = try await history.append(Self.polls, deliverTo: [])
        let cam = try #require(try await history.path(named: "cam", server: nil))
        let range = HistoryRange(from: F.t(0), to: F.t(890))
        let found = try #require(try await history.points(named: "cam", server: nil, range: range, fields: .everything))
        #expect(found.path == cam)
        #expect(found.points == (try await history.points(cam, range: range, fields: .everything)))
        #expect(found.points.count == 90)

        let interval = try await history.polls(server: cam.server).intervalMs ?? 60_000
        let rates = try #require(try await history.windowRates(named: "cam", server: cam.server, from: F.t(30),
                                                                 to: F.t(870), fallbackIntervalMs: 60_000))
        #expect(rates.path == cam)
        #expect(rates.rates == (try await history.windowRates(cam, from: F.t(30), to: F.t(870),
                                                              maxGapMs: Cadence(intervalMs: interval).maxGapMs)))
        #expect(rates.rates.samples == 85)

        #expect(try await history.points(named: "nope", server: nil, range: range, fields: .everything) == nil)
        #expect(try await history.windowRates(named: "nope", server: nil, from: F.t(30), to: F.t(870),
                                              fallbackIntervalMs: 2_000) == nil)
    }

    @Test(arguments: Store.allCases)
    func aLongWindowCountsEveryPairOnceAcrossRestarts(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        _ = try await history.append(Self.polls, deliverTo: [])
        // The file now answers whole minutes from its rollups: the answer must not change.
        _ = try await history.compact()

        let rates = try await history.windowRates(PathRef(name: "cam"), from: F.t(30), to: F.t(870),
                                                  maxGapMs: F.maxGapMs)
        var expected = WindowRates(from: F.t(30), to: F.t(870))
        expected.coveredFrom = F.t(30)
        expected.coveredTo = F.t(870)
        expected.samples = 85
        expected.resets = 1
        // 84 pairs: 82 of 1,000 bytes, the restart's 500 and the unflagged drop's 200.
        expected.bytesIn = 82_700
        expected.bytesOut = 165_400
        // 800 + i for i in 3...87 but 45 and 60: 83 bitrates summing to 70,120.
        expected.bitrateIn = BitrateStats(avg: 82_700.0 * 8 / 840, avgOnline: 70_120.0 / 83, min: 803, max: 887,
                                          last: 887)
        expected.bitrateOut = BitrateStats(avg: 165_400.0 * 8 / 840)
        expected.readerMinutes = 42
        expected.onlineMs = 820_000
        #expect(rates == expected)
    }

    @Test(arguments: Store.allCases)
    func aShortWindowAroundTwoRestartsCountsEachNewValue(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        _ = try await opened.history.append(Self.polls, deliverTo: [])
        _ = try await opened.history.compact()

        let rates = try await opened.history.windowRates(PathRef(name: "cam"), from: F.t(440), to: F.t(610),
                                                         maxGapMs: F.maxGapMs)
        #expect(rates.samples == 18)
        #expect(rates.bytesIn == 500 + 14_000 + 200 + 1_000)
        #expect(rates.resets == 1)
        #expect(rates.bitrateIn.min == 844 && rates.bitrateIn.max == 861 && rates.bitrateIn.last == 861)
    }

    @Test(arguments: Store.allCases)
    func anUnknownPathHasAnEmptyWindow(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        _ = try await opened.history.append(Self.polls, deliverTo: [])
        let rates = try await opened.history.windowRates(PathRef(name: "nope"), from: F.t(0), to: F.t(100),
                                                         maxGapMs: F.maxGapMs)
        #expect(rates == WindowRates(from: F.t(0), to: F.t(100)))
    }
}
