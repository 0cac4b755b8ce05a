import Foundation

/// Runs `sql` on `file` with the `sqlite3` shell, as an operator would, and returns its output.
public func sqlite3(_ file: String, _ sql: String) throws -> String {
    let process = Process()
    process.executableURL = try which("sqlite3")
    process.arguments = [file, sql]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
