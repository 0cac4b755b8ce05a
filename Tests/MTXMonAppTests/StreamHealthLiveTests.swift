import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `mtxmon run` against a simulated MediaMTX v1.21 (its new list names only, no deprecated field):
/// every protocol's connections recorded, MediaMTX's own readers counted apart from viewers, and
/// a stream's health judged from real counters as loss starts and stops.
@Suite struct StreamHealthLiveTests {
    func request(_ url: String, method: HTTPMethod = .GET) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), Data(buffer: try await response.body.collect(upTo: 64 << 20)))
    }

    func paths(_ api: String) async throws -> [String: [String: Any]] {
        let (_, body) = try await request("\(api)/api/v1/paths")
        let list = (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["paths"] as? [[String: Any]] ?? []
        return Dictionary(list.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    static func verdict(_ path: [String: Any]?) -> String? { (path?["health"] as? [String: Any])?["verdict"] as? String }

    @Test func everyProtocolOnV121AndAStreamsHealthAsLossComesAndGoes() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("h.sqlite")
        let (simulator, simPort) = try await launchListening {
            ["simulate", "--listen", "127.0.0.1:\($0)", "--api-version", "1.21", "--paths", "6", "--readers", "2",
             "--hidden-readers", "1", "--srt-every", "4", "--bitrate", "20000000"]
        }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        let sim = "http://127.0.0.1:\(simPort)"
        // sim/0001 is read over every protocol MediaMTX lists.
        for proto in ["rtsp", "srt", "rtmp", "webrtc", "hls", "moq"] {
            #expect(try await request("\(sim)/sim/reader/add/sim/0001?protocol=\(proto)", method: .POST).status == 200)
        }
        let (run, apiPort) = try await launchListening({
            ["run", "--mediamtx", sim, "--db", db, "--interval", "500ms", "--listen", "127.0.0.1:\($0)"]
        }, environment: ["MTXMON_HEALTH_WINDOW": "2s"])
        defer { kill(run.processIdentifier, SIGKILL) }
        let api = "http://127.0.0.1:\(apiPort)"
        try await eventually("four polls") { await pollCount(db) >= 4 }

        let listed = try await paths(api)
        #expect(listed.count == 6)
        for (name, path) in listed {
            // Viewers only: MediaMTX's own reader is counted apart.
            #expect(path["readers"] as? Int == (name == "sim/0001" ? 8 : 2), "\(name)")
            #expect(path["hiddenReaders"] as? Int == 1, "\(name)")
            #expect((path["readersByType"] as? [String: Int])?["hidden"] == 1, "\(name)")
            #expect(path["available"] as? Bool == true, "\(name)")
            #expect(Self.verdict(path) == "good", "\(name): \(String(describing: path["health"]))")
        }
        let connections = listed["sim/0001"]?["connections"] as? [[String: Any]] ?? []
        #expect(Set(connections.compactMap { $0["protocol"] as? String })
            .isSuperset(of: ["rtsp", "srt", "rtmp", "webrtc", "hls", "moq"]))
        // Recorded in history too, under v1.21's lists, with nothing failing.
        try await eventually("every protocol's connections in the history file") {
            let stored = try await sqlite3(db, "SELECT group_concat(DISTINCT protocol) FROM connection")
            return Set(stored.split(separator: ",").map(String.init)).isSuperset(of: ["rtsp", "srt", "rtmp", "webrtc", "hls", "moq"])
        }
        // sim/0001's HLS muxer sends what its one HLS reader gets: the path's bitrate.
        try await eventually("sim/0001's HLS muxer bitrate") {
            let hls = try await paths(api)["sim/0001"]?["hls"] as? [String: Any]
            return ((hls?["bitrateOut"] as? Double) ?? 0) > 19_000_000 && ((hls?["bitrateOut"] as? Double) ?? 0) < 21_000_000
        }
        #expect(try await paths(api)["sim/0002"]?["hls"] is NSNull)
        let (_, health) = try await request("\(api)/healthz")
        let servers = (try JSONSerialization.jsonObject(with: health) as? [String: Any]).map { String(describing: $0) } ?? ""
        #expect(!servers.contains("connection list failed"), "\(servers)")
        // /metrics renders what the live hub last heard, which may be a poll behind the cache.
        var text = ""
        try await eventually("the error rates on /metrics") {
            text = String(decoding: try await request("\(api)/metrics").body, as: UTF8.self)
            return text.contains(#"mtxmon_path_rtp_loss_ratio{server="default",path="sim/0003"}"#)
                && text.contains(#"mtxmon_path_hls_outbound_bytes_per_second{server="default",path="sim/0001"}"#)
        }
        #expect(text.contains(#"mtxmon_path_readers{server="default",path="sim/0000"} 2"#))
        #expect(text.contains(#"mtxmon_path_hidden_readers{server="default",path="sim/0000"} 1"#))
        #expect(text.contains(#"mtxmon_path_health{server="default",path="sim/0000"} 0"#))
        #expect(text.contains(#"mtxmon_path_rtp_loss_ratio{server="default",path="sim/0003"}"#))
        #expect(text.contains(#"mtxmon_path_hls_outbound_bytes_per_second{server="default",path="sim/0001"}"#))

        // sim/0003's RTSP publisher loses 3 % of its packets; sim/0002's newest reader falls behind.
        let lossFrom = Int64(Date().timeIntervalSince1970 * 1_000)
        #expect(try await request("\(sim)/sim/loss/sim/0003?percent=3", method: .POST).status == 204)
        #expect(try await request("\(sim)/sim/reader/slow/sim/0002", method: .POST).status == 200)
        try await eventually("sim/0003 degraded") { Self.verdict(try await paths(api)["sim/0003"]) == "degraded" }
        let degraded = try await paths(api)
        let reasons = (degraded["sim/0003"]?["health"] as? [String: Any])?["reasons"] as? [[String: Any]] ?? []
        #expect(reasons.first?["cause"] as? String == "rtp_loss")
        #expect((reasons.first?["hint"] as? String)?.contains("try TCP transport") == true)
        // Told within three polls of the loss starting, by the stored event's time.
        let told = try await sqlite3(db, "SELECT min(ts_ms) FROM event WHERE kind = 'health' AND path = 'sim/0003'")
        let polls = try await sqlite3(db, "SELECT count(*) FROM poll WHERE ok = 1 AND ts_ms > \(lossFrom) AND ts_ms <= \(told)")
        #expect((Int(polls) ?? 99) <= 3, "degraded after \(polls) polls")
        // The slow reader is named; its stream stays good.
        try await eventually("sim/0002's slow reader named") {
            let health = try await paths(api)["sim/0002"]?["health"] as? [String: Any]
            return (health?["readers"] as? [[String: Any]])?.contains { $0["cause"] as? String == "discarded" } == true
        }
        #expect(Self.verdict(try await paths(api)["sim/0002"]) == "good")
        // The ranking puts the lossy stream first, in JSON and CSV.
        let (_, ranking) = try await request("\(api)/api/v1/health?window=1h")
        let streams = (try JSONSerialization.jsonObject(with: ranking) as? [String: Any])?["streams"] as? [[String: Any]]
        #expect(streams?.first?["path"] as? String == "sim/0003")
        #expect((streams?.first?["causes"] as? [String: Any])?["rtp_loss"] != nil)
        let (_, csv) = try await request("\(api)/api/v1/health?window=1h&format=csv")
        #expect(String(decoding: csv, as: UTF8.self).split(separator: "\n").dropFirst().first?.hasPrefix("default,sim/0003,") == true)

        // A forward destination fails, with the far server's credentials in MediaMTX's error text.
        let forwardFrom = Int64(Date().timeIntervalSince1970 * 1_000)
        let error = "dial rtmp://relay:hunter2-secret@203.0.113.9/live?key=sk-live-0001: connection refused"
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        #expect(try await request("\(sim)/sim/forward/sim/0004?pos=0&state=error&type=rtmp&error=\(error)", method: .POST)
            .status == 204)
        // The event is stored with its poll before that poll's snapshot is published: each is awaited.
        try await eventually("a forward_error event") {
            try await sqlite3(db, "SELECT count(*) FROM event WHERE kind = 'forward_error' AND ts_ms >= \(forwardFrom)") == "1"
        }
        try await eventually("sim/0004's destination in error in the API") {
            (try await paths(api)["sim/0004"]?["forwards"] as? [[String: Any]])?.first?["state"] as? String == "error"
        }
        let forwards = try await paths(api)["sim/0004"]?["forwards"] as? [[String: Any]] ?? []
        #expect(forwards.first?["type"] as? String == "rtmp")
        #expect(forwards.first?["error"] as? String == "dial rtmp://***@203.0.113.9/live?***: connection refused")
        #expect(try await request("\(sim)/sim/forward/sim/0004?pos=0&state=forwarding", method: .POST).status == 204)
        try await eventually("a forward_back event") {
            try await sqlite3(db, "SELECT count(*) FROM event WHERE kind = 'forward_back'") == "1"
        }
        try await eventually("sim/0004's destination forwarding on /metrics") {
            let (_, body) = try await request("\(api)/metrics")
            return String(decoding: body, as: UTF8.self)
                .contains(#"mtxmon_path_forward_state{server="default",path="sim/0004",pos="0"} 1"#)
        }
        let stored = try await sqlite3(db, "SELECT group_concat(message || ' ' || figures, ' ') FROM event")
        #expect(!stored.contains("hunter2") && !stored.contains("sk-live"))
        #expect(!(try await request("\(api)/api/v1/paths")).body.contains(Data("hunter2".utf8)))

        // The loss stops: good again, and told.
        #expect(try await request("\(sim)/sim/loss/sim/0003?percent=0", method: .POST).status == 204)
        try await eventually("sim/0003 good again") { Self.verdict(try await paths(api)["sim/0003"]) == "good" }
        #expect(try await sqlite3(db, """
            SELECT group_concat(json_extract(figures, '$.verdict')) FROM event WHERE kind = 'health' AND path = 'sim/0003'
            """) == "degraded,good")
    }
}
