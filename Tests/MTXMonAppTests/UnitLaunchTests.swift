import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The systemd units' command lines, run as systemd runs them: `ExecStart=` with its flags, `Environment=`,
/// then the `EnvironmentFile=` (the shipped example with an operator's edits), working directory `/`, a
/// `NOTIFY_SOCKET` bound here, SIGTERM to stop. Paths under /var/lib/mtxmon (the `StateDirectory=`) are
/// redirected into a temporary folder; the simulator stands in for MediaMTX. `scripts/check-systemd`
/// checks the sandboxing and the install; this proves the command lines and the readiness protocol.
@Suite struct UnitLaunchTests {
    @Test func theSingleProcessUnitSaysReadyOnceItServesAndItsHistoryFeedsThePruneUnit() async throws {
        let host = try await UnitHost()
        defer { host.stop() }
        let port = try freePort()
        let env = try host.environmentFile(["MTXMON_LISTEN": "127.0.0.1:\(port)"])
        let notify = try NotifySocket(address: host.dir.file("notify"))

        let run = try host.start("mtxmon.service", environmentFile: env, notify: notify)
        try await eventually("READY=1 from mtxmon.service") { notify.assignments.contains("READY=1") }
        #expect(canConnect(port: port), "READY=1 comes once the HTTP server listens, not before")
        #expect(notify.assignments.contains { $0.hasPrefix("STATUS=collecting from \(host.mediaMTX)") })
        try await eventually("polls are in the unit's history file, MTXMON_DB in its StateDirectory") {
            await host.okPolls() >= 2
        }
        #expect(try await host.status("http://127.0.0.1:\(port)/healthz") == 200)

        kill(run.process.processIdentifier, SIGTERM)
        try await eventually("STOPPING=1 from mtxmon.service") { notify.assignments.contains("STOPPING=1") }
        try await eventually("mtxmon.service exits") { !run.process.isRunning }
        #expect(run.process.terminationReason == .exit && run.process.terminationStatus == 0, "\(run.log)")

        let prune = try host.start("mtxmon-prune.service", environmentFile: env, notify: nil)
        try await eventually("mtxmon-prune.service exits") { !prune.process.isRunning }
        #expect(prune.process.terminationStatus == 0, "\(prune.log)")
    }

    @Test func theCollectorAndAPIUnitsStartTogetherOverRedis() async throws {
        let host = try await UnitHost()
        defer { host.stop() }
        let redis = try await RedisServer()
        let port = try freePort()
        let env = try host.environmentFile([
            "MTXMON_LISTEN": "127.0.0.1:\(port)", "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "\(redis.port)",
        ])
        let collectorSocket = try NotifySocket(address: "@mtxmon-collector-\(UUID().uuidString)")
        let apiSocket = try NotifySocket(address: host.dir.file("notify-api"))

        let collector = try host.start("mtxmon-collector.service", environmentFile: env, notify: collectorSocket)
        try await eventually("READY=1 from mtxmon-collector.service") { collectorSocket.assignments.contains("READY=1") }
        let api = try host.start("mtxmon-api.service", environmentFile: env, notify: apiSocket)
        try await eventually("READY=1 from mtxmon-api.service") { apiSocket.assignments.contains("READY=1") }
        #expect(canConnect(port: port))
        try await eventually("the collector's polls are in the unit's history file") {
            await host.okPolls() >= 2
        }
        #expect(try await host.status("http://127.0.0.1:\(port)/healthz") == 200)
        let paths = try await host.get("http://127.0.0.1:\(port)/api/v1/paths")
        #expect(paths.contains("sim/0019") && paths.contains(#""source":"cache""#),
                "the API reads the collector's snapshot from Redis: \(paths.prefix(300))")

