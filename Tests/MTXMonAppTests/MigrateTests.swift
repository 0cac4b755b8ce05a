import Foundation
import History
import MTXMonCore
import SQLiteHistory
import Testing
import TestSupport

/// `mtxmon migrate --from FILE --to postgres://…` copies a history whole: run again it stores
/// nothing twice, the counts match, and `mtxmon export` of the database prints what it prints of
/// the file, to the byte. `prune` works on the database as on the file.
@Suite struct MigrateTests {
    @Test func aCopiedHistoryExportsAsTheFileAndACopyRunAgainAddsNothing() async throws {
        let pg = try await PostgresServer.shared()
        let url = try pg.newDatabase()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("m.sqlite")
        let store = try SQLiteHistory(path: db, sealEvery: 50)
        let base: Int64 = 1_700_000_000_000
        for i in 0..<300 {
            let ts = base + Int64(i) * 2_000
            for server in ["default", "edge"] {
                // A poll MediaMTX did not answer now and then: a gap, kept as one.
                guard i % 37 != 5 else {
                    try store.append([PollBatch(poll: PollRecord(ts: ts, ok: false, durationMs: 1, error: "refused",
                                                                 reason: "refused", server: server), snapshot: nil)])
                    continue
                }
                var reader = ConnectionSample(id: "r\(i / 100)", proto: .srt, role: .reader, path: "cam",
                                              outboundBytes: Int64(i % 100) * 700)
                reader.rttMs = Double(i % 9) + 0.25
                let publisher = ConnectionSample(id: "p", proto: .rtmp, role: .publisher, path: "cam", inboundBytes: Int64(i) * 1_000)
                let idle = ConnectionSample(id: "idle", proto: .rtsp, role: .idle, path: nil)
                let paths = [PathSample(name: "cam", online: true, inboundBytes: Int64(i) * 1_000, readers: 1),
                             PathSample(name: "b", online: i % 50 < 40, inboundBytes: Int64(i % 50) * 10)]
                let events = i % 60 == 0 ? [MonitorEvent(.readersJoined, severity: .info, ts: ts, server: server, path: "cam",
                                                         message: "a reader joined", figures: ["readers": .number(1)])] : []
                try store.append([PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 3, server: server),
                                            snapshot: Snapshot(ts: ts, paths: paths, connections: [reader, publisher, idle]).named(server),
                                            events: events)])
            }
        }
        try await store.finish()

        for run in 1...2 {
            let copy = try await runToEnd(mtxmonBinary, ["migrate", "--from", db, "--to", url])
            #expect(copy.status == 0, "run \(run): \(copy.stderr)")
            #expect(copy.stdout.contains("done: the counts match"), "run \(run): \(copy.stdout)")
        }
        let polls = try pg.query(url, "SELECT count(*) FROM poll").first?.first
        #expect(polls == "600", "every poll once, though copied twice")

        for arguments in [["--from", "0"], ["--from", "0", "--connection", "r1", "--server", "default"], ["--from", "0", "--connection", "idle", "--server", "edge"],
                          ["--from", "0", "--format", "jsonl", "--server", "edge"]] {
            let file = try await runToEnd(mtxmonBinary, ["export", "--db", db] + arguments)
            let database = try await runToEnd(mtxmonBinary, ["export", "--db", url] + arguments)
            #expect(file.status == 0 && database.status == 0, "\(file.stderr) \(database.stderr)")
            #expect(file.stdout.split(separator: "\n").count > 90, "\(arguments): rows to compare")
            #expect(file.stdout == database.stdout, "export \(arguments) of the copy differs from the file's")
        }
        #expect(try pg.query(url, "SELECT count(*) FROM event").first?.first == "10")

        let prune = try await runToEnd(mtxmonBinary, ["prune", "--db", url, "--older-than", "1d", "--force"])
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(try pg.query(url, "SELECT count(*) FROM poll").first?.first == "0", "all of it is older than a day")
        #expect(try pg.query(url, "SELECT count(*) FROM chunk").first?.first == "0")
    }
}
