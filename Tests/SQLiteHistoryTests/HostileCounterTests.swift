import Foundation
@testable import SQLiteHistory
import History
import HistoryChunks
import MTXMonCore
import Testing
import TestSupport

/// Counters no MediaMTX sends, written straight to the store as a file from an older mtxmon may
/// hold them: every write, seal, roll-up and read must answer without trapping, and the file must
/// open again.
@Suite struct HostileCounterTests {
    static let extremes: [Int64] = [-1, 0, .max, .min, 1, .max - 1, 1 << 53, -(1 << 40), 42, .max / 2]

    /// Polls every 2 s whose path and connection counters walk through `values` (and jumps between them).
    static func batches(values: [Int64], start: Int64 = 1_700_000_000_000, server: String = ServerName.default)
        -> [PollBatch] {
        values.enumerated().map { i, v in
            let ts = start + Int64(i) * 2_000
            var counters = ConnectionCounters()
            for k in 0..<ConnectionCounters.count { counters[k] = i % 3 == 0 ? v : v &+ Int64(k) }
            var connection = ConnectionSample(id: "c1", proto: .srt, role: .publisher, path: "p", state: "publish",
                                              inboundBytes: v, outboundBytes: v &* 3, counters: counters)
            connection.deltas = counters
            connection.bitrateIn = i % 2 == 0 ? Double(v) : nil
            connection.rttMs = Double(v)
            connection.latencyMs = v
            connection.createdMs = v
            var reader = ConnectionSample(id: "r\(i % 2)", proto: .rtsp, role: .reader, path: "p", state: "read",
                                          inboundBytes: v &- 1, outboundBytes: v, counters: counters)
            reader.jitter = Double(v)
            let srt = SRTLink(connectionID: "c1", rttMs: Double(v), recvRateMbps: -1, linkCapacityMbps: Double(v),
                              tsbpdDelayMs: v, packetsReceived: v, packetsReceivedLoss: v &- 7,
                              packetsReceivedRetrans: v, packetsReceivedDrop: v)
            var path = PathSample(name: "p", online: i % 4 != 3, sourceType: "srtConn", sourceID: "c1",
                                  inboundBytes: v, outboundBytes: v == .min ? .max : -v,
                                  bitrateIn: Double(v) * 8, bitrateOut: i % 2 == 0 ? nil : Double(v),
                                  readers: Int(truncatingIfNeeded: v % 1_000), readersByType: ["rtspSession": 1],
                                  inboundFramesInError: v, reset: i % 5 == 0, srt: srt)
            path.server = server
            let snapshot = Snapshot(ts: ts, paths: [path], connections: [connection, reader], server: server)
            return PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: v, pathCount: 1, server: server),
                             snapshot: snapshot)
        }
    }

    /// Every read the API and the commands make, over the whole span and in steps.
    static func readEverything(_ store: SQLiteHistory, from: Int64, to: Int64) throws {
        try store.read { db in
            guard let id = try db.pathID("p") else {
                Issue.record("path p missing")
                return
            }
            for step: Int64? in [nil, 2_000, 10_000, 60_000, 3_600_000] {
                for aggregation in Aggregation.allCases {
                    let range = HistoryRange(from: from - 3_600_000, to: to + 3_600_000, step: step,
                                             aggregation: aggregation)
                    _ = try db.points(pathID: id, range: range)
                    _ = try db.points(pathID: id, range: range, rollups: false)
                }
            }
            for window: Int64 in [2_000, 60_000, 600_000, 7_200_000] {
                _ = try db.windowRates(pathID: id, from: to - window, to: to, maxGapMs: 7_000)
            }
            _ = try db.counterRows(pathID: id, from: from, to: to)
            _ = try db.storedPaths(pathID: id, from: from, to: to)
            _ = try db.latestSnapshots()
            _ = try db.rememberedPaths(since: from)
            for id in ["c1", "r0", "r1"] {
                guard let info = try db.keyedConnection(id: id) else { continue }
                _ = try db.connectionPoints(key: info.key, from: from, to: to)
                _ = try db.connectionMinutes(key: info.key, from: from - 60_000, to: to + 60_000)
                _ = try db.connectionMinuteRows(key: info.key, from: from - 60_000, to: to + 60_000)
            }
            _ = try db.linkSamples(ids: ["c1"], now: to)
        }
        try store.exportPaths(from: from, to: to) { _ in }
        try store.exportConnections(from: from, to: to) { _ in }
    }

    @Test(arguments: 0..<6)
    func extremeCountersSealRollUpAndAnswerEveryQuery(seed: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        var random = SeededGenerator(seed: UInt64(seed))
        // Random walks through the extremes, with runs of ordinary growth between them.
        var values: [Int64] = []
        for _ in 0..<150 {
            if random.next() % 4 == 0 {
                values.append(Self.extremes[Int(random.next() % UInt64(Self.extremes.count))])
            } else {
                values.append((values.last ?? 0) &+ Int64(random.next() % 1_000_000))
            }
        }
        let batches = Self.batches(values: values)
        let from = batches.first!.poll.ts, to = batches.last!.poll.ts
        do {
            let store = try SQLiteHistory(path: file, sealEvery: 17)
            for group in stride(from: 0, to: batches.count, by: 7) {
                try store.append(Array(batches[group..<min(batches.count, group + 7)]))
            }
            try Self.readEverything(store, from: from, to: to)
            try store.sealAll()
            try Self.readEverything(store, from: from, to: to)
            try store.finish()
        }
        // The file opens again and answers; a prune goes through it.
        let reopened = try SQLiteHistory(path: file, sealEvery: 17)
        try Self.readEverything(reopened, from: from, to: to)
        _ = try reopened.prune(rawBefore: from + 60_000, rollupsBefore: from, batch: 10)
        try Self.readEverything(reopened, from: from, to: to)
    }

    @Test func minusOneThenTheLargestCounterAfterThePathVanishedSealsAndReopens() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        var batches = Self.batches(values: [-1, .max])
        // The path is gone from the second poll: only its connection carries the extreme value.
        batches[1].snapshot?.paths = []
        do {
            let store = try SQLiteHistory(path: file, sealEvery: 2)
            try store.append(batches)
            try store.sealAll()
            try store.finish()
        }
        let store = try SQLiteHistory(path: file, sealEvery: 2)
        try store.append(Self.batches(values: [5, 10, .max, 20], start: batches[1].poll.ts + 2_000))
        try store.sealAll()
        try Self.readEverything(store, from: batches[0].poll.ts, to: batches[1].poll.ts + 10_000)
    }
}

