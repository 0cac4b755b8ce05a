import Foundation
import Glibc
import TestSupport

/// A receiver of `Receivers/` (a Python script that serves on a loopback port and writes what it
/// gets to a log), started for a test and stopped by it, also when the test fails.
struct LocalReceiver {
    let name: String
    let process: Process

    /// Runs `script` with `arguments` under `python`; returns once `port` accepts connections.
    static func start(_ script: String, python: URL, port: Int, arguments: [String]) async throws -> LocalReceiver {
        let process = Process()
        process.executableURL = python
        process.arguments = [URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Receivers/\(script)").path] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let receiver = LocalReceiver(name: script, process: process)
        do {
            try await eventually("\(script) listens") { canConnect(port: port) }
        } catch {
            receiver.kill()
            throw error
        }
        return receiver
    }

    /// SIGKILL: a test process may hold SIGTERM blocked, and its children inherit the mask.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    /// Stops it and waits until it is gone: Foundation reaps it (its waitUntilExit spins on Linux).
    func stop() async throws {
        kill()
        try await eventually("\(name) stopped") { !process.isRunning }
    }
}
