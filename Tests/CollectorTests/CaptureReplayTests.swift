@testable import Collector
import AsyncHTTPClient
import Foundation
import NIOPosix
import SQLiteHistory
import History
import Logging
import MediaMTXClient
import MediaMTXSimulator
import MTXMonCore
import SnapshotCache
import Testing
import TestSupport

/// The collector through replies captured from a real MediaMTX v1.20.1, poll by poll, on the
/// capture's own clock: the figures asserted here are worked out by hand from the captures (see
/// each fixture's README for the timeline).
@Suite struct CaptureReplayTests {
    /// What one replay left: every published snapshot by step, the live events, the history file.
    struct Run: Sendable {
        var snapshots: [Snapshot] = []
        var events: [MonitorEvent] = []
        var replay: Replay
        var file: String
        var store: SQLiteHistory

        func t(_ step: Int) -> Int64 { replay.t(at: step) }

        func rows(_ sql: String) async throws -> [String] {
            try await sqlite3(file, sql).split(separator: "\n").map(String.init)
        }
    }

    static let logger: Logger = {
        var logger = Logger(label: "test.replay")
        logger.logLevel = .critical
        return logger
    }()

    /// The process's client gives a connect 2 s; a loaded machine accepting late must not add a
    /// failed poll the capture did not have, so the replay's client waits as long as its deadline.
    static let patientHTTP: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(30)
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// Polls every step of the capture once, stamping each reading with the capture's time.
    func replay(_ directory: URL, into dir: TemporaryDirectory) async throws -> Run {
        let replay = try Replay(directory: directory)
        let file = dir.file("replay.sqlite")
        let store = try SQLiteHistory(path: file)
        return try await withReplayServer(replay) { server, url in
            let cache = InProcessSnapshotCache(ttl: .seconds(3_600))
            let clock: @Sendable () -> Int64 = { replay.t(at: replay.step) }
            let collector = Collector(
                client: MediaMTXClient(endpoint: MediaMTXEndpoint(baseURL: url, requestTimeout: .seconds(30)),
                                       http: Self.patientHTTP, clock: clock),
                // The capture's 2 s interval sets the runs; the deadline is long so that a loaded
                // machine serving the replay slowly adds no failed poll the capture did not have.
                cache: cache, store: store, settings: CollectorSettings(interval: .seconds(2), pollDeadline: .seconds(60)),
                logger: Self.logger)
            var state = await collector.initialState()
            var run = Run(replay: replay, file: file, store: store)
            for step in 0..<replay.stepCount {
                try await server.go(to: step)
                await collector.pollOnce(&state)
                let snapshot = try #require(try await cache.latest())
                try #require(snapshot.ts == replay.t(at: step) || !snapshot.answered, "step \(step) was polled")
                try #require(snapshot.answered || replay.isRefused(at: step),
                             "step \(step) was answered in the capture, not here: \(snapshot.error ?? "no error")")
                run.events += snapshot.events ?? []
                run.snapshots.append(snapshot)
            }
            // As the collector does when it stops: every row sealed and rolled up.
            try await store.sealAllOffThread()
            return run
        }
    }

    func resets(_ run: Run, _ path: String) async throws -> [String: Int] {
        let raw = try Int(await sqlite3(run.file, "SELECT count(*) FROM history WHERE path = '\(path)' AND reset = 1"))
        let minutes = try Int(await sqlite3(run.file, "SELECT total(resets) FROM history_1m WHERE path = '\(path)'")
            .replacingOccurrences(of: ".0", with: ""))
        let hours = try Int(await sqlite3(run.file, "SELECT total(resets) FROM history_1h WHERE path = '\(path)'")
            .replacingOccurrences(of: ".0", with: ""))
        let first = run.t(0), last = run.t(run.replay.stepCount - 1)
        let (raws, rollups) = try await run.store.readOffThread { db -> (Int, Int) in
            let id = try #require(try db.pathID(path))
            // Under ten minutes the raw samples answer; from 1970 on, the rollups do.
            return (try db.windowRates(pathID: id, from: first - 1, to: last, maxGapMs: 7_000).resets,
                    try db.windowRates(pathID: id, from: 0, to: last + 60_000, maxGapMs: 7_000).resets)
        }
        let events = run.events.filter { $0.kind == .reset && $0.path == path }.count
        let stored = try Int(await sqlite3(run.file, "SELECT count(*) FROM event WHERE kind = 'reset' AND path = '\(path)'"))
        return ["stored reset events": stored ?? -1, "history": raw ?? -1, "history_1m": minutes ?? -1, "history_1h": hours ?? -1, "rates": raws,
                "rates from rollups": rollups, "reset events": events]
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: Fixtures.outagesDirectory.path)))
    func outagesCaptureToldAsItHappened() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let run = try await replay(Fixtures.outagesDirectory, into: dir)

        // One restart rule: srt1 restarted at 134 s (new publisher), rtmp1 at 296 s, and all three
        // after MediaMTX's restart (cam1 in the first answered poll, the others a poll later).
        for (path, count) in [("cam1", 1), ("srt1", 2), ("rtmp1", 2)] {
            let told = try await resets(run, path)
            #expect(Set(told.values) == [count], "\(path): \(told)")
        }

        // Offline: srt1 vanished at step 62 (124 s), rtmp1 at 132 (264 s); both were absent from the
        // first poll answered after MediaMTX came back (step 192). One marker row each time.
        #expect(try await run.rows("SELECT ts_ms FROM history WHERE path = 'srt1' AND online = 0")
            == ["\(run.t(62))", "\(run.t(192))"])
        #expect(try await run.rows("SELECT ts_ms FROM history WHERE path = 'rtmp1' AND online = 0")
            == ["\(run.t(132))", "\(run.t(192))"])
        #expect(try await run.rows("SELECT count(*) FROM history WHERE path = 'cam1' AND online = 0") == ["0"])
        let away = try #require(run.snapshots[64].path(named: "srt1"))
        #expect(away.state == .offline && away.since == run.t(62) && away.listed == false)
        #expect(away.lastSeen?.ts == run.t(61))
        #expect(run.snapshots[64].path(named: "cam1")?.state == .online)
        #expect(run.events.contains { $0.kind == .offline && $0.path == "srt1" && $0.ts == run.t(62) })
        #expect(run.events.contains { $0.kind == .online && $0.path == "srt1" && $0.ts == run.t(67) })
        // The story as stored, step by step (connections and readers aside): each change once, at
        // the poll that showed it; MediaMTX's outage as one event with its cause, and its end.
        let story = try await run.rows("""
            SELECT ts_ms, kind, coalesce(path, '-'), severity, coalesce(json_extract(figures, '$.status'), '') FROM event
            WHERE kind NOT IN ('connected', 'disconnected', 'readers_joined', 'readers_left') ORDER BY id
            """).map { row -> String in
            let f = row.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let step = (0..<run.replay.stepCount).first { run.t($0) == Int64(f[0]) }
            return "\(step.map(String.init) ?? f[0]) \(f[1]) \(f[2]) \(f[3])\(f[4].isEmpty ? "" : " " + f[4])"
        }
        #expect(story == [
            "2 online cam1 info", "2 online srt1 info", "3 online rtmp1 info",
            "62 offline srt1 warning", "65 incident srt1 critical firing",
            "67 online srt1 info", "67 reset srt1 warning", "72 incident srt1 critical resolved",
            "132 offline rtmp1 warning", "135 incident rtmp1 critical firing",
            "148 online rtmp1 info", "148 reset rtmp1 warning", "153 incident rtmp1 critical resolved",
            "182 server_unreachable - warning", "184 incident - critical firing", "192 server_back - info",
            "192 reset cam1 warning", "192 source_changed cam1 info", "192 offline rtmp1 warning", "192 offline srt1 warning",
            "193 online rtmp1 info", "193 reset rtmp1 warning", "193 online srt1 info", "193 reset srt1 warning",
            "197 incident - critical resolved",
            // The capture ends with MediaMTX stopped for good: an outage still open.
            "292 server_unreachable - warning", "294 incident - critical firing",
        ])
        // The incidents as the API folds them: the graceful publisher restart, the killed
        // publisher and MediaMTX's restart each opened and resolved once, each with its true
        // bounds; the end of the capture is an outage still open. Nothing else is critical.
        let incidents = Dictionary(grouping: run.events.compactMap(Incident.init), by: \.id)
            .values.compactMap(\.last).sorted { $0.start < $1.start }
        #expect(incidents.map { "\($0.cause.rawValue) \($0.path ?? "-") \($0.status.rawValue)" } == [
            "offline srt1 resolved", "offline rtmp1 resolved", "server_unreachable - resolved", "server_unreachable - firing",
        ])
        #expect(incidents.map(\.start) == [run.t(62), run.t(132), run.t(182), run.t(292)])
        #expect(incidents.map(\.end) == [run.t(67), run.t(148), run.t(192), nil])
        #expect(incidents.allSatisfy { $0.count == 1 })
        #expect(incidents[2].paths == ["cam1", "rtmp1", "srt1"], "the outage lists the streams it took down")
        #expect(!run.events.contains { $0.severity == .critical && $0.kind != .incident })
        #expect(try await run.rows("SELECT figures FROM event WHERE kind = 'server_unreachable' LIMIT 1") == [#"{"reason":"refused"}"#])
        #expect(try await run.rows("SELECT message FROM event WHERE kind = 'server_back'")
            == ["MediaMTX answers again after 20 s (10 failed polls)"])
        // What the collector published carries the stored events, ids and all.
        let published = run.snapshots.flatMap { $0.events ?? [] }
        #expect(published.count == Int(try await run.rows("SELECT count(*) FROM event").first ?? "") ?? -1)
        #expect(published.allSatisfy { $0.id != nil })

        // MediaMTX down, steps 182–191: refused polls, no samples, every path unknown.
        // The first may find the pooled connection to the stopped server closed under it (`network`).
        #expect(try await run.rows("""
            SELECT count(*) FROM poll WHERE ok = 0 AND ts_ms BETWEEN \(run.t(182)) AND \(run.t(191))
            """) == ["10"])
        #expect(try await run.rows("""
            SELECT count(*) FROM poll WHERE ok = 0 AND reason = 'refused' AND ts_ms BETWEEN \(run.t(183)) AND \(run.t(191))
            """) == ["9"])
        let refused = run.replay.refusedStretches.reduce(0) { $0 + $1.count }
        #expect(try await run.rows("SELECT count(*) FROM poll WHERE ok = 0") == ["\(refused)"], "and from 578 s on, for good")
        for step in 182...191 {
            let snapshot = run.snapshots[step]
            #expect(!snapshot.answered)
            #expect(snapshot.paths.map(\.state) == [.unknown, .unknown, .unknown], "step \(step)")
            #expect(snapshot.paths.allSatisfy { $0.bitrateIn == nil && !$0.online })
            #expect(snapshot.serverVersion == nil, "a version not read is unknown")
            #expect(snapshot.paths.allSatisfy { $0.since == run.t(182) })
        }
        #expect(try await run.rows("SELECT count(*) FROM sample WHERE ts_ms BETWEEN \(run.t(182)) AND \(run.t(191))") == ["0"])
        #expect(run.snapshots[192].answered && run.snapshots[192].path(named: "cam1")?.state == .online)

        // Bitrates on the capture's clock equal the counters' own: cam1 between steps 99 and 100.
        let lines = try Fixtures.records("paths_list", in: Fixtures.outagesDirectory)
        func inbound(_ step: Int) throws -> Int64 {
            let data = try #require(lines[step].body)
            let body = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let items = try #require(body["items"] as? [[String: Any]])
            return try #require((items.first { $0["name"] as? String == "cam1" }?["inboundBytes"] as? NSNumber)?.int64Value)
        }
        let byHand = (Double(try inbound(100) - inbound(99)) * 8_000 / Double(run.t(100) - run.t(99))).rounded()
        #expect(run.snapshots[100].path(named: "cam1")?.bitrateIn == byHand)
        let steady = try #require(Double(try await sqlite3(run.file, """
            SELECT avg(bitrate_in_bps) FROM history WHERE path = 'cam1' AND ts_ms BETWEEN \(run.t(20)) AND \(run.t(100))
            """)))
        #expect(abs(steady - 2_151_000) / 2_151_000 < 0.005, "cam1 ≈ 2.151 Mbit/s, the README says: \(steady)")

        // The SRT publisher that came back after MediaMTX's restart read idle with 0 bytes, then
        // 1.67 MB as a publisher: that first interval has no bitrate, so no connection point is
        // above what its path carried, beyond SRT's overhead (6–7 %).
        let spikes = try await run.rows("""
            SELECT c.ts_ms, c.bitrate_in_bps, s.bitrate_in_bps FROM connection_history c
            JOIN history s ON s.path = c.path AND s.ts_ms = c.ts_ms
            WHERE c.path = 'srt1' AND c.role = 'publisher' AND c.bitrate_in_bps > s.bitrate_in_bps * 1.12
            """)
        #expect(spikes.isEmpty, "\(spikes)")
        #expect(try await run.rows("""
            SELECT count(*) FROM connection_history WHERE path = 'srt1' AND role = 'publisher' AND bitrate_in_bps IS NOT NULL
            """).first.flatMap { Int($0) } ?? 0 > 100)

        // A connection created after the previous poll counts its counters as increases at its
        // first poll; one already there at mtxmon's first poll has none.
        let firstRows = try await run.rows("""
            SELECT c.id, c.first_ts_ms, s.lost IS NOT NULL FROM connection c
            JOIN connection_history s ON s.id = c.id AND s.ts_ms = c.first_ts_ms
            WHERE c.protocol = 'srt' ORDER BY c.first_ts_ms
            """)
        #expect(!firstRows.isEmpty)
        for row in firstRows {
            let fields = row.split(separator: "|")
            #expect(fields[2] == (Int64(fields[1]) == run.t(0) ? "0" : "1"), "\(row)")
        }

        // An average over the window counts the outage; the average while online does not.
        let first = run.t(0), last = run.t(run.replay.stepCount - 1)
        let rates = try await run.store.readOffThread { db in
            try db.windowRates(pathID: try #require(try db.pathID("cam1")), from: first, to: last, maxGapMs: 7_000)
        }
        let online = try #require(rates.bitrateIn.avgOnline)
        #expect(online >= rates.bitrateIn.min ?? 0 && online <= rates.bitrateIn.max ?? 0)
        #expect(abs(online - 2_151_000) / 2_151_000 < 0.01, "avgOnline \(online)")
        #expect(rates.bitrateIn.avg ?? 0 < online)
        #expect(rates.onlineMs > 0 && rates.onlineMs < rates.coveredMs)
    }

    @Test(.enabled(if: Fixtures.available))
    func liveCaptureToldAsItHappened() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let run = try await replay(Fixtures.liveDirectory, into: dir)
        // The SRT publisher stopped at 60 s and came back under a new id: one restart, counted once
        // everywhere; the others never restarted.
        let srt = try await resets(run, "srt1")
        #expect(Set(srt.values) == [1], "\(srt)")
        for path in ["cam1", "live1"] {
            let told = try await resets(run, path)
            #expect(Set(told.values) == [0], "\(path): \(told)")
        }
        // While it was away it was offline, with one marker row, not a gap like an outage.
        #expect(try await run.rows("SELECT count(*) FROM history WHERE path = 'srt1' AND online = 0") == ["1"])
        #expect(try await run.rows("SELECT count(*) FROM poll WHERE ok = 0") == ["0"])
        // The configured path without a publisher is listed offline throughout, never a restart.
        #expect(run.snapshots.last?.path(named: "idle")?.state == .offline)
        // The README's timeline as events: the SRT publisher away at 60 s (and MediaMTX closing its
        // reader), back at 64 s under a new id, its reader at 70 s, cam1's UDP reader gone at 120 s.
        let story = try await run.rows("SELECT ts_ms, kind, coalesce(path, '-') FROM event WHERE path = 'srt1' OR ts_ms > \(run.t(50)) ORDER BY id")
            .map { row -> String in
                let f = row.split(separator: "|").map(String.init)
                let step = (0..<run.replay.stepCount).first { run.t($0) == Int64(f[0]) }
                return "\(step.map(String.init) ?? f[0]) \(f[1]) \(f[2])"
            }
        #expect(story == [
            "2 online srt1", "2 connected srt1", "4 readers_joined srt1", "4 connected srt1",
            "30 offline srt1", "30 readers_left srt1", "30 disconnected srt1", "30 disconnected srt1",
            "33 online srt1", "33 reset srt1", "33 connected srt1", "36 readers_joined srt1", "36 connected srt1",
            "60 readers_left cam1", "60 disconnected cam1",
        ])
        #expect(try await run.rows("SELECT message FROM event WHERE kind = 'readers_left' AND path = 'cam1'")
            == ["1 reader left cam1: 1 now"])
    }
}
