import Foundation
import SQLiteHistory
import History
import MTXMonCore
import Testing
import TestSupport

/// `mtxmon run` killed with SIGKILL at random moments, over and over, while it writes polls and
/// seals them into chunks every few polls: every poll the file says was answered has each path's
/// row exactly once, each connection's at most once (all of a list or none), and the file is sound.
@Suite struct KillLoopTests {
    @Test func sixtyKillsLoseNoCommittedSampleAndDoubleNone() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("k.sqlite")
        let paths = 12
        let (simulator, simPort) = try await launchListening {
            ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "\(paths)", "--readers", "2", "--srt-every", "4"]
        }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var polls = 0
        for round in 0..<60 {
            // A seal every 3 polls: kills land in writes and in seals alike.
            let run = try launchMTXMon(
                ["run", "--mediamtx", "http://127.0.0.1:\(simPort)", "--db", db, "--interval", "100ms",
                 "--listen", "127.0.0.1:\(try freePort())"],
                environment: ["MTXMON_SEAL_EVERY": "3"])
            defer { if run.isRunning { kill(run.processIdentifier, SIGKILL) } }
            // The kill comes at a random moment after this run wrote its first poll.
            try await eventually("round \(round) writes a poll") { await Self.answered(db) > polls || !run.isRunning }
            try #require(run.isRunning, "mtxmon run exited by itself in round \(round)")
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...350, using: &generator)))
            kill(run.processIdentifier, SIGKILL)
            try await eventually("round \(round) is gone") { !run.isRunning }
            kills += 1
            polls = await Self.answered(db)
        }
        #expect(kills >= 50)
        #expect(try await sqlite3(db, "PRAGMA integrity_check") == "ok")

        // Read through the same code the API and `mtxmon export` use, recent rows and chunks alike.
        let store = try SQLiteHistory(path: db)
        let answered = Set(try await sqlite3(db, "SELECT ts_ms FROM poll WHERE ok = 1").split(separator: "\n").compactMap { Int64($0) })
        #expect(answered.count >= 60)
        var pathRows: [String: [Int64]] = [:]
        try store.exportPaths(from: 0, to: .max) { pathRows[$0.path, default: []].append($0.row.ts) }
        #expect(pathRows.count == paths)
        for (name, times) in pathRows {
            #expect(times.count == Set(times).count, "\(name): a poll stored twice")
            #expect(Set(times) == answered, "\(name): \(answered.subtracting(times).count) answered polls missing")
        }
        // A connection's row is in its path's row, so it is lost only with that row. What can be
        // missing is a whole connection list MediaMTX did not answer in time while the paths
        // were answered (the poll is kept, the list's connections are not): at every answered
        // poll, each protocol's connections are all there or all missing, never some of them.
        var connectionRows: [String: (proto: String, times: [Int64])] = [:]
        try store.exportConnections(from: 0, to: .max) {
            connectionRows[$0.id, default: ($0.proto, [])].times.append($0.row.ts)
        }
        #expect(connectionRows.count == paths * 3)
        for (id, rows) in connectionRows {
            #expect(rows.times.count == Set(rows.times).count, "connection \(id): a poll stored twice")
            #expect(Set(rows.times).isSubset(of: answered), "connection \(id): a row at a poll not answered")
        }
        for proto in Set(connectionRows.values.map(\.proto)) {
            let lists = connectionRows.filter { $0.value.proto == proto }.mapValues { Set($0.times) }
            for ts in answered {
                let present = lists.values.filter { $0.contains(ts) }.count
                #expect(present == 0 || present == lists.count,
                        "\(proto) at \(ts): \(lists.count - present) of \(lists.count) connections missing")
            }
        }
        // On a loaded machine lists miss the 100 ms polls' deadline often; what is stored of them
        // is whole, and every connection was stored at some poll.
        #expect(connectionRows.values.allSatisfy { !$0.times.isEmpty })
        // A path's chunks never overlap: each poll is in one place.
        let overlaps = try await sqlite3(db, """
            SELECT count(*) FROM chunk AS a JOIN chunk AS b ON a.path_id = b.path_id AND a.first_ts < b.first_ts
            AND b.first_ts <= a.last_ts
            """)
        #expect(overlaps == "0")
        #expect(try Int(await sqlite3(db, "SELECT count(*) FROM chunk")) ?? 0 > 0, "seals happened between the kills")
    }

    static func answered(_ db: String) async -> Int { await pollCount(db) }
}
