import History
import MTXMonCore
import Synchronization
import Testing

/// Both stores fed the same polls, as the collector derives them from irregular counters, give
/// the same answers to the bit: floating-point sums depend on their order, and the file folds
/// minutes and hours from raw rows and from rollups alike. Checked before and after the file
/// compacts, with recent rows beside compacted ones.
@Suite struct SameAnswersTests {
    typealias F = Fixture

    /// What two MediaMTX servers answer for 2.5 hours every 10 s, derived by the collector's own
    /// rules: `cam` with readers, `srt` with an SRT link and publisher restarts, `flaky` gone for
    /// stretches (offline markers), `edge` down for four minutes (gaps), connections with counters.
    static let polls: [PollBatch] = {
        var feed = Feed()
        return (Int64(0)..<900).flatMap { feed.tick($0) }
    }()

    /// Counters that grow by pseudo-random amounts (a fixed linear congruential sequence), and the
    /// collector's state per server that turns them into samples.
    struct Feed {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var totals: [String: Int64] = [:]
        var paths = ["default": PathStates(maxGapMs: F.maxGapMs), "edge": PathStates(maxGapMs: F.maxGapMs)]
        var connections = ["default": ConnectionTracker(maxGapMs: F.maxGapMs),
                           "edge": ConnectionTracker(maxGapMs: F.maxGapMs)]

        mutating func next(_ bound: Int64) -> Int64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((state >> 33) % UInt64(bound))
        }

        /// The counter `key` after growing by up to `bound`; restarted at 0 every `restartEvery` polls.
        mutating func grow(_ key: String, by bound: Int64, poll i: Int64, restartEvery: Int64 = 0) -> Int64 {
            if restartEvery > 0, i % restartEvery == restartEvery - 1 { totals[key] = 0 }
            totals[key, default: 0] += next(bound)
            return totals[key]!
        }

        /// Both servers' polls of tick `i`, a few milliseconds off the 10 s grid.
        mutating func tick(_ i: Int64) -> [PollBatch] {
            let ts = F.t(10 * i) + next(40)
            return ["default", "edge"].map { server in
                server == "edge" && (300..<324).contains(i) ? F.failed(server, at: ts) : answered(server, i, at: ts)
            }
        }

