import Foundation
import TestSupport

/// The `mtxmon` executable that `swift build` puts beside the test bundle.
var mtxmonBinary: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mtxmon")
}

/// Starts the built `mtxmon` as an operator would, with only `PATH` and `environment` set.
func launchMTXMon(_ arguments: [String], environment: [String: String] = [:], stderr: Pipe? = nil) throws -> Process {
    let process = Process()
    process.executableURL = mtxmonBinary
    process.arguments = arguments
    process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]
        .merging(environment) { $1 }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = stderr ?? FileHandle.nullDevice
    try process.run()
    return process
}

/// Starts an `mtxmon` that listens on a free port and waits until it accepts connections. A
/// port found free can be taken by another test's process or outgoing connection before `mtxmon`
/// binds it; then `mtxmon` exits at once, and another port is tried.
func launchListening(_ arguments: (Int) -> [String], environment: [String: String] = [:]) async throws -> (Process, Int) {
    for _ in 0..<5 {
        let port = try freePort()
        let process = try launchMTXMon(arguments(port), environment: environment)
        let deadline = ContinuousClock.now + .seconds(30)
        let pid = process.processIdentifier
        // Its own listening socket, not whatever answers on the port: another test's process may
        // have taken it, and this one exited.
        while ContinuousClock.now < deadline, process.isRunning, !listens(pid: pid, port: port) {
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning, listens(pid: pid, port: port), canConnect(port: port) { return (process, port) }
        if process.isRunning { process.terminate() }
    }
    throw TestSupportError("mtxmon \(arguments(0).first ?? "") did not start listening on any of 5 free ports")
}