        for (unit, socket) in [(api, apiSocket), (collector, collectorSocket)] {
            kill(unit.process.processIdentifier, SIGTERM)
            try await eventually("STOPPING=1") { socket.assignments.contains("STOPPING=1") }
            do {
                try await eventually("the unit exits") { !unit.process.isRunning }
            } catch {
                Issue.record("\(unit.process.arguments ?? []) did not exit: \(unit.log.suffix(3_000))")
                throw error
            }
            #expect(unit.process.terminationStatus == 0, "\(unit.log)")
        }
    }

    /// A bad setting exits with 64, the status the units' RestartPreventExitStatus= names, so systemd does not
    /// restart it forever; the reason is in the log.
    @Test(arguments: ["mtxmon.service", "mtxmon-collector.service", "mtxmon-api.service"])
    func aBadSettingExitsWithTheStatusTheUnitDoesNotRestart(unit: String) async throws {
        let host = try await UnitHost()
        defer { host.stop() }
        let file = try UnitFile(unit)
        #expect(file.values("RestartPreventExitStatus") == ["64"])
        let env = try host.environmentFile(["MTXMON_INTERVAL": "often"])
        let started = try host.start(unit, environmentFile: env, notify: nil)
        try await eventually("\(unit) exits") { !started.process.isRunning }
        #expect(started.process.terminationStatus == 64)
        #expect(started.log.contains("MTXMON_INTERVAL"))
    }

    @Test func theEnvironmentFileParserReadsWhatSystemdReads() {
        let parsed = UnitFile.parseEnvironmentFile("""
            # comment
            ; also a comment
            A=1
              B = two words
            C="quoted # not a comment"
            D='single'
            export E=5

            """)
        #expect(parsed.map { "\($0.0)=\($0.1)" } == ["A=1", "B=two words", "C=quoted # not a comment", "D=single", "E=5"])
    }
}

/// A temporary stand-in for the host a unit runs on: its state directory, /etc file and a simulated MediaMTX.
final class UnitHost: @unchecked Sendable {
    let dir: TemporaryDirectory
    let mediaMTX: String
    private let simulator: Process
    private let lock = NSLock()
    private var started: [Process] = []

    init() async throws {
        dir = try TemporaryDirectory()
        let port = try freePort()
        simulator = try launchMTXMon(["simulate", "--listen", "127.0.0.1:\(port)", "--paths", "20"])
        mediaMTX = "http://127.0.0.1:\(port)"
        try await eventually("the simulator listens") { canConnect(port: port) }
    }

    /// Where `StateDirectory=mtxmon` (/var/lib/mtxmon) lands here.
    var stateDirectory: String { dir.file("var/lib/mtxmon") }

