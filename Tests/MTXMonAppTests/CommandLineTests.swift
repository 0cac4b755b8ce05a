import Foundation
import MTXMonApp
import MTXMonCore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// What an operator reads before anything runs: `--help` naming every setting a command reads and
/// no option it ignores, refusals that quote what was typed, an address in use named with the
/// setting to change, and a README whose command table lists every command.
@Suite struct CommandLineTests {
    func help(_ command: String) async throws -> String {
        let ran = try await runToEnd(mtxmonBinary, [command, "--help"], environment: ["COLUMNS": "80"])
        #expect(ran.status == 0, "\(ran.stderr)")
        return ran.stdout
    }

    /// Every environment variable named as a string in the settings code (SettingsHelp's own list
    /// aside, which is what is checked).
    static func variablesRead() throws -> Set<String> {
        let folder = packageRoot.appendingPathComponent("Sources/MTXMonApp")
        let pattern = try Regex(#""([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)""#)
        var names = Set<String>()
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path)
        where file.hasSuffix(".swift") && file != "SettingsHelp.swift" {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: pattern) {
                if let name = match.output[1].substring { names.insert(String(name)) }
            }
        }
        return names
    }

    @Test func runHelpNamesEveryVariableTheSettingsRead() async throws {
        let read = try Self.variablesRead()
        #expect(read.count >= 40, "the scan finds the settings: \(read.sorted())")
        #expect(read.isSuperset(of: ["MTXMON_SERVERS", "MTXMON_SERVERS_FILE", "MTXMON_WEBHOOK_URL", "MTXMON_SMTP_URL",
                                     "MTXMON_ALERT_OFFLINE_PATHS"]))
        let run = try await help("run")
        let missing = read.filter { !run.contains($0) }
        #expect(missing.isEmpty, "run --help does not name \(missing.sorted())")
        let stale = Set(SettingsHelp.names).subtracting(read)
        #expect(stale.isEmpty, "the help lists \(stale.sorted()), which the settings code no longer reads")
        let list = run.split(separator: "\n").drop { !$0.hasPrefix("Environment") }.prefix { !$0.hasPrefix("USAGE") }
        #expect(list.count > 40 && !list.contains { $0.count > 80 }, "the list fits a terminal: \(list)")
    }

    @Test func collectAndServeHelpNameWhatEachReads() async throws {
        let collect = try await help("collect"), serve = try await help("serve")
        for name in ["MTXMON_SERVERS", "MTXMON_SERVERS_FILE", "MEDIA_MTX_API_USER", "MTXMON_WEBHOOK_URL",
                     "MTXMON_SMTP_URL", "MTXMON_HOLD_FILE", "REDIS_HOST"] {
            #expect(collect.contains(name), "collect --help names \(name)")
        }
        for name in ["MTXMON_API_TOKEN", "MTXMON_HTTP_MAX_BODY", "MTXMON_CORS_ORIGINS", "REDIS_HOST", "MTXMON_SERVERS"] {
            #expect(serve.contains(name), "serve --help names \(name)")
        }
        #expect(!serve.contains("MTXMON_WEBHOOK_URL") && !serve.contains("MTXMON_SMTP_URL"),
                "serve sends no webhook or mail")
        #expect(!collect.contains("MTXMON_API_TOKEN"), "collect answers no HTTP")
        #expect(!collect.contains("--listen"), "collect offers --listen, which it ignores")
        #expect(serve.contains("--listen"), "serve --help names --listen")
    }

    @Test func migrateHelpListsOnlyWhatItReads() async throws {
        let text = try await help("migrate")
        for option in ["--db", "--interval", "--from", "--to", "MTXMON_DB", "MTXMON_INTERVAL", "MTXMON_DB_PASSWORD_FILE"] {
            #expect(text.contains(option), "migrate --help names \(option)")
        }
        for ignored in ["--mediamtx", "--listen", "--log-level"] {
            #expect(!text.contains(ignored), "migrate --help offers \(ignored), which it ignores")
        }
        // A setting of the collector that is wrong does not stop a schema upgrade.
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let ran = try await runToEnd(mtxmonBinary, ["migrate", "--db", dir.file("m.sqlite")],
                                     environment: ["MTXMON_WEBHOOK_URL": "not a url", "MTXMON_LISTEN": "nowhere"])
        #expect(ran.status == 0, "\(ran.stderr)")
        let bad = try await runToEnd(mtxmonBinary, ["migrate", "--db", dir.file("m.sqlite"), "--interval", "often"])
        #expect(bad.status != 0 && bad.stderr.contains("--interval"), "\(bad.stderr)")
    }

    @Test func pruneCountsAShortRetentionOnADryRunAndQuotesItAsGiven() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("p.sqlite")
        #expect(try await runToEnd(mtxmonBinary, ["migrate", "--db", db]).status == 0)

        let dry = try await runToEnd(mtxmonBinary, ["prune", "--db", db, "--dry-run", "--older-than", "1m"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would remove"))
        #expect(dry.stderr.contains("retention of 1m") && dry.stderr.contains("--force"), "a note: \(dry.stderr)")

        let real = try await runToEnd(mtxmonBinary, ["prune", "--db", db, "--older-than", "1m"])
        #expect(real.status != 0)
        #expect(real.stderr.contains("a raw retention of 1m is shorter"), "\(real.stderr)")
        #expect(!real.stderr.contains("60 s"), "the duration as typed, not converted: \(real.stderr)")
        let env = try await runToEnd(mtxmonBinary, ["prune", "--db", db], environment: ["MTXMON_RAW_RETENTION": "1.5m"])
        #expect(env.status != 0 && env.stderr.contains("a raw retention of 1.5m"), "\(env.stderr)")

        #expect(Retention(rawMs: 60_000).problems(force: false).first?.contains("of 1m is") == true)
        #expect(DurationParser.text(milliseconds: 90_000) == "90s")
        #expect(DurationParser.text(milliseconds: 7 * 86_400_000) == "1w")
        #expect(DurationParser.text(milliseconds: 1_500) == "1500ms")
        #expect(DurationParser.text(milliseconds: 0) == "0ms")
    }

    /// A listening socket on a free loopback port, held until `close(fd)`.
    static func holdPort() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 1) == 0 else {
            close(fd)
            throw TestSupportError("bind() or listen() failed")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// How `arguments` ends while the port they name is held: status and standard error. A
    /// process that listened elsewhere instead would run on; it is killed after 30 s.
    func refused(_ arguments: (Int) -> [String]) async throws -> (status: Int32, stderr: String, address: String) {
        let (fd, port) = try Self.holdPort()
        defer { close(fd) }
        let log = Pipe()
        let process = try launchMTXMon(arguments(port), stderr: log)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await eventually("mtxmon \(arguments(port)[0]) exits") { !process.isRunning }
        let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text, "127.0.0.1:\(port)")
    }

    @Test func anAddressInUseIsNamedWithTheSettingToChange() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let simulator = try await refused { ["simulate", "--listen", "127.0.0.1:\($0)"] }
        #expect(simulator.status != 0)
        #expect(simulator.stderr.contains("cannot listen on \(simulator.address): another process listens there"),
                "\(simulator.stderr)")
        #expect(simulator.stderr.contains("--listen") && !simulator.stderr.contains("errno"), "\(simulator.stderr)")

        for command in ["run", "serve"] {
            let ended = try await refused {
                [command, "--listen", "127.0.0.1:\($0)", "--db", dir.file("\(command).sqlite"),
                 "--mediamtx", "http://127.0.0.1:9", "--interval", "1s"]
            }
            #expect(ended.status != 0)
            #expect(ended.stderr.contains("cannot listen on \(ended.address)") && ended.stderr.contains("MTXMON_LISTEN"),
                    "\(command): \(ended.stderr)")
            #expect(!ended.stderr.contains("errno"), "\(command): \(ended.stderr)")
        }
    }

    /// The README's table of commands is where an operator looks first: every command is in it.
    @Test func theReadmeListsEveryCommand() async throws {
        let ran = try await runToEnd(mtxmonBinary, ["--help"], environment: ["COLUMNS": "200"])
        let lines = ran.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("SUBCOMMANDS:") })
        // A command's line starts two spaces in; its abstract's wrapped lines further.
        let commands = lines[(start + 1)...].prefix { !$0.isEmpty }.filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0 != "help" }
        #expect(commands.count >= 8 && commands.contains("export"), "\(commands)")
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        // A row names the command alone (`mtxmon export`) or with its arguments (`mtxmon servers rename …`).
        let missing = commands.filter { !readme.contains("| `mtxmon \($0)`") && !readme.contains("| `mtxmon \($0) ") }
        #expect(missing.isEmpty, "README's command table lacks \(missing.map { "`mtxmon \($0)`" })")
    }

    /// A command pasted from the README that reads the checkout's history runs from the checkout,
    /// where no `mtxmon` is on PATH: `scripts/mtxmon` (scripts/check-run runs it).
    @Test func theReadmeRunsTheCheckoutsBinaryThroughScriptsMTXMon() throws {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var inShell = false
        var commands: [Substring] = []
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("```") { inShell = trimmed.hasPrefix("```sh"); continue }
            if inShell, trimmed.contains("mtxmon.sqlite"), trimmed.contains("mtxmon export") || trimmed.contains("mtxmon prune") {
                commands.append(trimmed)
            }
        }
        #expect(commands.count >= 3, "the README's export examples: \(commands)")
        for command in commands where !command.hasPrefix("scripts/mtxmon ") && !command.contains("/bin/mtxmon ") {
            Issue.record("README runs a bare mtxmon, which is not on PATH in the checkout: \(command)")
        }
        #expect(FileManager.default.isExecutableFile(atPath: packageRoot.appendingPathComponent("scripts/mtxmon").path))
    }
}
