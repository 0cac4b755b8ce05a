@testable import SQLiteHistory
import History
import HistoryChunks
import MTXMonCore
import Testing
import TestSupport

/// Connection samples go to SQLite with the poll, are read back by id, and leave with the raw
/// retention, their connection with its last sample.
@Suite struct ConnectionStoreTests {
    static let base: Int64 = 1_800_000_000_000

    func connection(_ id: String, role: ConnectionRole, bytes: Int64, lost: Int64?) -> ConnectionSample {
        var sample = ConnectionSample(id: id, proto: .srt, role: role, path: "cam", remoteAddr: "10.0.0.1:5000",
                                      state: role == .publisher ? "publish" : "read", inboundBytes: bytes)
        sample.rttMs = 20
        sample.latencyMs = 120
        sample.counters.packetsReceivedLoss = lost
        if let lost {
            var deltas = ConnectionCounters()
            deltas.packetsReceivedLoss = lost
            sample.deltas = deltas
        }
        return sample
    }

    @Test func storedReadBackAndPruned() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("c.sqlite"), sealEvery: 10)
        var batches: [PollBatch] = []
        for i in 0..<20 {
            let ts = Self.base + Int64(i) * 2_000
            // The first publisher leaves after poll 9; another id takes over.
            var connections = [connection(i < 10 ? "old" : "new", role: .publisher, bytes: Int64(i) * 1_000,
                                          lost: i == 0 || i == 10 ? nil : 1)]
            connections.append(connection("reader", role: .reader, bytes: 0, lost: nil))
            batches.append(PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 3),
                                     snapshot: Snapshot(ts: ts, paths: [PathSample(name: "cam", online: true)],
                                                        connections: connections)))
        }
        try store.append(batches)
        try store.append(Array(batches.prefix(3)))  // a retried write adds nothing
        try store.read { db in
            let old = try #require(try db.keyedConnection(id: "old"))
            #expect(old.role == "publisher")
            #expect(old.path == "cam")
            #expect(old.firstTs == Self.base)
            #expect(old.lastTs == Self.base + 18_000)
            let points = try db.connectionPoints(key: old.key, from: 0, to: .max)
            #expect(points.count == 10)
            #expect(points.map(\.lost) == [nil] + Array(repeating: 1, count: 9))
            let links = try db.linkSamples(ids: ["new"], now: Self.base + 38_000)
            #expect(links["new"]?.samples.count == 10)
            #expect(links["new"]?.samples.compactMap(\.lost).reduce(0, +) == 9)
        }
        #expect(try sqlite3Blocking(dir.file("c.sqlite"), "SELECT count(*) FROM connection_history") == "40")

        // The minute rollups: one per connection, the figures of the raw rows folded.
        let minutes = try sqlite3Blocking(dir.file("c.sqlite"), """
            SELECT id, samples, lost, rtt_ms_avg, latency_ms FROM connection_history_1m ORDER BY id
            """)
        #expect(minutes == "new|10|9|20.0|120\nold|10|9|20.0|120\nreader|20||20.0|120")
        try store.read { db in
            let new = try #require(try db.keyedConnection(id: "new"))
            let points = try db.connectionMinutes(key: new.key, from: Self.base, to: Self.base + 60_000)
            #expect(points.map(\.t) == [Self.base])
            #expect(points.first?.lost == 9)
            #expect(points.first?.inboundBytes == 19_000)
        }

        let report = try store.prune(rawBefore: Self.base + 20_000, rollupsBefore: Self.base + 20_000, batch: 3)
        // The first chunk: ten polls of the path, the old publisher's and the reader's first ten.
        #expect(report.chunks == 1 && report.samples == 10)
        #expect(report.rollups == 1 + 3)              // the path's minute and the three connections'
        #expect(report.connections == 1)
        try store.read { db in
            #expect(try db.keyedConnection(id: "old") == nil)
            let reader = try #require(try db.keyedConnection(id: "reader"))
            #expect(try db.connectionPoints(key: reader.key, from: 0, to: .max).count == 10)
        }
    }

    /// A day of viewers arriving and leaving: the writer remembers the recent ones only, and
    /// one that comes back after being forgotten is found again under its key.
    @Test func theWriterForgetsConnectionsGoneForAWhileAndAReturningOneKeepsItsKey() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("c.sqlite"))
        let forget = ConnectionKeyCache.forgetAfterPolls
        let polls = 8 * forget
        let perPoll = 5
        for i in 0..<polls {
            let ts = Self.base + Int64(i) * 2_000
            var connections = [connection("publisher", role: .publisher, bytes: Int64(i) * 1_000, lost: nil)]
            // Each poll, new viewers with a connection id of their own; each stays two polls.
            for j in 0..<perPoll {
                connections.append(connection("viewer-\(i)-\(j)", role: .reader, bytes: 0, lost: nil))
                if i > 0 { connections.append(connection("viewer-\(i - 1)-\(j)", role: .reader, bytes: 0, lost: nil)) }
            }
            // One viewer at the first poll and again near the end, long after being forgotten.
            if i == 0 || i == polls - 2 {
                connections.append(connection("returning", role: .reader, bytes: 0, lost: nil))
            }
            try store.append([PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 3),
                                        snapshot: Snapshot(ts: ts, paths: [PathSample(name: "cam", online: true)],
                                                           connections: connections))])
            if i == 0 {
                let first = try store.read { db in try db.keyedConnection(id: "returning")?.key }
                #expect(first != nil)
            }
        }
        // At most the connections of the last 2 × `forget` polls (and the viewers still there from
        // the poll before them), not the 1,200 seen.
        #expect(store.rememberedConnectionKeys <= 2 + (2 * forget + 1) * perPoll)
        #expect(store.rememberedConnectionKeys >= 1 + perPoll)
        #expect(try sqlite3Blocking(dir.file("c.sqlite"), "SELECT count(*) FROM connection") == "\(2 + polls * perPoll)")
        try store.read { db in
            let returning = try #require(try db.keyedConnection(id: "returning"))
            #expect(returning.firstTs == Self.base)
            #expect(returning.lastTs == Self.base + Int64(polls - 2) * 2_000)
            #expect(try db.connectionPoints(key: returning.key, from: 0, to: .max).map(\.t)
                    == [Self.base, Self.base + Int64(polls - 2) * 2_000])
            let publisher = try #require(try db.keyedConnection(id: "publisher"))
            #expect(try db.connectionPoints(key: publisher.key, from: 0, to: .max).count == polls)
        }
    }

    /// Pruned while remembered: a connection's row deleted while the writer still knows its key
    /// is written again as a new row when the id comes back, with nothing of the poll refused.
    @Test func aRememberedConnectionWhoseRowWasPrunedGetsANewRow() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("c.sqlite"))
        func poll(_ ts: Int64, _ ids: [String]) -> PollBatch {
            PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 3),
                      snapshot: Snapshot(ts: ts, paths: [PathSample(name: "cam", online: true)],
                                         connections: ids.map { connection($0, role: .reader, bytes: 0, lost: nil) }))
        }
        try store.append([poll(Self.base, ["gone", "stays"])])
        try store.append([poll(Self.base + 600_000, ["stays"])])
        let report = try store.prune(rawBefore: Self.base + 300_000, rollupsBefore: Self.base + 300_000, batch: 100)
        #expect(report.connections == 1)
        let appended = try store.append([poll(Self.base + 602_000, ["gone", "stays"])])
        #expect(appended.skipped.isEmpty)
        try store.read { db in
            let gone = try #require(try db.keyedConnection(id: "gone"))
            #expect(gone.firstTs == Self.base + 602_000)
            #expect(try db.connectionPoints(key: gone.key, from: 0, to: .max).map(\.t) == [Self.base + 602_000])
        }
    }
}