    /// The shipped example as an operator edits it: `MEDIA_MTX_API_URL` set to the simulator, a short interval,
    /// and `settings`, each replacing its line (commented out or not) or appended.
    func environmentFile(_ settings: [String: String]) throws -> String {
        var lines = try String(contentsOf: packageRoot.appendingPathComponent("systemd/mediamtx-monitoring.env.example"),
                               encoding: .utf8).components(separatedBy: "\n")
        let edits = ["MEDIA_MTX_API_URL": mediaMTX, "MTXMON_INTERVAL": "500ms"].merging(settings) { $1 }
        for (name, value) in edits.sorted(by: { $0.key < $1.key }) {
            if let index = lines.firstIndex(where: { $0.hasPrefix(name + "=") || $0.hasPrefix("#" + name + "=") }) {
                lines[index] = "\(name)=\(value)"
            } else {
                lines.append("\(name)=\(value)")
            }
        }
        let path = dir.file("etc/mediamtx-monitoring.env")
        try FileManager.default.createDirectory(atPath: dir.file("etc"), withIntermediateDirectories: true)
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    struct Started {
        let process: Process
        /// A file, not a pipe: a pipe nobody reads fills, and the unit then blocks in its logging.
        let output: String
        /// What the process wrote so far.
        var log: String {
            String(decoding: FileManager.default.contents(atPath: output) ?? Data(), as: UTF8.self)
        }
    }

    /// Starts `unit`'s `ExecStart=` as systemd would, with `environmentFile` in place of /etc/mediamtx-monitoring.env.
    func start(_ unit: String, environmentFile: String, notify: NotifySocket?) throws -> Started {
        let file = try UnitFile(unit)
        var command = file.execStart
        #expect(command.first == "/usr/local/bin/mtxmon", "\(unit): ExecStart runs the installed binary")
        command[0] = mtxmonBinary.path

        // What systemd puts in every service's environment, then Environment=, then EnvironmentFile=.
        var environment = [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
            "USER": file.values("User").first ?? "", "LOGNAME": file.values("User").first ?? "",
            "HOME": stateDirectory, "SHELL": "/usr/sbin/nologin", "INVOCATION_ID": UUID().uuidString,
        ]
        if let stateDir = file.values("StateDirectory").first {
            #expect(stateDir == "mtxmon")
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            environment["STATE_DIRECTORY"] = stateDirectory
        }
        if let notify {
            #expect(file.values("Type") == ["notify"], "\(unit) is Type=notify")
            environment["NOTIFY_SOCKET"] = notify.address
        }
        for (name, value) in file.environment { environment[name] = value }
        for path in file.values("EnvironmentFile") {
            #expect(path.trimmingPrefix("-") == "/etc/mediamtx-monitoring.env", "\(unit): \(path)")
            let text = try String(contentsOfFile: environmentFile, encoding: .utf8)
            for (name, value) in UnitFile.parseEnvironmentFile(text) { environment[name] = value }
        }
        for (name, value) in environment where value.hasPrefix("/var/lib/mtxmon/") {
            environment[name] = stateDirectory + value.dropFirst("/var/lib/mtxmon".count)
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let output = dir.file("\(unit)-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        lock.withLock { started.append(process) }
        return Started(process: process, output: output)
    }

    func status(_ url: String) async throws -> Int {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
        return Int(response.status.code)
    }

    func get(_ url: String) async throws -> String {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
        return String(buffer: try await response.body.collect(upTo: 16 << 20))
    }

    /// Successful polls in the history file at the unit's `MTXMON_DB` (0 while there is none).
    func okPolls() async -> Int { await pollCount(stateDirectory + "/mtxmon.sqlite") }

    func stop() {
        for process in lock.withLock({ started }) + [simulator] where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        dir.remove()
    }
}

/// The parts of a unit file under `systemd/` that decide how mtxmon starts.
struct UnitFile {
    let entries: [(key: String, value: String)]

    init(_ name: String) throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("systemd/" + name), encoding: .utf8)
        entries = text.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), !trimmed.hasPrefix(";"), !trimmed.hasPrefix("["),
                  let equals = trimmed.firstIndex(of: "=") else { return nil }
            return (String(trimmed[..<equals]), String(trimmed[trimmed.index(after: equals)...]))
        }
    }

    func values(_ key: String) -> [String] { entries.filter { $0.key == key }.map(\.value) }

    /// `ExecStart=` split into words (the units use no quotes or specifiers; a prefix like `-` or `+` is refused).
    var execStart: [String] {
        let lines = values("ExecStart")
        #expect(lines.count == 1)
        let words = (lines.first ?? "").split(separator: " ").map(String.init)
        #expect(words.first?.hasPrefix("/") == true, "ExecStart names an absolute path without a prefix")
        #expect(!words.contains { $0.contains("%") || $0.contains("$") || $0.contains("\"") },
                "specifiers, variables and quotes are not expanded here")
        return words
    }

    /// `Environment=` assignments in order (each line may hold several, space-separated).
    var environment: [(String, String)] {
        values("Environment").flatMap { $0.split(separator: " ") }.compactMap { pair in
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
        }
    }

    /// `EnvironmentFile=` syntax as systemd reads it: `NAME=value` lines, `#` and `;` comments, blanks around
    /// `=` and the value dropped, one pair of enclosing quotes removed, an optional leading `export`.
    static func parseEnvironmentFile(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").compactMap { raw in
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { return nil }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let equals = line.firstIndex(of: "=") else { return nil }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            for quote in ["\"", "'"] where value.count >= 2 && value.hasPrefix(quote) && value.hasSuffix(quote) {
                value = String(value.dropFirst().dropLast())
            }
            return (name, value)
        }
    }
}
