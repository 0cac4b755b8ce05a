import Foundation
import SQLiteHistory
import History
import HistoryChunks

/// Connection history against Prometheus on the same data: after `--storage` has written a run
/// and backfilled MediaMTX's per-connection series, one SRT and one RTSP publisher are asked for
/// over the last hour raw and the whole run at a 60 s step.
///
/// Prometheus is asked for one figure, the bitrate a panel would chart; mtxmon for the same one
/// (`fields=bitrateIn&format=columns`, as the dashboard asks) and, for scale, for every figure of the connection (bitrates, RTT, rates,
/// capacity, latency, loss per interval) in one answer.
enum ConnectionQueries {
    static func run(_ w: StorageBenchmark.Written, runs: Int) async throws {
        let store = try SQLiteHistory(path: w.file)
        let reference = PrometheusReference(dataDirectory: w.prometheus, port: 19_993)
        let prometheus = try reference.start()
        defer { prometheus.terminate() }
        let server = try await BenchServer.start(store: store, intervalMs: StorageData.interval, now: w.end, port: 19_992)
        var ready = false
        for _ in 0..<600 where !ready {
            ready = (try? await server.fetch("/-/ready", port: reference.port)) != nil
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard ready else { throw BenchError("Prometheus did not become ready on \(w.prometheus)") }

        let hour: Int64 = 3_600_000
        let whole = Int64(w.hours) * hour
        struct Question {
            let label: String
            let uri: String
            let promQL: String
            let from: Int64
            let step: Int
        }
        let questions = [
            Question(label: "SRT publisher, 1 h raw", uri: "/api/v1/connections/\(w.srt)/history?from=now-1h",
                     promQL: "irate(srt_conns_bytes_received{id=\"\(w.srt)\"}[10s]) * 8", from: w.end - hour, step: 2),
            Question(label: "RTSP publisher, 1 h raw", uri: "/api/v1/connections/\(w.rtsp)/history?from=now-1h",
                     promQL: "irate(rtsp_sessions_inbound_bytes{id=\"\(w.rtsp)\"}[10s]) * 8", from: w.end - hour, step: 2),
            Question(label: "SRT publisher, \(w.hours) h step 60 s",
                     uri: "/api/v1/connections/\(w.srt)/history?from=now-\(w.hours)h&step=60s",
                     promQL: "rate(srt_conns_bytes_received{id=\"\(w.srt)\"}[1m]) * 8", from: w.end - whole, step: 60),
        ]
        print("\nConnection history against Prometheus (HTTP round trip, medians of \(runs) after 2 warm-ups):\n")
        print("| Query | PromQL | Prometheus bytes | Prometheus ms | mtxmon bytes | mtxmon ms | Prometheus ÷ mtxmon | every figure: bytes | ms |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for q in questions {
            let query = q.promQL.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let promURI = "/api/v1/query_range?query=\(query)&start=\(q.from / 1_000)&end=\(w.end / 1_000)&step=\(q.step)"
            var mine: [Double] = [], theirs: [Double] = [], every: [Double] = []
            var mineBytes = 0, theirBytes = 0, everyBytes = 0
            for run in 0..<(runs + 2) {
                let m = try await timed { try await server.fetch(q.uri + "&fields=bitrateIn&format=columns") }
                let p = try await timed { try await server.fetch(promURI, port: reference.port) }
                let e = try await timed { try await server.fetch(q.uri) }
                mineBytes = m.bytes
                theirBytes = p.bytes
                everyBytes = e.bytes
                if run >= 2 {
                    mine.append(m.ms)
                    theirs.append(p.ms)
                    every.append(e.ms)
                }
            }
            let m = median(mine), p = median(theirs)
            print(String(format: "| %@ | `%@` | %d | %.2f | %d | %.2f | %.2f× | %d | %.2f |", q.label, q.promQL, theirBytes,
                         p, mineBytes, m, p / m, everyBytes, median(every)))
        }
        try await server.stop()
    }
}
