import AsyncHTTPClient
import Foundation
import MTXMonCore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// What an operator's Prometheus and a packaging script see of mtxmon: `--version`, and
/// `/metrics` with the stream gauges, checked by Prometheus's own `promtool`.
@Suite struct MetricsTests {
    /// Runs the built `mtxmon` to its end and gives its exit status and standard output.
    func output(_ arguments: [String]) async throws -> (Int32, String) {
        let ran = try await runToEnd(mtxmonBinary, arguments)
        return (ran.status, ran.stdout)
    }

    func get(_ url: String) async throws -> String {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        #expect(response.status == .ok, "\(url)")
        return String(buffer: body)
    }

    /// `promtool check metrics` on `text`: its exit status and what it said.
    func promtool(_ text: String) async throws -> (Int32, String) {
        let ran = try await runToEnd(URL(fileURLWithPath: "/usr/bin/env"), ["promtool", "check", "metrics"], input: text)
        return (ran.status, ran.stdout + ran.stderr)
    }

    /// The series lines (not comments) of the families whose names start with `prefix`.
    func series(_ text: String, _ prefix: String) -> [Substring] {
        text.split(separator: "\n").filter { $0.hasPrefix(prefix) }
    }

    @Test func versionPrintsTheReleaseAndTheBuild() async throws {
        let (status, text) = try await output(["--version"])
        #expect(status == 0)
        #expect(text == "mtxmon \(BuildInfo.version) (build \(BuildInfo.build))\n")
    }

    @Test func everySimulatedPathHasItsStreamGaugesAndPromtoolAcceptsTheWholePage() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (simulator, simPort) = try await launchListening {
            ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "12", "--srt-every", "4"]
        }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        let (run, port) = try await launchListening {
            ["run", "--mediamtx", "http://127.0.0.1:\(simPort)", "--db", dir.file("h.sqlite"), "--interval", "500ms",
             "--listen", "127.0.0.1:\($0)"]
        }
        defer { kill(run.processIdentifier, SIGKILL) }
        let names = (0..<12).map { "sim/\(String(format: "%04d", $0))" }
        var text = ""
        try await eventually("a bitrate series for every path") {
            text = try await get("http://127.0.0.1:\(port)/metrics")
            return names.allSatisfy { text.contains("mtxmon_path_inbound_bytes_per_second{server=\"default\",path=\"\($0)\"} ") }
        }
        let (status, said) = try await promtool(text)
        #expect(status == 0, "promtool check metrics: \(said)")
        #expect(text.contains("mtxmon_build_info{version=\"\(BuildInfo.version)\",build=\"\(BuildInfo.build)\"} 1"))
        for name in names {
            #expect(text.contains("mtxmon_path_online{server=\"default\",path=\"\(name)\"} 1"), "\(name) online")
            #expect(text.contains("mtxmon_path_readers{server=\"default\",path=\"\(name)\"} "), "\(name) readers")
        }
        // Every 4th path is published over SRT: its link figures are there, the others have none.
        let rtt = series(text, "mtxmon_path_srt_rtt_seconds{")
        #expect(rtt.count == 3, "\(rtt)")
        #expect(rtt.allSatisfy { line in ["sim/0000", "sim/0004", "sim/0008"].contains { line.contains("\"\($0)\"") } })
        #expect(text.contains("mtxmon_stream_series_omitted 0"))

        let health = try await get("http://127.0.0.1:\(port)/healthz")
        #expect(health.contains("\"version\":\"\(BuildInfo.version)\""))
        #expect(health.contains("\"build\":\"\(BuildInfo.build)\""))
    }

    @Test func theSeriesCapLeavesOutWholePathsAndCountsThem() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (simulator, simPort) = try await launchListening {
            ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "20"]
        }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        let (run, port) = try await launchListening({
            ["run", "--mediamtx", "http://127.0.0.1:\(simPort)", "--db", dir.file("h.sqlite"), "--interval", "500ms",
             "--listen", "127.0.0.1:\($0)"]
        }, environment: ["MTXMON_METRICS_MAX_SERIES": "16"])
        defer { kill(run.processIdentifier, SIGKILL) }
        var text = ""
        try await eventually("bitrates and error rates known, so each path has all its series") {
            text = try await get("http://127.0.0.1:\(port)/metrics")
            return text.contains("mtxmon_path_inbound_bytes_per_second{server=\"default\",path=\"sim/0000\"}")
                && text.contains("mtxmon_path_rtp_loss_ratio{server=\"default\",path=\"sim/0000\"}")
                // The HLS muxers' bitrates need two readings of their list, which a loaded machine
                // may miss once.
                && text.contains("mtxmon_stream_series_omitted 140\n")
        }
        let written = series(text, "mtxmon_path_")
        #expect(written.count <= 16, "\(written)")
        // Whole paths: sim/0000 (RTSP: online, bitrates, readers, health, RTP loss and errors,
        // frames in error) and sim/0001 (RTMP: no RTP figures), 8 + 6 series; nothing of sim/0002 on.
        #expect(Set(written.compactMap { $0.split(separator: "\"").dropFirst(3).first }) == ["sim/0000", "sim/0001"])
        #expect(text.contains("mtxmon_stream_series \(written.count)\n"))
        // The other 18 paths: six each of RTSP and WebRTC (8 series) and of RTMP (6), and the four
        // read over HLS (sim/0004, 0009, 0014, 0019) their muxer's bitrate and discarded frames.
        #expect(text.contains("mtxmon_stream_series_omitted 140\n"), "\(text.split(separator: "\n").filter { $0.contains("omitted") })")
        #expect(!text.contains("mtxmon_stream_series_omitted_total 0\n"))
        #expect(try await promtool(text).0 == 0)
    }
}