        mutating func answered(_ server: String, _ i: Int64, at ts: Int64) -> PollBatch {
            var cam = PathSample(name: "cam", online: true, sourceType: "rtspSession", sourceID: "s1",
                                 inboundBytes: grow(server + "cam-in", by: 900_000, poll: i),
                                 outboundBytes: grow(server + "cam-out", by: 2_000_000, poll: i))
            cam.readers = Int(next(6))
            cam.readersByType = ["rtspSession": 1]
            let run = "c\(i / 170)"
            let received = grow(server + "srt-rx", by: 900, poll: i, restartEvery: 170)
            var srt = PathSample(name: "srt", online: true, sourceType: "srtConn", sourceID: run,
                                 inboundBytes: grow(server + "srt-in", by: 1_300_000, poll: i, restartEvery: 170))
            srt.srt = SRTLink(connectionID: run, rttMs: Double(next(9_000)) / 97,
                              recvRateMbps: Double(next(5_000)) / 1_003, linkCapacityMbps: 97.3, tsbpdDelayMs: 120,
                              packetsReceived: received,
                              packetsReceivedLoss: grow(server + "srt-loss", by: 4, poll: i, restartEvery: 170),
                              packetsReceivedRetrans: grow(server + "srt-re", by: 3, poll: i, restartEvery: 170),
                              packetsReceivedDrop: grow(server + "srt-drop", by: 2, poll: i, restartEvery: 170))
            var samples = [cam, srt]
            if i % 100 < 70 {
                let inbound = grow(server + "flaky", by: 400_000, poll: i, restartEvery: 100)
                samples.append(PathSample(name: "flaky", online: true, sourceType: "rtmpConn", sourceID: "f\(i / 100)",
                                          inboundBytes: inbound))
            }
            var publisher = ConnectionSample(id: "pub", proto: .srt, role: .publisher, path: "srt",
                                             remoteAddr: "10.1.1.1:9000", state: "publish",
                                             inboundBytes: grow(server + "pub-in", by: 1_300_000, poll: i))
            publisher.counters.packetsReceived = received
            publisher.counters.packetsReceivedLoss = grow(server + "pub-loss", by: 5, poll: i)
            publisher.rttMs = Double(next(9_000)) / 97
            publisher.jitter = Double(next(100)) / 7
            publisher.latencyMs = 120
            // A new reader every ten minutes.
            let viewer = "reader-\(i / 60)"
            var reader = ConnectionSample(id: viewer, proto: .rtsp, role: .reader, path: "cam",
                                          remoteAddr: "10.2.2.2:\(i / 60)", state: "read",
                                          outboundBytes: grow(server + viewer + "-out", by: 2_000_000, poll: i))
            reader.counters.rtpPacketsSent = grow(server + viewer + "-rtp", by: 1_500, poll: i)
            reader.counters.rtpPacketsReportedLost = grow(server + viewer + "-lost", by: 3, poll: i)
            let derived = paths[server]!.answered(samples, at: ts)
            let measured = connections[server]!.derive([publisher, reader], at: ts)
            return PollBatch(
                poll: PollRecord(ts: ts, ok: true, durationMs: 3, pathCount: samples.count, server: server),
                snapshot: Snapshot(ts: ts, paths: derived, connections: measured).named(server))
        }
    }

    /// Every answer the two stores are compared on.
    struct Answers: Equatable {
        var points: [[HistoryPoint]] = []
        var rates: [WindowRates] = []
        var connectionPoints: [[ConnectionPoint]] = []
        var connectionMinutes: [[ConnectionMinute]] = []
        var exported: [[ExportFormat.Value?]] = []
        var latest: [Snapshot] = []
        var remembered: [[RememberedPath]] = []
    }

    static let ranges: [(Int64, Int64)] = [
        (F.t(0), F.t(9_000)), (F.t(25) + 7, F.t(5_000) + 123), (F.t(3_600), F.t(9_000)), (F.t(1_200), F.t(1_500)),
    ]

    static func answers(_ history: any HistoryWriter) async throws -> Answers {
        var answers = Answers()
        let paths = try await history.paths(server: nil)
        for path in paths {
            for (from, to) in ranges {
                for step in [nil, 20_000, 60_000, 300_000, 3_600_000, 7_200_000] as [Int64?] {
                    for aggregation in Aggregation.allCases {
                        let range = HistoryRange(from: from, to: to, step: step, aggregation: aggregation)
                        answers.points.append(try await history.points(path, range: range))
                    }
                }
                answers.rates.append(try await history.windowRates(path, from: from, to: to, maxGapMs: F.maxGapMs))
            }
        }
        for server in ["default", "edge"] {
            for id in ["pub", "reader-3", "reader-14"] {
                let ref = ConnectionRef(server: server, id: id)
                for (from, to) in ranges {
                    answers.connectionPoints.append(try await history.connectionPoints(ref, from: from, to: to,
                                                                                       through: .counters))
                    answers.connectionMinutes.append(try await history.connectionMinutes(ref, from: from, to: to,
                                                                                         through: .counters))
                }
            }
            answers.remembered.append(try await history.rememberedPaths(server: server, since: F.t(0)))
        }
        let exported = Mutex<[[ExportFormat.Value?]]>([])
        try await history.exportPaths(from: F.t(1_000), to: F.t(2_000), path: nil, server: nil) { row in
            exported.withLock { $0.append(ExportFormat.values(row)) }
        }
        try await history.exportConnections(from: F.t(1_000), to: F.t(2_000), id: nil, server: nil) { row in
            exported.withLock { $0.append(ExportFormat.values(row)) }
        }
        answers.exported = exported.withLock { $0 }
        answers.latest = try await history.latestSnapshots(forgetAfterMs: 3_600_000)
        return answers
    }

    /// Each field apart, and within it the first answer and element that differ, so a difference
    /// names what differs rather than printing thousands of points.
    static func compare(_ a: Answers, _ b: Answers, _ stage: String) {
        same(a.points, b.points, "points \(stage)")
        same(a.rates.map { [$0] }, b.rates.map { [$0] }, "rates \(stage)")
        same(a.connectionPoints, b.connectionPoints, "connection points \(stage)")
        same(a.connectionMinutes, b.connectionMinutes, "connection minutes \(stage)")
        same([a.exported], [b.exported], "exports \(stage)")
        same([a.latest], [b.latest], "latest snapshots \(stage)")
        same(a.remembered, b.remembered, "remembered paths \(stage)")
    }

    static func same<T: Equatable>(_ a: [[T]], _ b: [[T]], _ what: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        guard a != b else { return }
        guard a.count == b.count else {
            Issue.record("\(what): \(a.count) answers against \(b.count)", sourceLocation: sourceLocation)
            return
        }
        for (i, (x, y)) in zip(a, b).enumerated() where x != y {
            let j = (0..<min(x.count, y.count)).first { x[$0] != y[$0] } ?? min(x.count, y.count)
            let left = j < x.count ? "\(x[j])" : "nothing", right = j < y.count ? "\(y[j])" : "nothing"
            Issue.record("\(what): answer \(i), element \(j): the store \(left), memory \(right)",
                         sourceLocation: sourceLocation)
            return
        }
    }

    @Test(arguments: [Store.sqlite, Store.postgres])
    func theStoreGivesTheSameAnswersAsMemoryToTheBit(_ store: Store) async throws {
        let sqlite = try await store.open()
        let memory = try await Store.memory.open()
        defer { sqlite.close() }
        let half = Self.polls.count / 2
        for part in [Self.polls[..<half], Self.polls[half...]] {
            for start in stride(from: part.startIndex, to: part.endIndex, by: 100) {
                let batches = Array(part[start..<min(start + 100, part.endIndex)])
                for opened in [sqlite, memory] { _ = try await opened.history.append(batches, deliverTo: []) }
            }
            let stage = part.startIndex == 0 ? "after the first half" : "after all of it"
            Self.compare(try await Self.answers(sqlite.history), try await Self.answers(memory.history), "\(stage) (\(store))")
            _ = try await sqlite.history.compact()
            Self.compare(try await Self.answers(sqlite.history), try await Self.answers(memory.history),
                         stage + ", compacted (\(store))")
        }
        #expect(try await Self.answers(memory.history).points.contains { $0.count > 100 }, "the answers hold rows")
    }
}
