import Foundation
import Logging
import MTXMonApp
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Log lines as a terminal, a pipe and the journal receive them.
@Suite struct LogHandlerTests {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    func log(_ style: PlainLogHandler.Style, _ level: Logger.Level, _ message: Logger.Message) -> String {
        let lines = Lines()
        let logger = Logger(label: "mtxmon.test") { label in
            PlainLogHandler(label: label, level: .trace, style: style, write: lines.append)
        }
        logger.log(level: level, message, metadata: ["db": "h.sqlite"])
        return lines.all.joined()
    }

    @Test func theJournalGetsThePriorityAndNoTimestamp() {
        #expect(log(.journal, .warning, "redis unreachable") == "<4>warning mtxmon.test: redis unreachable db=h.sqlite\n")
        #expect(log(.journal, .info, "serving").hasPrefix("<6>info "))
        #expect(log(.journal, .critical, "dropped").hasPrefix("<2>critical "))
        #expect(log(.journal, .debug, "poll").hasPrefix("<7>debug "))
    }

    @Test func everyLineOfAMultiLineMessageKeepsItsPriorityInTheJournal() {
        #expect(log(.journal, .error, "two problems:\nfirst\nsecond")
            == "<3>error mtxmon.test: two problems:\n<3>first\n<3>second db=h.sqlite\n")
    }

    @Test func aPipeGetsNeitherTimestampNorPriority() {
        #expect(log(.plain, .notice, "outage over") == "notice mtxmon.test: outage over db=h.sqlite\n")
    }

    @Test func aTerminalGetsALocalTimestamp() {
        let line = log(.terminal, .info, "serving")
        #expect(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} info mtxmon.test: serving"#,
                           options: .regularExpression) != nil, "\(line)")
    }

    @Test func noStyleWritesAnEscapeCode() {
        for style in [PlainLogHandler.Style.terminal, .plain, .journal] {
            #expect(!log(style, .error, "failed").contains("\u{1B}"))
        }
    }

    /// The journal is recognised by `JOURNAL_STREAM` naming standard error, as systemd sets it: a pipe with
    /// the variable pointing elsewhere is not the journal.
    @Test func theBinaryWritesForTheJournalOnlyWhenJournalStreamIsItsStandardError() async throws {
        for journal in [true, false] {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let log = Pipe()
            var info = stat()
            #expect(fstat(log.fileHandleForWriting.fileDescriptor, &info) == 0)
            let stream = journal ? "\(info.st_dev):\(info.st_ino)" : "\(info.st_dev):\(info.st_ino + 1)"
            // Port 1 on loopback refuses at once: the first poll fails and is logged as an outage.
            let process = try launchMTXMon(
                ["collect", "--mediamtx", "http://127.0.0.1:1", "--db", dir.file("l.sqlite"), "--interval", "200ms"],
                environment: ["JOURNAL_STREAM": stream], stderr: log)
            defer { kill(process.processIdentifier, SIGKILL) }
            try await eventually("the outage is recorded") {
                (Int((try? await sqlite3(dir.file("l.sqlite"), "SELECT count(*) FROM poll WHERE ok = 0")) ?? "") ?? 0) >= 1
            }
            kill(process.processIdentifier, SIGTERM)
            try await eventually("the collector exits") { !process.isRunning }
            let output = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let lines = output.split(separator: "\n")
            #expect(lines.contains { $0.contains("collector started") }, "\(output)")
            #expect(!output.contains("\u{1B}"), "no colour codes")
            #expect(output.range(of: #"\d{4}-\d\d-\d\dT\d\d:\d\d"#, options: .regularExpression) == nil,
                    "no timestamp of our own: \(output)")
            if journal {
                #expect(lines.allSatisfy { $0.range(of: #"^<[2-7]>"#, options: .regularExpression) != nil }, "\(output)")
                #expect(lines.contains { $0.hasPrefix("<6>info mtxmon.collect: collector started") })
                #expect(lines.contains { $0.hasPrefix("<4>") || $0.hasPrefix("<3>") }, "the outage at its priority")
            } else {
                #expect(lines.allSatisfy { !$0.hasPrefix("<") }, "\(output)")
            }
        }
    }
}
