import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server (Debian's `postgresql` package) on a free loopback port, in a
/// temporary folder, shared by the tests of one test process: each test takes a database of its
/// own (`newDatabase`). It is stopped and its folder removed when the test process ends, also
/// when it crashes: a watcher stops it when the pipe from this process closes.
public final class PostgresServer: Sendable {
    public let port: Int
    public let directory: String
    let bin: URL
    public static let user = "mtxmon"
    public static let password = "pg-test-secret"

    /// The server of this test process, started on first use.
    public static func shared() async throws -> PostgresServer { try await Shared.instance.server() }

    /// A server of the caller's own, for a test that stops and starts it; stopped at the end as the shared one.
    public static func dedicated() async throws -> PostgresServer { try await start() }

    /// Stops it as a database that goes away does (fast shutdown: sessions cut) and waits until it is gone.
    public func stop() async throws {
        let file = "\(directory)/data/postmaster.pid"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        guard let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }) else {
            throw TestSupportError("no postmaster pid in \(file)")
        }
        kill(pid, SIGINT)
        let port = self.port
        try await eventually("PostgreSQL on \(port) stops") {
            !canConnect(port: port) && !FileManager.default.fileExists(atPath: file)
        }
    }

    /// Starts it again on its port, with its data.
    public func restart() async throws {
        guard try await launch() else { throw TestSupportError("PostgreSQL did not start again on \(port): see \(directory)/log") }
    }

    actor Shared {
        static let instance = Shared()
        var task: Task<PostgresServer, any Error>?

        func server() async throws -> PostgresServer {
            if let task { return try await task.value }
            let task = Task { try await PostgresServer.start() }
            self.task = task
            return try await task.value
        }
    }

    private init(port: Int, directory: String, bin: URL) {
        self.port = port
        self.directory = directory
        self.bin = bin
    }

    /// PostgreSQL's programs: on PATH, or where Debian puts them (/usr/lib/postgresql/N/bin).
    static func binDirectory() throws -> URL {
        if let initdb = try? which("initdb") { return initdb.resolvingSymlinksInPath().deletingLastPathComponent() }
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            let dir = URL(fileURLWithPath: "\(root)/\(version)/bin")
            if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("initdb").path) { return dir }
        }
        throw TestSupportError("PostgreSQL is not installed: run `apt-get install postgresql` (scripts/install-deps --test does)")
    }

    /// PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user.
    static func command(_ program: URL, _ arguments: [String]) -> (URL, [String]) {
        guard getuid() == 0 else { return (program, arguments) }
        return (URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "postgres", "--", program.path] + arguments)
    }

    static func start() async throws -> PostgresServer {
        let bin = try binDirectory()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mtxmon-pg-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            _ = chmod(directory, 0o700)
            guard let pw = getpwnam("postgres") else {
                throw TestSupportError("no `postgres` user to run PostgreSQL as: run `apt-get install postgresql`")
            }
            _ = chown(directory, pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        let passwordFile = "\(directory)/password"
        try password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        if getuid() == 0, let pw = getpwnam("postgres") { _ = chown(passwordFile, pw.pointee.pw_uid, pw.pointee.pw_gid) }
        try run(bin.appendingPathComponent("initdb"), [
            "-D", "\(directory)/data", "-U", user, "--auth=scram-sha-256", "--pwfile=\(passwordFile)", "-E", "UTF8",
            "--no-locale", "--no-sync",
        ])
        for attempt in 1...5 {
            let port = try freePort()
            let server = PostgresServer(port: port, directory: directory, bin: bin)
            if try await server.launch() { return server }
            if attempt == 5 { break }
        }
        throw TestSupportError("PostgreSQL did not start: see \(directory)/log")
    }

    /// Starts `postgres` under a watcher that stops it (fast shutdown) and removes the folder when
    /// this process's end closes its stdin. False when it exited before listening (port taken).
    func launch() async throws -> Bool {
        let (shell, arguments) = Self.command(URL(fileURLWithPath: "/bin/sh"), ["-c", """
            "$0/postgres" -D "$1/data" -p "$2" -k "$1" -c listen_addresses=127.0.0.1 -c fsync=off \
                -c max_connections=400 -c shared_buffers=32MB >"$1/log" 2>&1 &
            pid=$!
            cat >/dev/null
            kill -INT "$pid" 2>/dev/null
            wait "$pid"
            rm -rf "$1"
            """, bin.path, directory, "\(port)"])
        let process = Process()
        process.executableURL = shell
        process.arguments = arguments
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The write end stays open in this process for its whole life: its end is the signal.
        Self.keep.add(Watched(pipe: stdin, watcher: process.processIdentifier, directory: directory))
        let port = self.port
        try await eventually("PostgreSQL accepts connections on \(port)", timeout: .seconds(60)) {
            canConnect(port: port) || !process.isRunning
                || ((try? String(contentsOfFile: "\(directory)/log", encoding: .utf8))?.contains("could not bind") ?? false)
        }
        return canConnect(port: port)
    }

    /// Each server's watcher, its pipe and its folder, stopped when this process exits.
    static let keep = Watchers()

    struct Watched {
        let pipe: Pipe
        let watcher: Int32
        let directory: String
    }

    final class Watchers: @unchecked Sendable {
        let lock = NSLock()
        var all: [Watched] = []

        func add(_ watched: Watched) {
            let first = lock.withLock {
                all.append(watched)
                return all.count == 1
            }
            if first { atexit { PostgresServer.keep.stopAll() } }
        }

        /// At a normal exit: each server stopped at once (SIGQUIT, PostgreSQL's immediate shutdown),
        /// its watcher waited for, its folder removed, before this process ends, so that nothing
        /// it started outlives it. A crash leaves it to the watcher.
        func stopAll() {
            for w in lock.withLock({ all }) {
                if let text = try? String(contentsOfFile: "\(w.directory)/data/postmaster.pid", encoding: .utf8),
                   let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }) {
                    kill(pid, SIGQUIT)
                }
                try? w.pipe.fileHandleForWriting.close()
                for _ in 0..<500 {
                    var status: Int32 = 0
                    let done = waitpid(w.watcher, &status, WNOHANG)
                    if done != 0 { break }
                    usleep(10_000)
                }
                try? FileManager.default.removeItem(atPath: w.directory)
            }
        }
    }

    /// A new, empty database, as a URL with its password.
    public func newDatabase() throws -> String {
        let name = "t\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        // A server that accepts connections may still be starting up (after a restart, on a loaded
        // machine): asked again until it is ready, for up to 30 s.
        for attempt in 0... {
            do {
                try Self.run(bin.appendingPathComponent("createdb"), ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, name],
                             environment: ["PGPASSWORD": Self.password])
                break
            } catch let error as TestSupportError where "\(error)".contains("is starting up") && attempt < 300 {
                usleep(100_000)
            }
        }
        return url(database: name)
    }

    /// The URL of `database`, with the password or without it.
    public func url(database: String, password: Bool = true) -> String {
        let secret = password ? ":\(Self.password)" : ""
        return "postgres://\(Self.user)\(secret)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// `sql`'s rows in `database` as psql prints them unaligned: one line per row, columns split by `|`.
    public func query(_ database: String, _ sql: String) throws -> [[String]] {
        let name = database.split(separator: "/").last.map { String($0.split(separator: "?")[0]) } ?? database
        let text = try Self.run(bin.appendingPathComponent("psql"),
                                ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-d", name, "-tAXc", sql],
                                environment: ["PGPASSWORD": Self.password])
        return text.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Runs a PostgreSQL program to its end and gives its output; throws with it if it fails.
    @discardableResult
    static func run(_ program: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let (executable, args) = command(program, arguments)
        let process = Process()
        process.executableURL = executable
        process.arguments = args
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, b in b }
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSupportError("\(program.lastPathComponent) failed (\(process.terminationStatus)): \(text)")
        }
        return text
    }
}
