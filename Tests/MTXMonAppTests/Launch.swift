import Foundation

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
