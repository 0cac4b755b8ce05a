import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
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
    Launched.remember(process)
    return process
}

/// Every process a test launched, killed when the test binary exits: a test that fails (or is
/// cancelled) between starting a process and its own cleanup must not leave it running after
/// the suite.
enum Launched {
    private static let processes = Mutex<[Process]>([])
    private static let installed = Mutex(false)

    static func remember(_ process: Process) {
        processes.withLock { $0.append(process) }
        let first = installed.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { atexit { Launched.killAll() } }
    }

    static func killAll() {
        // Only those still running: an exited one's pid may belong to another process by now.
        for process in processes.withLock({ $0 }) where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
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
        do {
            while ContinuousClock.now < deadline, process.isRunning, !listens(pid: pid, port: port) {
                try await Task.sleep(for: .milliseconds(20))
            }
        } catch {
            // Cancelled while waiting: the process is this function's until it is returned.
            if process.isRunning { kill(pid, SIGKILL) }
            throw error
        }
        if process.isRunning, listens(pid: pid, port: port), canConnect(port: port) { return (process, port) }
        if process.isRunning { process.terminate() }
    }
    throw TestSupportError("mtxmon \(arguments(0).first ?? "") did not start listening on any of 5 free ports")
}
