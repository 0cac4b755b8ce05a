import SQLiteHistory
import History
import HistoryChunks
import MTXMonCore
import Testing
import TestSupport

/// Minute rollups must give the answer the raw samples give, whatever the range's edges.
@Suite struct RollupTests {
    static let base: Int64 = 1_800_000_000_000

    /// Seven minutes at 2 s with bitrates that vary, a first sample without bitrate, a reset,
    /// two failed polls and an SRT link on every third poll.
    func store(_ dir: TemporaryDirectory) throws -> SQLiteHistory {
        // Chunks of 20 s, so that prunes in these tests cut close to where they are asked to.
        let store = try SQLiteHistory(path: dir.file("r.sqlite"), sealEvery: 10)
        let batches = Self.batches()
        try store.append(batches)
        try store.append(Array(batches.prefix(20)))  // a retried write must not count twice
        return store
    }

    static func batches() -> [PollBatch] {
        var batches: [PollBatch] = []
        for i in 0..<210 where i != 100 && i != 101 {
            let ts = Self.base + Int64(i) * 2_000
            let bitrate: Double? = i == 0 || i == 150 ? nil : 1_000_000 + Double((i * 7_919) % 50_000)
            // SRT counters restart with a new connection at poll 120.
            let packets = Int64(i < 120 ? i : i - 120)
            let srt = i % 3 == 0 ? SRTLink(connectionID: "c", rttMs: 10 + Double(i % 11), recvRateMbps: 2,
                                           linkCapacityMbps: 40 + Double(i % 5), packetsReceived: packets * 100,
                                           packetsReceivedLoss: packets / 7, packetsReceivedRetrans: packets / 3,
                                           packetsReceivedDrop: packets / 50) : nil
            let sample = PathSample(name: "a", online: i % 40 != 39, inboundBytes: Int64(i < 150 ? i : i - 150) * 1_000,
                                    outboundBytes: Int64(i) * 2_000, bitrateIn: bitrate, bitrateOut: bitrate.map { $0 / 2 },
                                    readers: i % 4, reset: i == 150, srt: srt)
            batches.append(PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 5), snapshot: Snapshot(ts: ts, paths: [sample])))
        }
        return batches
    }

    @Test(arguments: [60_000, 120_000, 300_000] as [Int64])
    func steppedAnswersFromRollupsEqualTheRawFold(step: Int64) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try store(dir)
        let ranges: [(Int64, Int64)] = [(0, 420_000), (17_000, 401_000), (61_000, 119_999), (5_000, 50_000), (0, 59_999)]
        for aggregation in Aggregation.allCases {
            for (from, to) in ranges {
                let range = HistoryRange(from: Self.base + from, to: Self.base + to, step: step, aggregation: aggregation)
                let (fast, slow) = try store.read { db in
                    let id = try #require(try db.pathID("a"))
                    return (try db.points(pathID: id, range: range), try db.points(pathID: id, range: range, rollups: false))
                }
                expectSamePoints(fast, slow, "\(aggregation) \(from)…\(to)")
            }
        }
    }

    /// Hour steps read the hour rollups for whole hours, minutes and raw samples at the edges:
    /// over three hours with a reconnect, an outage and a new SRT connection, every bucket is the
    /// raw fold's.
    @Test(arguments: [3_600_000, 7_200_000] as [Int64])
    func hourStepsFromRollupsEqualTheRawFold(step: Int64) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("h.sqlite"))
        try store.append(RateRollupTests.batches())
        let base = RateRollupTests.base
        let end = base + Int64(RateRollupTests.polls) * 2_000
        let ranges: [(Int64, Int64)] = [
            (base - 17_000, end), (base + 123_457, end - 61_001), (base + 3_583_000, base + 7_183_000 - 1),
            (base + 1_000, base + 3_000_000),
        ]
        for aggregation in Aggregation.allCases {
            for (from, to) in ranges {
                let range = HistoryRange(from: from, to: to, step: step, aggregation: aggregation)
                let (fast, slow) = try store.read { db in
                    let id = try #require(try db.pathID("cam"))
                    return (try db.points(pathID: id, range: range), try db.points(pathID: id, range: range, rollups: false))
                }
                #expect(!fast.isEmpty)
                expectSamePoints(fast, slow, "\(aggregation) \(from - base)…\(to - base)")
            }
        }
    }

    func expectSamePoints(_ fast: [HistoryPoint], _ slow: [HistoryPoint], _ comment: String) {
        #expect(fast.count == slow.count, "\(comment)")
        for (a, b) in zip(fast, slow) {
            #expect(a.t == b.t && a.samples == b.samples && a.online == b.online && a.reset == b.reset, "\(comment)")
            #expect(a.inboundBytes == b.inboundBytes && a.outboundBytes == b.outboundBytes, "\(comment)")
            for (x, y) in [(a.bitrateIn, b.bitrateIn), (a.bitrateOut, b.bitrateOut), (a.readers, b.readers),
                           (a.rttMs, b.rttMs), (a.recvRateMbps, b.recvRateMbps),
                           (a.linkCapacityMbps, b.linkCapacityMbps)] {
                // Sums added in another order may differ in the last bits.
                #expect((x == nil) == (y == nil) && abs((x ?? 0) - (y ?? 0)) <= 1e-6 * abs(y ?? 1),
                        "\(comment) t=\(a.t): \(String(describing: x)) vs \(String(describing: y))")
            }
        }
    }

    @Test func theMinuteViewAgreesWithTheSamples() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try store(dir)
        let file = dir.file("r.sqlite")
        let fromView = try sqlite3Blocking(file, """
            SELECT group_concat(samples || ':' || round(bitrate_in_avg, 3) || ':' || readers_max, ' ')
            FROM (SELECT * FROM history_1m WHERE path = 'a' ORDER BY minute_ms)
            """)
        let fromSamples = try sqlite3Blocking(file, """
            SELECT group_concat(n || ':' || round(b, 3) || ':' || r, ' ') FROM (
                SELECT count(*) AS n, avg(bitrate_in_bps) AS b, max(readers) AS r FROM history
                GROUP BY ts_ms / 60000 ORDER BY ts_ms / 60000)
            """)
        #expect(fromView == fromSamples)
        #expect(try sqlite3Blocking(file, "SELECT sum(samples) FROM sample_1m") == "208")
    }

    /// A file from before rollups gets them when migrated, equal to what the writer produces.
    @Test func migratingAnOlderFileBackfillsTheSameMinutes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try SQLiteHistory(path: dir.file("w.sqlite"))
        try writer.append(Self.batches())
        try writer.sealAll()
        try LegacyFile.write(Self.batches(), to: dir.file("l.sqlite"), version: 1)
        _ = try SQLiteHistory(path: dir.file("l.sqlite"))
        // Every column but `online_ms`, which rollups made before chunks do not have.
        let columns = try sqlite3Blocking(dir.file("w.sqlite"),
                                  "SELECT group_concat(name) FROM pragma_table_info('sample_1m') WHERE name != 'online_ms'")
        let everything = "SELECT \(columns) FROM sample_1m ORDER BY path_id, minute_ms"
        let written = try sqlite3Blocking(dir.file("w.sqlite"), everything)
        #expect(written.split(separator: "\n").count == 7)
        expectSameLines(try sqlite3Blocking(dir.file("l.sqlite"), everything), written)
    }

    /// A file from before hour rollups gets them from its minutes, equal to what the writer
    /// produces (sums to nine digits: the backfill adds the minutes in its own order).
    @Test func migratingAnOlderFileBackfillsTheSameHours() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = try SQLiteHistory(path: dir.file("w.sqlite"))
        try writer.append(RateRollupTests.batches())
        try writer.sealAll()
        try LegacyFile.write(RateRollupTests.batches(), to: dir.file("l.sqlite"), version: 5)
        _ = try SQLiteHistory(path: dir.file("l.sqlite"))
        let figures = ["bitrate_in", "bitrate_out", "readers", "rtt", "recv_rate", "link_cap"]
        let sums = figures.map { "round(\($0)_sum, 3)" }.joined(separator: ", ")
        let others = figures.flatMap { ["\($0)_n", "\($0)_min", "\($0)_max", "\($0)_last"] }.joined(separator: ", ")
        let everything = """
            SELECT path_id, hour_ms, samples, online, resets, last_ts_ms, inbound_bytes, outbound_bytes, \(sums), \(others),
                   first_ts_ms, in_increase, out_increase, reader_ms, pair_resets, srt_received_inc, srt_lost_inc,
                   srt_retrans_inc, srt_dropped_inc
            FROM sample_1h ORDER BY path_id, hour_ms
            """
        let written = try sqlite3Blocking(dir.file("w.sqlite"), everything)
        #expect(written.split(separator: "\n").count == 4)
        expectSameLines(try sqlite3Blocking(dir.file("l.sqlite"), everything), written)
    }

    func expectSameLines(_ backfilled: String, _ written: String) {
        for (a, b) in zip(backfilled.split(separator: "\n"), written.split(separator: "\n")) where a != b {
            Issue.record("backfilled \(a)\nwritten    \(b)")
        }
        #expect(backfilled.split(separator: "\n").count == written.split(separator: "\n").count)
    }
}
