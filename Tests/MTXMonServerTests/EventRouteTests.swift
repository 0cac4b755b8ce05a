import Foundation
import SQLiteHistory
import History
import HummingbirdTesting
import MTXMonCore
import MTXMonServer
import SnapshotCache
import Testing
import TestSupport

/// `GET /api/v1/events`: newest first, filtered, a page at a time with a cursor, as JSON or CSV.
@Suite struct EventRouteTests {
    static let t0: Int64 = 1_800_000_000_000

    @Test func filtersPagesAndCSV() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("e.sqlite"))
        var batches: [PollBatch] = []
        for i in 0..<30 {
            let ts = Self.t0 + Int64(i) * 2_000
            let path = i % 3 == 0 ? "cam1" : "cam2"
            var events = [MonitorEvent(i % 2 == 0 ? .offline : .online, severity: i % 2 == 0 ? .warning : .info, ts: ts,
                                       server: i < 15 ? "a" : "b", path: path, message: "\(path), \"event\" \(i)",
                                       figures: ["i": .number(Double(i)), "why": .text("test")])]
            if i == 29 { events.append(.store(.redisFailing, ts: ts, detail: "refused")) }
            batches.append(PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 1, server: i < 15 ? "a" : "b"),
                                     snapshot: nil, events: events))
        }
        try store.append(batches)
        let environment = APIEnvironment(cache: InProcessSnapshotCache(ttl: .seconds(5)), history: store, intervalMs: 2_000,
                                         now: { Self.t0 + 60_000 })
        try await withAPI(environment) { client in
            var ids: [Int] = []
            var cursor: String?
            var pages = 0
            repeat {
                let uri = "/api/v1/events?from=now-5m&limit=7" + (cursor.map { "&cursor=\($0)" } ?? "")
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok)
                    let body = try object(response)
                    let events = try #require(body["events"] as? [[String: Any]])
                    ids += events.compactMap { $0["id"] as? Int }
                    cursor = body["nextCursor"] as? String
                    if pages == 0 {
                        #expect(events.first?["kind"] as? String == "redis_failing" && events.first?["server"] is NSNull)
                        let second = events[1]
                        #expect(second["server"] as? String == "b" && second["path"] as? String == "cam2")
                        #expect((second["figures"] as? [String: Any])?["why"] as? String == "test")
                    }
                }
                pages += 1
            } while cursor != nil && pages < 10
            #expect(ids == Array((1...31).reversed()), "every event once, newest first, over \(pages) pages")
            #expect(pages == 5)
            try await client.execute(uri: "/api/v1/events?from=now-5m&path=cam1&server=a&severity=warning", method: .get) {
                response in
                let events = try #require(try object(response)["events"] as? [[String: Any]])
                #expect(events.map { $0["message"] as? String } == ["cam1, \"event\" 12", "cam1, \"event\" 6", "cam1, \"event\" 0"])
            }
            try await client.execute(uri: "/api/v1/events?from=now-5m&kind=online&limit=2&format=csv", method: .get) {
                response in
                let lines = String(buffer: response.body).split(separator: "\n")
                #expect(lines.first == "id,ts,time,kind,severity,server,path,connection,message")
                #expect(lines.dropFirst().first?.hasSuffix(",online,info,b,cam2,,\"cam2, \"\"event\"\" 29\"") == true)
                #expect(lines.count == 3)
            }
            for (query, code) in [("kind=gone", "bad_kind"), ("severity=loud", "bad_severity"), ("limit=0", "bad_limit"),
                                  ("cursor=abc", "bad_cursor"), ("from=yesterday", "bad_from")] {
                try await client.execute(uri: "/api/v1/events?\(query)", method: .get) { response in
                    #expect(response.status == .badRequest, "\(query)")
                    let error = try object(response)["error"] as? [String: Any]
                    #expect(error?["code"] as? String == code, "\(query)")
                }
            }
        }
    }
}
