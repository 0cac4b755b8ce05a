import SQLiteHistory
import History
import HistoryChunks
import MTXMonCore
import Testing
import TestSupport

@Suite struct PruneTests {
    let base = RollupTests.base

    @Test func removesExactlyWhatIsPastEachTierAndNothingNewer() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try RollupTests().store(dir)
        let file = dir.file("r.sqlite")
        let samplesBefore = try Int(sqlite3Blocking(file, "SELECT count(*) FROM history"))!

        let dry = try store.prune(rawBefore: base + 100_000, rollupsBefore: base + 120_000, batch: 7, dryRun: true)
        #expect(dry.samples == 50 && dry.polls == 50 && dry.rollups == 2)
        #expect(try Int(sqlite3Blocking(file, "SELECT count(*) FROM history"))! == samplesBefore, "a dry run deletes nothing")

        // Batches of 7 rows: many transactions, the same result as one.
        let report = try store.prune(rawBefore: base + 100_000, rollupsBefore: base + 120_000, batch: 7)
        #expect(report.samples == 50 && report.polls == 50 && report.rollups == 2)
        #expect(try sqlite3Blocking(file, "SELECT min(ts_ms) - \(base) FROM history") == "100000")
        #expect(try Int(sqlite3Blocking(file, "SELECT count(*) FROM history"))! == samplesBefore - 50)
        #expect(try sqlite3Blocking(file, "SELECT min(ts_ms) - \(base) FROM poll") == "100000")
        #expect(try sqlite3Blocking(file, "SELECT min(minute_ms) - \(base) FROM sample_1m") == "120000")
        #expect(report.freePages > 0, "freed pages stay in the file for new rows")
        #expect(report.hourRollups == 0, "an hour with minutes newer than the cut stays")
        #expect(try store.prune(rawBefore: base, rollupsBefore: base + 3_600_000, batch: 7).hourRollups == 1)

