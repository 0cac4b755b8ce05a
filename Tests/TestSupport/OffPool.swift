import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work (SQLite, waiting for a child process) on a Dispatch thread and awaits it.
///
/// Swift's cooperative pool has one thread per core: two on a small CI machine. A test that
/// blocks one of them for a second stalls every other test's collector, simulator and deadline
/// in the same process, and their polls then fail for reasons that are not theirs.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// What a program printed and how it ended.
public struct Ran: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs `executable` to its end without holding a pool thread: output goes to files (a pipe
/// nobody reads fills and stops the program), the end is awaited through the termination handler.
public func runToEnd(
    _ executable: URL, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil
) async throws -> Ran {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let outPath = dir.file("stdout"), errPath = dir.file("stderr"), inPath = dir.file("stdin")
    FileManager.default.createFile(atPath: outPath, contents: nil)
    FileManager.default.createFile(atPath: errPath, contents: nil)
    FileManager.default.createFile(atPath: inPath, contents: Data((input ?? "").utf8))
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    let stdin = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
    defer { try? out.close(); try? err.close(); try? stdin.close() }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardOutput = out
    process.standardError = err
    process.standardInput = stdin
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    func read(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }
    return Ran(status: status, stdout: read(outPath), stderr: read(errPath))
}
