import Foundation
import HTTPTypes
import History
import HummingbirdTesting
import MTXMonCore
import MTXMonServer
import NIOCore
import SnapshotCache
import SQLiteHistory
import Testing
import TestSupport

/// `GET /api/v1/incidents` folds the stored `incident` events into incidents; `/api/v1/silences`
/// makes, lists and ends silences in the history, with the token when one is set.
@Suite struct IncidentRouteTests {
    static let t0: Int64 = 1_800_000_000_000

    static func batches() -> [PollBatch] {
        var offline = Incident(id: "inc-1", cause: .offline, server: "a", path: "cam1", start: t0, severity: .critical,
                               detail: "no publisher")
        var outage = Incident(id: "inc-2", cause: .serverUnreachable, server: "b", path: nil, start: t0 + 30_000,
                              severity: .critical, detail: "connection refused")
        outage.paths = ["x", "y"]
        var events = [offline.event(at: t0 + 6_000), outage.event(at: t0 + 34_000)]
        offline.count = 2
        offline.end = t0 + 40_000
        events.append(offline.event(at: t0 + 50_000))
        return events.map { PollBatch(poll: PollRecord(ts: $0.ts, ok: true, durationMs: 1, server: $0.server ?? "a"),
                                      snapshot: nil, events: [$0]) }
    }

    @Test func incidentsFoldTheirEventsOpenAndResolved() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("i.sqlite"))
        try store.append(Self.batches())
        let environment = APIEnvironment(cache: InProcessSnapshotCache(ttl: .seconds(5)), history: store, intervalMs: 2_000,
                                         now: { Self.t0 + 60_000 })
        try await withAPI(environment) { client in
            try await client.execute(uri: "/api/v1/incidents?from=now-1h", method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                let incidents = try #require(body["incidents"] as? [[String: Any]])
                #expect(incidents.map { $0["id"] as? String } == ["inc-2", "inc-1"], "newest start first")
                #expect(incidents.map { $0["status"] as? String } == ["firing", "resolved"])
                #expect(body["open"] as? Int == 1)
                #expect(incidents.last?["count"] as? Int == 2 && incidents.last?["end"] as? Int64 == Self.t0 + 40_000)
                #expect(incidents.last?["durationMs"] as? Int == 40_000)
                #expect(incidents.first?["paths"] as? [String] == ["x", "y"] && incidents.first?["end"] is NSNull)
                #expect(incidents.first?["durationMs"] as? Int == 30_000, "open: until now")
            }
            try await client.execute(uri: "/api/v1/incidents?from=now-1h&state=open&server=b", method: .get) { response in
                let incidents = try #require(try object(response)["incidents"] as? [[String: Any]])
                #expect(incidents.map { $0["id"] as? String } == ["inc-2"])
            }
            try await client.execute(uri: "/api/v1/incidents?from=now-1h&cause=offline&format=csv", method: .get) { response in
                let lines = String(buffer: response.body).split(separator: "\n")
                #expect(lines.first?.hasPrefix("id,status,cause,severity,peak,server,path,start,start_time,end") == true)
                #expect(lines.count == 2 && lines.last?.hasPrefix("inc-1,resolved,offline,critical,critical,a,cam1,") == true)
            }
            // Resolved before the range: not in it.
            try await client.execute(uri: "/api/v1/incidents?from=now-10s", method: .get) { response in
                let incidents = try #require(try object(response)["incidents"] as? [[String: Any]])
                #expect(incidents.map { $0["id"] as? String } == ["inc-2"])
            }
            for (query, code) in [("state=maybe", "bad_state"), ("cause=gone", "bad_cause"), ("from=later", "bad_from")] {
                try await client.execute(uri: "/api/v1/incidents?\(query)", method: .get) { response in
                    #expect(response.status == .badRequest)
                    let error = try object(response)["error"] as? [String: Any]
                    #expect(error?["code"] as? String == code, "\(query)")
                }
            }
        }
    }

    @Test func silencesAreMadeListedAndEndedWithTheToken() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("s.sqlite"))
        var environment = APIEnvironment(cache: InProcessSnapshotCache(ttl: .seconds(5)), history: store, intervalMs: 2_000,
                                         apiToken: "t0ken", now: { Self.t0 })
        environment.writer = store
        let auth: HTTPFields = [.authorization: "Bearer t0ken", .contentType: "application/json"]
        try await withAPI(environment) { client in
            let body = #"{"server": "a", "cause": "server_unreachable", "duration": "30m", "comment": "planned MediaMTX upgrade"}"#
            try await client.execute(uri: "/api/v1/silences", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: body)) { response in
                #expect(response.status == .unauthorized, "a silence needs the token when one is set")
            }
            var id = ""
            try await client.execute(uri: "/api/v1/silences", method: .post, headers: auth, body: ByteBuffer(string: body)) {
                response in
                #expect(response.status == .created)
                let silence = try object(response)
                id = silence["id"] as? String ?? ""
                #expect(silence["endsAt"] as? Int64 == Self.t0 + 1_800_000 && silence["active"] as? Bool == true)
            }
            #expect(try await store.silences(endingAfter: Self.t0).map(\.id) == [id], "stored in the history")
            try await client.execute(uri: "/api/v1/silences", method: .get, headers: auth) { response in
                let silences = try #require(try object(response)["silences"] as? [[String: Any]])
                #expect(silences.map { $0["comment"] as? String } == ["planned MediaMTX upgrade"])
            }
            for (bad, code) in [(#"{"duration": "1h", "comment": "x"}"#, "bad_silence"), (#"{"server": "a", "comment": "x"}"#, "bad_body"),
                                (#"{"server": "a", "duration": "soon", "comment": "x"}"#, "bad_duration"), ("[1,2", "bad_body"),
                                (#"{"server": "a", "cause": "nope", "duration": "1h", "comment": "x"}"#, "bad_silence"),
                                (#"{"server": "a", "duration": "30m", "comment": "x", "startsAt": 9223372036854775806}"#, "bad_silence"),
                                (#"{"server": "a", "comment": "x", "endsAt": -9223372036854775808}"#, "bad_silence"),
                                (#"{"server": "a", "duration": "99999999d", "comment": "x"}"#, "bad_duration")] {
                try await client.execute(uri: "/api/v1/silences", method: .post, headers: auth, body: ByteBuffer(string: bad)) {
                    response in
                    #expect(response.status == .badRequest)
                    let error = try object(response)["error"] as? [String: Any]
                    #expect(error?["code"] as? String == code, "\(bad)")
                }
            }
            try await client.execute(uri: "/api/v1/silences/\(id)", method: .delete, headers: auth) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/api/v1/silences/\(id)", method: .delete, headers: auth) { response in
                #expect(response.status == .notFound)
            }
            #expect(try await store.silences(endingAfter: Self.t0).isEmpty, "ended now")
        }
    }
}