        let again = try store.prune(rawBefore: base + 100_000, rollupsBefore: base + 120_000, batch: 7)
        #expect(again.samples == 0 && again.polls == 0 && again.rollups == 0, "a second run finds nothing")
    }

    /// The collector keeps writing through its own connection while another process prunes.
    @Test func aCollectorWritingMeanwhileLosesNoSample() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try RollupTests().store(dir)
        let file = dir.file("r.sqlite")
        let collector = try SQLiteHistory(path: file)
        let start = base + 1_000_000
        let writes = Task.detached {
            for i in 0..<200 {
                let ts = start + Int64(i) * 2_000
                let sample = PathSample(name: i % 2 == 0 ? "a" : "b", online: true, inboundBytes: Int64(i))
                try collector.append([PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 1),
                                                snapshot: Snapshot(ts: ts, paths: [sample]))])
            }
        }
        var pruned = 0
        for cut in stride(from: base + 60_000, through: base + 420_000, by: 60_000) {
            pruned += try store.prune(rawBefore: cut, rollupsBefore: cut, batch: 3).samples
        }
        try await writes.value
        #expect(pruned == 208, "every old sample went")
        try collector.sealAll()
        #expect(try sqlite3Blocking(file, "SELECT count(*) FROM history WHERE ts_ms >= \(start)") == "200")
        #expect(try sqlite3Blocking(file, "SELECT count(*) FROM poll WHERE ts_ms >= \(start)") == "200")
    }

    /// A collector that never stops and a prune after every hour: once the retention is full, the
    /// rows each prune frees take the next hour's, and the file stops growing.
    @Test func theFileKeepsItsSizeUnderSteadyRetention() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("s.sqlite")
        let store = try SQLiteHistory(path: file)
        let hour: Int64 = 3_600_000
        let retention = 3 * hour
        var pages: [Int] = []
        for h in 0..<9 {
            let batches = (0..<360).map { i -> PollBatch in
                let ts = base + Int64(h) * hour + Int64(i) * 10_000
                let paths = (0..<10).map { p in
                    PathSample(name: "p\(p)", online: true, inboundBytes: (ts - base) * 250, outboundBytes: (ts - base) * 500,
                               bitrateIn: 2_000_000 + Double((i * 7_919 + p) % 50_000), bitrateOut: 4_000_000, readers: 2)
                }
                return PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 5), snapshot: Snapshot(ts: ts, paths: paths))
            }
            try store.append(batches)
            let now = base + Int64(h + 1) * hour
            _ = try store.prune(rawBefore: now - retention, rollupsBefore: now - retention)
            pages.append(try #require(Int(try sqlite3Blocking(file, "PRAGMA page_count"))))
        }
        #expect(pages[2] > pages[0], "the file grew while the retention filled: \(pages)")
        // Full from the fourth hour on (three kept and the one written before the prune). Were
        // freed pages not reused, five more hours would add some 70% to it; the b-trees settle
        // within a few per cent, then stay.
        #expect(pages[8] <= pages[3] + pages[3] / 10, "the file kept growing under steady retention: \(pages)")
        #expect(pages[8] - pages[6] <= pages[6] / 100, "the file kept growing under steady retention: \(pages)")
    }

    /// Minute rollups kept shorter than hour ones: past the minute retention, hour steps still
    /// answer, with the very figures they gave before the minutes went.
    @Test func hourStepsOutliveTheMinuteRollups() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("m.sqlite"))
        try store.append(RateRollupTests.batches())
        let hour: Int64 = 3_600_000
        let firstHour = (RateRollupTests.base / hour + 1) * hour
        let range = HistoryRange(from: firstHour, to: firstHour + 2 * hour - 1, step: hour)
        func points() throws -> [HistoryPoint] {
            try store.read { db in try db.points(pathID: try #require(try db.pathID("cam")), range: range) }
        }
        let before = try points()
        let report = try store.prune(rawBefore: firstHour + 2 * hour, rollupsBefore: 0, minutesBefore: firstHour + 2 * hour)
        #expect(report.rollups == 180 && report.hourRollups == 0)
        #expect(before.count == 2)
        #expect(try points() == before)
    }

    @Test func unsafeRetentionsAreRefusedWithTheFix() {
        #expect(Retention(rawMs: 600_000).problems(force: false).first?.contains("--force") == true)
        #expect(Retention(rawMs: 600_000).problems(force: true).isEmpty)
        #expect(Retention(rawMs: 86_400_000 * 30, rollupMs: 86_400_000).problems(force: false).count == 1)
        #expect(Retention().problems(force: false).isEmpty)
        // A day of rollups would blank most of the dashboard's 7-day chart.
        let day: Int64 = 86_400_000
        #expect(Retention(rawMs: day, rollupMs: day).problems(force: false).first?.contains("at least 7d") == true)
        #expect(Retention(rawMs: day, rollupMs: day).problems(force: true).isEmpty)
        #expect(Retention(rawMs: day, rollupMs: 7 * day).problems(force: false).isEmpty)
        #expect(Retention(rawMs: day, rollupMs: 400 * day, minuteMs: 90 * day).problems(force: false).isEmpty)
        #expect(Retention(rawMs: day, minuteMs: 3 * day).problems(force: false).first?.contains("at least 7d") == true)
        #expect(Retention(rawMs: day, rollupMs: 90 * day, minuteMs: 400 * day).problems(force: false).count == 1)
        #expect(Retention(rawMs: day, minuteMs: 90 * day).cutoffs(now: 1_000 * day) == (999 * day, 910 * day, 600 * day))
    }
}

@Suite struct PrunedRangeTests {
    let base = RollupTests.base

    /// After raw samples are pruned, a raw query over the whole range is answered from the minute
    /// rollups for the pruned part and from raw samples after it, counting no sample twice.
    @Test func aRawQueryReachingPastPrunedSamplesUsesTheRollups() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try RollupTests().store(dir)
        // Raw samples before 2:30 go (mid-minute); rollups are kept.
        _ = try store.prune(rawBefore: base + 150_000, rollupsBefore: base, batch: 1_000)
        let points = try store.read { db in
            let id = try #require(try db.pathID("a"))
            return try db.points(pathID: id, range: HistoryRange(from: base, to: base + 420_000))
        }
        // Minutes 0, 1 and 2 (the partly pruned one) from rollups, then every raw sample from 3:00.
        #expect(points.prefix(3).map(\.t) == [base, base + 60_000, base + 120_000])
        #expect(points.prefix(3).map(\.samples) == [30, 30, 30])
        #expect(points.dropFirst(3).allSatisfy { $0.samples == 1 && $0.t >= base + 180_000 })
        #expect(points.reduce(0) { $0 + $1.samples } == 208, "every sample counted once")

        // Nothing pruned in range: plain raw rows.
        let recent = try store.read { db in
            try db.points(pathID: try #require(try db.pathID("a")), range: HistoryRange(from: base + 200_000, to: base + 260_000))
        }
        #expect(recent.allSatisfy { $0.samples == 1 })
    }
}