/// SplitMix64, so each argument of a property test is the same run every time.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct QuarantineTests {
    static func polls(_ count: Int, from start: Int64) -> [PollBatch] {
        (0..<count).map { i in
            let ts = start + Int64(i) * 2_000
            let paths = ["p", "q"].map { name in
                PathSample(name: name, online: true, sourceType: "rtspSession", sourceID: "s-\(name)",
                           inboundBytes: Int64(i) * 500_000, outboundBytes: Int64(i) * 250_000,
                           bitrateIn: i == 0 ? nil : 2_000_000, readers: 1)
            }
            return PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 5, pathCount: 2),
                             snapshot: Snapshot(ts: ts, paths: paths))
        }
    }

    @Test func aDamagedRecentRowIsMovedAsideAndTheRestIsSealed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let start: Int64 = 1_796_000_040_000
        let store = try SQLiteHistory(path: file, sealEvery: 1_000)
        try store.append(Self.polls(10, from: start))
        _ = try sqlite3Blocking(file, """
            UPDATE recent SET data = X'00FF00' WHERE ts_ms = \(start + 6_000)
              AND path_id = (SELECT id FROM path WHERE name = 'p')
            """)
        let report = try store.sealAll()
        #expect(report.quarantined == 1)
        #expect(try sqlite3Blocking(file, "SELECT count(*) FROM recent") == "0")
        #expect(try sqlite3Blocking(file, "SELECT kind, first_ts FROM quarantine") == "recent|\(start + 6_000)")
        let summary = try store.read { try $0.quarantine() }
        #expect(summary.count == 1)
        try store.read { db in
            let p = try #require(try db.pathID("p")), q = try #require(try db.pathID("q"))
            #expect(try db.storedPaths(pathID: p, from: start, to: start + 20_000).count == 9)
            #expect(try db.storedPaths(pathID: q, from: start, to: start + 20_000).count == 10)
        }
    }

    @Test func aDamagedChunkIsMovedAsideWhenARollUpReadsIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        // A minute that is not over when the first seal runs: the next seal rolls it up again.
        let start: Int64 = 1_796_000_040_000
        do {
            let store = try SQLiteHistory(path: file, sealEvery: 1_000)
            try store.append(Self.polls(5, from: start))
            try store.sealAll()
        }
        _ = try sqlite3Blocking(file, "UPDATE chunk SET data = X'01FF' WHERE path_id = (SELECT id FROM path WHERE name = 'q')")
        // Opened again, the writer has no roll-up sums in memory: it reads the chunks back.
        let store = try SQLiteHistory(path: file, sealEvery: 1_000)
        try store.append(Self.polls(40, from: start + 10_000))
        let report = try store.sealAll()
        #expect(report.quarantined == 1)
        #expect(try sqlite3Blocking(file, "SELECT kind FROM quarantine") == "chunk")
        try store.read { db in
            let q = try #require(try db.pathID("q"))
            // What the damaged chunk held is gone; everything after it is there and rolled up.
            #expect(try db.storedPaths(pathID: q, from: start, to: start + 200_000).count == 40)
            let range = HistoryRange(from: start, to: start + 200_000, step: 60_000)
            #expect(!(try db.points(pathID: q, range: range)).isEmpty)
        }
    }
}
