import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing
import MTXMonCore
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `mtxmon run` against the simulator with publishers and readers of every protocol: the API
/// lists each with its figures and SRT health, and their history stays queryable after a
/// publisher reconnects under a new id.
@Suite struct ConnectionLiveTests {
    func json(_ url: String) async throws -> [String: Any] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        #expect(response.status == .ok, "\(url): \(String(buffer: body))")
        return try #require(JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
    }

    func post(_ url: String) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    }

    @Test(arguments: ["1.20", "1.12"])
    func everyPublisherAndReaderWithItsFiguresAndHistory(apiVersion: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("c.sqlite")
        let (simulator, simPort) = try await launchListening {
            ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "6", "--readers", "3", "--srt-every", "2",
             "--api-version", apiVersion]
        }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        let sim = "http://127.0.0.1:\(simPort)"
        let (run, apiPort) = try await launchListening {
            ["run", "--mediamtx", sim, "--db", db, "--interval", "500ms", "--listen", "127.0.0.1:\($0)"]
        }
        defer { kill(run.processIdentifier, SIGKILL) }
        let api = "http://127.0.0.1:\(apiPort)"
        try await eventually("four polls") {
            Int((try? await sqlite3(db, "SELECT count(*) FROM poll WHERE ok = 1")) ?? "") ?? 0 >= 4
        }

        let firstPoll = try #require(Int64(try await sqlite3(db, "SELECT min(ts_ms) FROM poll WHERE ok = 1")))

        // Every path: one publisher and three readers, across the protocols.
        var protocols = Set<String>()
        var srtPublisher: [String: Any]?
        for i in 0..<6 {
            let name = "sim/000\(i)"
            let body = try await json("\(api)/api/v1/paths/\(name)/connections")
            // A loaded machine can take longer than the settling time to get here; then the
            // connections are no longer new, and that part is not asserted.
            let settling = WallClock.nowMs() - firstPoll < LinkHealth.settleMs - 1_000
            let connections = try #require(body["connections"] as? [[String: Any]])
            let roles = connections.map { $0["role"] as? String }
            // Path i's readers use protocols (i + r) % 5 of rtsp, srt, rtmp, webrtc, hls: paths 2–4
            // have an HLS reader, which v1.12 lists as a muxer, not a session, so it is no connection.
            let readers = apiVersion == "1.12" && (2...4).contains(i) ? 2 : 3
            #expect(roles.first == "publisher", "\(name)")
            #expect(roles.dropFirst().allSatisfy { $0 == "reader" })
            #expect(roles.count == 1 + readers, "\(name)")
            for c in connections {
                protocols.insert(c["protocol"] as? String ?? "")
                #expect(c["path"] as? String == name)
                #expect((c["inboundBytes"] as? Int ?? 0) + (c["outboundBytes"] as? Int ?? 0) > 0)
                #expect(c["deltas"] is [String: Any], "a connection seen for several polls has deltas")
                if c["protocol"] as? String == "srt" {
                    let health = try #require(c["health"] as? [String: Any])
                    // Seen for 2 s: SRT's RTT is still settling, so it is not judged yet.
                    let margin = try #require(health["marginVerdict"] as? [String: Any])
                    if settling {
                        #expect(margin["level"] as? String == "unknown")
                        #expect((margin["reason"] as? String)?.contains("new") == true, "\(margin)")
                        #expect(health["rtt10s"] is NSNull)
                    }
                    if c["role"] as? String == "publisher" { srtPublisher = c }
                } else {
                    #expect(c["health"] is NSNull)
                }
            }
        }
        #expect(protocols.isSuperset(of: apiVersion == "1.12" ? ["srt", "rtsp", "rtmp", "webrtc"]
                                                           : ["srt", "rtsp", "rtmp", "webrtc", "hls"]))
        let publisher = try #require(srtPublisher)
        let oldID = try #require(publisher["id"] as? String)
        // Ten seconds after its first poll the RTT is judged.
        try await eventually("the SRT publisher's RTT is judged", timeout: .seconds(30)) {
            let body = try await json("\(api)/api/v1/paths/sim/0000/connections")
            let health = (body["connections"] as? [[String: Any]])?.first?["health"] as? [String: Any]
            return (health?["rtt10s"] as? [String: Any])?["p95"] is Double
                && (health?["marginVerdict"] as? [String: Any])?["level"] as? String != "unknown"
        }
        let bitrate = try #require(publisher["bitrateIn"] as? Double)
        #expect(abs(bitrate - 2_150_000) / 2_150_000 < 0.1)

        // The publisher reconnects: a new id; the old connection's history remains.
        try await post("\(sim)/sim/reset/sim/0000")
        var newID: String?
        try await eventually("the new publisher is listed") {
            let body = try await json("\(api)/api/v1/paths/sim/0000/connections")
            let first = (body["connections"] as? [[String: Any]])?.first
            newID = first?["id"] as? String
            return newID != nil && newID != oldID
        }
        let history = try await json("\(api)/api/v1/connections/\(oldID)/history?from=now-5m")
        #expect(history["role"] as? String == "publisher")
        #expect(history["protocol"] as? String == "srt")
        let points = try #require(history["points"] as? [[String: Any]])
        #expect(points.count >= 4)
        #expect(points.contains { $0["bitrateIn"] is Double })
        #expect(points.allSatisfy { $0["rttMs"] is Double })
        let stepped = try await json("\(api)/api/v1/connections/\(oldID)/history?from=now-5m&step=10s")
        #expect(((stepped["points"] as? [Any])?.count ?? 0) >= 1)
        // A reader comes and the oldest goes: the newcomer is listed, the leaver's history stays.
        func ids() async throws -> Set<String> {
            Set(((try await json("\(api)/api/v1/paths/sim/0001/connections"))["connections"] as? [[String: Any]] ?? [])
                .compactMap { $0["id"] as? String })
        }
        let before = try await ids()
        var added = HTTPClientRequest(url: "\(sim)/sim/reader/add/sim/0001?protocol=srt")
        added.method = .POST
        let reply = try await HTTPClient.shared.execute(added, timeout: .seconds(10))
        let joined = String(buffer: try await reply.body.collect(upTo: 1_024)).trimmingCharacters(in: .whitespacesAndNewlines)
        try await post("\(sim)/sim/reader/drop/sim/0001")
        var after = Set<String>()
        try await eventually("the reader change is seen") {
            after = try await ids()
            return after.contains(joined) && after.count == before.count
        }
        let leaving = try #require(before.subtracting(after).first)
        let gone = try await json("\(api)/api/v1/connections/\(leaving)/history?from=now-5m")
        #expect(gone["role"] as? String == "reader")
        #expect(((gone["points"] as? [Any])?.count ?? 0) >= 4)
        try await eventually("both publishers in connection_history") {
            try await sqlite3(db, "SELECT count(DISTINCT id) FROM connection_history WHERE path = 'sim/0000' AND role = 'publisher'") == "2"
        }
    }
}
