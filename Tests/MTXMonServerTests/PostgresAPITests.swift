import Foundation
import History
import HummingbirdTesting
import MTXMonCore
import MTXMonServer
import PostgresHistory
import SnapshotCache
import SQLiteHistory
import Testing
import TestSupport
import Synchronization

/// The same polls in a SQLite file and in PostgreSQL: every history, rate, connection, event and
/// server answer of the API is the same to the byte, recent rows and sealed alike.
@Suite struct PostgresAPITests {
    /// Two servers' polls: the history fixture's paths (a publisher restart, failed polls) and the
    /// connection fixture's connections, with events now and then.
    static func batches() -> [PollBatch] {
        var batches: [PollBatch] = []
        for server in ["default", "edge"] {
            for i in 0..<ConnectionFixture.polls {
                let ts = ConnectionFixture.ts(i)
                if (40..<45).contains(i) {
                    batches.append(PollBatch(poll: PollRecord(ts: ts, ok: false, durationMs: 1_800, error: "timeout",
                                                              reason: "timeout", server: server), snapshot: nil))
                    continue
                }
                var paths = [HistoryFixture.cam(min(i, 59))]
                if i < 10 { paths.append(HistoryFixture.srt(i)) }
                var snapshot = ConnectionFixture.snapshot(i)
                snapshot.paths = paths + snapshot.paths
                let events = i % 20 == 3 ? [MonitorEvent(.bitrateLow, severity: .warning, ts: ts, server: server,
                                                         path: "live/cam1", message: "bitrate fell", figures: ["ratio": .number(0.25)])] : []
                batches.append(PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 10, pathCount: paths.count, server: server),
                                         snapshot: snapshot.named(server), events: events))
            }
        }
        return batches.sorted { $0.poll.ts < $1.poll.ts }
    }

    static let uris = [
        "/api/v1/servers",
        "/api/v1/history/live/cam1?server=default&from=1800000000&to=now",
        "/api/v1/history/live/cam1?server=edge&from=1800000000&to=now&step=10s&agg=max",
        "/api/v1/history/live/cam1?server=default&from=1800000000&to=now&step=1m&agg=avg&fields=bitrateIn,readers",
        "/api/v1/history/srt/feed?server=edge&from=1800000000&to=now&format=csv",
        "/api/v1/history?from=1800000000&to=now&step=30s",
        "/api/v1/rates/live/cam1?server=default&window=3m",
        "/api/v1/rates/srt/feed?server=edge&window=1h",
        "/api/v1/paths/srt/feed/connections?server=default&from=1800000000",
        "/api/v1/connections/srt-pub-1/history?server=edge&from=1800000000",
        "/api/v1/connections/rtsp-rdr-1/history?server=default&from=1800000000&step=1m&agg=avg",
        "/api/v1/events?from=1800000000&limit=3",
        "/api/v1/events?from=1800000000&server=edge&severity=warning&format=csv",
    ]

    @Test func theAPIAnswersFromPostgreSQLAsFromTheFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let sqlite = try SQLiteHistory(path: dir.file("h.sqlite"), intervalMs: ConnectionFixture.interval, sealEvery: 25)
        let postgres = try await PostgresHistory(url: PostgresURL(PostgresServer.shared().newDatabase()),
                                                 intervalMs: ConnectionFixture.interval, sealEvery: 25)
        defer { postgres.close() }
        let batches = Self.batches()
        for start in stride(from: 0, to: batches.count, by: 20) {
            let part = Array(batches[start..<min(start + 20, batches.count)])
            _ = try await sqlite.append(part, deliverTo: [])
            _ = try await postgres.append(part, deliverTo: [])
            // Some sealed, some recent, as in a running history.
            if start % 60 == 0 {
                _ = try await sqlite.compact()
                _ = try await postgres.compact()
            }
        }
        for uri in Self.uris {
            let file = try await Self.answer(uri, sqlite)
            let database = try await Self.answer(uri, postgres)
            #expect(file.status == 200, "\(uri): \(file.body)")
            #expect(file.body.count > 40, "\(uri) answers something to compare")
            #expect(file.status == database.status && file.body == database.body,
                    "\(uri): the file answers \(file.body.prefix(300)), PostgreSQL \(database.body.prefix(300))")
        }
    }

    static func answer(_ uri: String, _ history: any HistoryReader) async throws -> (status: Int, body: String) {
        let environment = APIEnvironment(cache: InProcessSnapshotCache(ttl: .seconds(60)), history: history,
                                         intervalMs: ConnectionFixture.interval, mediaMTXURL: "http://127.0.0.1:9997",
                                         now: { ConnectionFixture.now })
        let result = Mutex<(Int, String)>((0, ""))
        try await withAPI(environment) { client in
            try await client.execute(uri: uri, method: .get) { response in
                result.withLock { $0 = (Int(response.status.code), text(response)) }
            }
        }
        return result.withLock { $0 }
    }
}
