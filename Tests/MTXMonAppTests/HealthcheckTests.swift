import Foundation
import MTXMonApp
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `mtxmon healthcheck`, the container image's HEALTHCHECK.
@Suite struct HealthcheckTests {
    @Test func aWildcardListenAddressIsProbedOnLoopback() {
        #expect(Healthcheck.url(listen: HostPort("0.0.0.0:9990")!) == "http://127.0.0.1:9990/healthz")
        #expect(Healthcheck.url(listen: HostPort("[::]:9990")!) == "http://[::1]:9990/healthz")
        #expect(Healthcheck.url(listen: HostPort("10.0.0.5:8080")!) == "http://10.0.0.5:8080/healthz")
    }

    func healthcheck(_ environment: [String: String]) async throws -> (status: Int32, output: String) {
        let output = Pipe()
        let process = Process()
        process.executableURL = mtxmonBinary
        process.arguments = ["healthcheck"]
        process.environment = environment
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try await eventually("healthcheck exits") { !process.isRunning }
        return (process.terminationStatus, String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test func exitsZeroWhenHealthzAnswers200AndOneWhenNothingListens() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let simPort = try freePort()
        let port = try freePort()
        let simulator = try launchMTXMon(["simulate", "--listen", "127.0.0.1:\(simPort)", "--paths", "5"])
        defer { kill(simulator.processIdentifier, SIGKILL) }
        try await eventually("the simulator listens") { canConnect(port: simPort) }

        let down = try await healthcheck(["MTXMON_LISTEN": "0.0.0.0:\(port)"])
        #expect(down.status == 1, "\(down.output)")

        let db = dir.file("h.sqlite")
        let run = try launchMTXMon(["run", "--mediamtx", "http://127.0.0.1:\(simPort)", "--db", db, "--interval", "200ms",
                                    "--listen", "127.0.0.1:\(port)"])
        defer { kill(run.processIdentifier, SIGKILL) }
        try await eventually("a poll is recorded") {
            await pollCount(db) >= 1
        }
        let up = try await healthcheck(["MTXMON_LISTEN": "0.0.0.0:\(port)"])
        #expect(up.status == 0, "\(up.output)")
        #expect(up.output.hasPrefix("200 {"), "\(up.output)")
    }
}
