import Foundation
@testable import SQLiteHistory
import History
import HistoryChunks
import MTXMonCore
import Testing
import TestSupport

@Suite struct SQLiteHistoryTests {
    func sqlite(_ file: String, _ sql: String) throws -> String { try sqlite3Blocking(file, sql) }

    @Test func migratesAnEmptyFileAndRecordsTheVersion() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let store = try SQLiteHistory(path: file)
        #expect(try store.schemaVersion() == Migration.embedded.last?.version)
        #expect(try sqlite(file, "PRAGMA journal_mode") == "wal")
        #expect(try sqlite(file, "SELECT group_concat(version) FROM schema_migrations") == "1,2,3,4,5,6,7,8,9,10,11,12,13")
        // Opening again applies nothing twice.
        _ = try SQLiteHistory(path: file)
        #expect(try sqlite(file, "SELECT count(*) FROM schema_migrations") == "\(Migration.embedded.count)")
    }

    @Test func theEmbeddedMigrationsAreTheFilesInMigrations() throws {
        let folder = packageRoot.appendingPathComponent("migrations")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        let files = try names.compactMap { Migration(fileName: $0, sql: try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)) }
        #expect(files == Migration.embedded)
        #expect(files.map(\.version) == Array(1...files.count))
    }

    @Test func aFileFromANewerVersionIsRefusedWithAnExplanation() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        _ = try SQLiteHistory(path: file)
        _ = try sqlite(file, "INSERT INTO schema_migrations VALUES (999, 'future', 0)")
        #expect { try SQLiteHistory(path: file) } throws: { "\($0)".contains("newer mtxmon") }
    }

    @Test func aPollIsWrittenWholeAndAgainIsHarmless() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let store = try SQLiteHistory(path: file)
        let srt = SRTLink(connectionID: "c1", rttMs: 20.5, recvRateMbps: 4, linkCapacityMbps: 100, tsbpdDelayMs: 120,
                          packetsReceived: 1_000, packetsReceivedLoss: 3, packetsReceivedRetrans: 2, packetsReceivedDrop: 1)
        let snapshot = Snapshot(ts: 1_000, paths: [
            PathSample(name: "a/b", online: true, sourceType: "srtConn", inboundBytes: 500, outboundBytes: 1_000,
                       bitrateIn: 4_000, bitrateOut: 8_000, readers: 2, readersByType: ["srtConn": 1, "rtspSession": 1],
                       inboundFramesInError: 0, srt: srt),
            PathSample(name: "idle", online: false),
        ])
        let batch = PollBatch(poll: PollRecord(ts: 1_000, ok: true, durationMs: 12, pathCount: 2), snapshot: snapshot)
        try store.append([batch])
        try store.append([batch])
        #expect(try sqlite(file, "SELECT count(*) FROM history") == "2")
        // Retried after its rows were sealed into chunks, the poll still counts once.
        try store.sealAll()
        try store.append([batch])
        #expect(try sqlite(file, "SELECT count(*) FROM history") == "2")
        #expect(try sqlite(file, "SELECT count(*) FROM poll") == "1")
        let row = try sqlite(file, """
            SELECT path, ts_ms, online, inbound_bytes, outbound_bytes, bitrate_in_bps, bitrate_out_bps, readers, rtt_ms,
                   recv_rate_mbps, link_capacity_mbps FROM history WHERE path = 'a/b'
            """)
        #expect(row == "a/b|1000|1|500|1000|4000.0|8000.0|2|20.5|4.0|100.0")
        #expect(try sqlite(file, "SELECT readers_by_type FROM history WHERE readers = 2") == #"{"rtspSession":1,"srtConn":1}"#)
        #expect(try sqlite(file, "SELECT bitrate_in_bps IS NULL, rtt_ms IS NULL FROM history WHERE path = 'idle'") == "1|1")
    }

    @Test func theViewsForSQLiteHaveTheDocumentedColumns() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        _ = try SQLiteHistory(path: file)
        func columns(_ view: String) throws -> String {
            try sqlite(file, "SELECT group_concat(name, ',') FROM pragma_table_info('\(view)')")
        }
        #expect(try columns("history_chunks") == "server,path,first_ts_ms,last_ts_ms,rows,bytes")
        #expect(try columns("history_1m").hasPrefix("server,path,minute_ms,samples,online,resets,bitrate_in_avg"))
        #expect(try columns("history_1h").hasPrefix("server,path,hour_ms,samples,online,resets,bitrate_in_avg"))
    }

    @Test func failedPollsAreRecordedWithoutSamples() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let store = try SQLiteHistory(path: file)
        try store.append([PollBatch(poll: PollRecord(ts: 5, ok: false, durationMs: 1_800, error: "MediaMTX is unreachable"), snapshot: nil)])
        #expect(try sqlite(file, "SELECT ok, duration_ms, error FROM poll") == "0|1800|MediaMTX is unreachable")
        #expect(try sqlite(file, "SELECT count(*) FROM recent") == "0")
    }

    @Test func aWriteBlockedByAnotherWriterFailsWithoutLosingTheBatchAndSucceedsLater() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let store = try SQLiteHistory(path: file, busyTimeoutMs: 50)
        let other = try SQLiteConnection(path: file)
        try other.execute("BEGIN IMMEDIATE")
        let batch = PollBatch(poll: PollRecord(ts: 9, ok: true, durationMs: 1, pathCount: 1),
                              snapshot: Snapshot(ts: 9, paths: [PathSample(name: "x", online: true)]))
        #expect { try store.append([batch]) } throws: { ($0 as? SQLiteError)?.isBusy == true }
        try other.execute("COMMIT")
        try store.append([batch])
        #expect(try sqlite(file, "SELECT count(*) FROM history WHERE path = 'x'") == "1")
    }
}

/// A `collect` and a `serve` started together on a new file both migrate it: one does, the
/// other finds it done, whichever gets the write lock first.
@Suite struct ConcurrentMigrationTests {
    @Test func twoOpenersOfANewFileBothSucceed() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("new.sqlite")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { _ = try SQLiteHistory(path: file) }
            }
            try await group.waitForAll()
        }
        #expect(try sqlite3Blocking(file, "SELECT count(*) FROM schema_migrations") == String(Migration.embedded.count))
    }
}
