import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` on a free loopback port, owned by one test.
public final class RedisServer: @unchecked Sendable {
    public private(set) var port: Int
    private var process: Process?
    private let lock = NSLock()

    /// Starts redis-server and waits until it accepts connections. A port found free can be
    /// taken (by another test's outgoing connection, say) before redis binds it; redis then exits
    /// at once, and another port is tried.
    public init(port: Int? = nil) async throws {
        self.port = try port ?? freePort()
        for attempt in 1...5 {
            do {
                try await start()
                return
            } catch let error as PortTaken where port == nil && attempt < 5 {
                _ = error
                self.port = try freePort()
            }
        }
    }

    /// redis-server exited before it listened: its port was taken.
    struct PortTaken: Error, CustomStringConvertible {
        let port: Int
        var description: String { "redis-server exited before listening: port \(port) is taken by another process" }
    }

    public func start() async throws {
        let process = Process()
        process.executableURL = try which("redis-server")
        process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--loglevel", "warning"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
        let port = self.port
        try await eventually("redis-server accepts connections on \(port)", timeout: .seconds(20)) {
            listens(pid: process.processIdentifier, port: port) || !process.isRunning
        }
        guard process.isRunning else {
            lock.withLock { self.process = nil }
            throw PortTaken(port: port)
        }
    }

    /// Stops the server (SIGKILL: an outage, not a shutdown) and waits for it to be gone.
    public func kill() async throws {
        guard let process = lock.withLock({ self.process }) else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        lock.withLock { self.process = nil }
        let port = self.port
        // Foundation's waitUntilExit spins off the main thread on Linux; await the effect instead.
        try await eventually("redis-server on \(port) is gone") { !process.isRunning && !canConnect(port: port) }
    }

    deinit {
        // SIGKILL without waiting: Foundation reaps the child, and a test must not block here.
        if let process, process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }
}

/// The absolute path of a program on PATH, or an error telling what to install.
public func which(_ program: String) throws -> URL {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin"] {
        let candidate = URL(fileURLWithPath: dir).appendingPathComponent(program)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw TestSupportError("\(program) is not installed: run `apt-get install redis-server` (scripts/test does)")
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A TCP port nobody listens on right now, picked by the kernel.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw TestSupportError("bind() failed") }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// True when something accepts TCP connections on 127.0.0.1:`port`.
public func canConnect(port: Int) -> Bool { connectErrno(port: port) == 0 }

/// True when process `pid` itself listens on TCP `port`: its listening socket is found in
/// `/proc/net/tcp` and among its own descriptors. Under a parallel suite a port found free can be
/// taken by another test's process, which `canConnect` cannot tell from the one started.
///
/// Cheap until something answers: a parallel suite leaves thousands of sockets in those tables,
/// and every test waiting for a server reads them every 20 ms.
public func listens(pid: Int32, port: Int) -> Bool {
    guard canConnect(port: port) else { return false }
    let local = ":" + String(format: "%04X", port) + " "
    var inodes = Set<String>()
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let text = try? String(contentsOfFile: table, encoding: .utf8), text.contains(local) else { continue }
        for line in text.split(separator: "\n").dropFirst() where line.contains(local) {
            let fields = line.split(separator: " ")
            // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is the tenth field.
            guard fields.count > 9, fields[3] == "0A", let local = fields[1].split(separator: ":").last,
                  Int(local, radix: 16) == port else { continue }
            inodes.insert(String(fields[9]))
        }
    }
    guard !inodes.isEmpty, let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else {
        return false
    }
    return fds.contains { fd in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)") else {
            return false
        }
        return target.hasPrefix("socket:[") && inodes.contains(String(target.dropFirst(8).dropLast()))
    }
}

/// Waits until `condition` holds, checking every 20 ms; fails with `what` after `timeout`.
/// This awaits a condition: a test never guesses how long something takes.
public func eventually(
    _ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TestSupportError("timed out waiting for: \(what)")
}
