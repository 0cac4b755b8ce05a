import SQLiteHistory
import History
import HistoryChunks
import MTXMonCore
import Testing
import TestSupport

/// Rates over long windows come from the minute rollups' increases and must equal the rates the
/// raw samples give, across resets, an outage and a new SRT connection, whatever the edges.
@Suite struct RateRollupTests {
    static let base: Int64 = 1_800_000_000_000 + 17_000  // not on a minute
    static let polls = 3 * 1_800 + 300                    // 3 h 10 min at 2 s
    static let maxGap: Int64 = 7_000

    /// One path: 1 Mbit/s in, readers 0–4, a publisher reconnect at poll 2,000, MediaMTX down
    /// for polls 3,000–3,019, an SRT link whose counters restart at poll 4,500.
    static func batches() -> [PollBatch] {
        (0..<polls).compactMap { i -> PollBatch? in
            let ts = base + Int64(i) * 2_000
            if (3_000..<3_020).contains(i) { return PollBatch(poll: PollRecord(ts: ts, ok: false, durationMs: 1_800), snapshot: nil) }
            let run = Int64(i < 2_000 ? i : i - 2_000)
            let connection = Int64(i < 4_500 ? i : i - 4_500)
            let sample = PathSample(
                name: "cam", online: true, inboundBytes: 250_000 * run + Int64(i % 7) * 10, outboundBytes: 500_000 * run,
                bitrateIn: run == 0 ? nil : 1_000_000 + Double(i % 13) * 1_000, bitrateOut: run == 0 ? nil : 2_000_000,
                readers: (i / 97) % 5, reset: i == 2_000,
                srt: SRTLink(connectionID: i < 4_500 ? "a" : "b", rttMs: 20, packetsReceived: 900 * connection,
                             packetsReceivedLoss: connection / 9, packetsReceivedRetrans: connection / 4,
                             packetsReceivedDrop: connection / 100))
            return PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 5), snapshot: Snapshot(ts: ts, paths: [sample]))
        }
    }

    func expectSame(_ joined: WindowRates, _ raw: WindowRates, _ comment: Comment) {
        #expect(joined.samples == raw.samples, comment)
        #expect(joined.coveredFrom == raw.coveredFrom, comment)
        #expect(joined.coveredTo == raw.coveredTo, comment)
        #expect(joined.resets == raw.resets, comment)
        #expect(joined.bytesIn == raw.bytesIn, comment)
        #expect(joined.bytesOut == raw.bytesOut, comment)
        #expect(joined.bitrateIn == raw.bitrateIn, comment)
        #expect(joined.bitrateOut == raw.bitrateOut, comment)
        #expect(abs(joined.readerMinutes - raw.readerMinutes) < 1e-6, comment)
        #expect(joined.srt == raw.srt, comment)
    }

    @Test func longWindowsFromRollupsEqualTheRawSamples() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("r.sqlite"))
        try store.append(Self.batches())
        let end = Self.base + Int64(Self.polls) * 2_000
        let windows: [(Int64, Int64)] = [
            (Self.base, end),                                  // everything
            (Self.base + 123_457, end - 7_001),                // neither edge on a minute
            (1_800_000_060_000, 1_800_003_660_000 + 60_000),   // both edges on minutes, just over an hour
            (Self.base + 3_990_000, end),                      // starts just before the reset
            (Self.base + 5_999_000, Self.base + 5_999_000 + 3_600_001),  // across the outage
            (Self.base + 777_777, Self.base + 777_777 + 3_600_000),      // an hour, as the dashboard asks
            (Self.base + 3_900_000, Self.base + 3_900_000 + 600_001),    // just over ten minutes, across the reset
        ]
        try store.read { db in
            let id = try #require(try db.pathID("cam"))
            for (from, to) in windows {
                let raw = WindowRates.compute(try db.counterRows(pathID: id, from: from, to: to), from: from, to: to,
                                              maxGapMs: Self.maxGap)
                let joined = try db.windowRates(pathID: id, from: from, to: to, maxGapMs: Self.maxGap)
                let reconnect = Self.base + 4_000_000
                #expect(raw.resets == (from <= reconnect && reconnect <= to ? 1 : 0))
                expectSame(joined, raw, "window \(from)…\(to)")
            }
            // The raw answer itself is right: 2,000 polls of 250,000 bytes before the reconnect, and
            // the new run's counter (added whole at the reset) plus its increases after.
            let all = try db.windowRates(pathID: id, from: Self.base, to: end, maxGapMs: Self.maxGap)
            #expect(all.resets == 1)
            #expect(all.srt?.packetsReceived == 900 * Int64(4_499) + 900 * Int64(Self.polls - 1 - 4_500))
        }
    }

    /// After `prune`, a window reaching back past the raw samples is answered in whole minutes
    /// there: it starts at the first whole minute, with the pair of samples entering it, and
    /// counts every later pair once, as the raw samples did before the prune.
    @Test func aWindowAcrossPrunedSamplesCountsEachPairOnce() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("p.sqlite"))
        try store.append(Self.batches())
        let end = Self.base + Int64(Self.polls) * 2_000
        let from = Self.base + 600_000 + 5_000
        let firstMinute = (from / 60_000 + 1) * 60_000
        let expected = try store.read { db -> WindowRates in
            let id = try #require(try db.pathID("cam"))
            let rows = try db.counterRows(pathID: id, from: firstMinute - 60_000, to: end)
            let entering = try #require(rows.lastIndex { $0.ts < firstMinute })
            return WindowRates.compute(Array(rows[entering...]), from: from, to: end, maxGapMs: Self.maxGap)
        }
        let report = try store.prune(rawBefore: Self.base + 7_200_000 + 31_000, rollupsBefore: 0)
        #expect(report.samples > 3_000)
        #expect(report.rollups == 0)
        let after = try store.read { db in
            try db.windowRates(pathID: try #require(try db.pathID("cam")), from: from, to: end, maxGapMs: Self.maxGap)
        }
        #expect(after.bytesIn == expected.bytesIn)
        #expect(after.bytesOut == expected.bytesOut)
        #expect(after.resets == expected.resets)
        #expect(after.srt?.packetsReceived == expected.srt?.packetsReceived)
        #expect(after.srt?.packetsLost == expected.srt?.packetsLost)
        #expect(after.srt?.packetsRetransmitted == expected.srt?.packetsRetransmitted)
        #expect(after.srt?.packetsDropped == expected.srt?.packetsDropped)
        #expect(abs(after.readerMinutes - expected.readerMinutes) < 1e-6)
        #expect(after.samples == expected.samples - 1)  // the entering sample is before the window
        #expect(after.coveredTo == expected.coveredTo)
    }
}
