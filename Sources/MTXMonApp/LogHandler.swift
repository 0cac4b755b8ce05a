import Logging
import MTXMonCore
#if canImport(Glibc)
import Glibc
#endif

/// Log lines on standard error: with a timestamp on a terminal, without one elsewhere; under systemd,
/// whose journal stamps each line itself, each line starts with its syslog priority (`<4>` for a warning)
/// so `journalctl -p warning` finds it. Never colour codes.
public struct PlainLogHandler: LogHandler {
    /// How lines are decorated, for where standard error goes.
    public enum Style: Sendable, Equatable {
        /// A person reads it: a local timestamp first.
        case terminal
        /// A file or a pipe: the level and the message only.
        case plain
        /// The journal (`JOURNAL_STREAM` names standard error): a `<N>` priority prefix, no timestamp.
        case journal

        /// The style for this process's standard error, as `sd_journal_stream_fd(3)` advises: the journal
        /// when `JOURNAL_STREAM`'s `device:inode` is standard error's, a terminal when it is a tty.
        public static func detect(environment: [String: String]) -> Style {
            var info = stat()
            if let stream = environment["JOURNAL_STREAM"], fstat(STDERR_FILENO, &info) == 0,
               stream == "\(info.st_dev):\(info.st_ino)" {
                return .journal
            }
            return isatty(STDERR_FILENO) != 0 ? .terminal : .plain
        }
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let style: Style
    let write: @Sendable (String) -> Void

    /// `write` receives each whole line; by default it goes to standard error in one `write(2)`.
    public init(label: String, level: Logger.Level, style: Style,
                write: @escaping @Sendable (String) -> Void = PlainLogHandler.writeToStandardError) {
        self.label = label
        self.logLevel = level
        self.style = style
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = ""
        switch style {
        case .terminal: line += Self.timestamp() + " "
        case .journal: line += "<\(Self.syslogPriority(event.level))>"
        case .plain: break
        }
        line += "\(event.level) \(label): \(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if !merged.isEmpty {
            line += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        // The journal makes an entry of each line: a message's later lines carry its priority too.
        if style == .journal, line.contains("\n") {
            line = line.split(separator: "\n", omittingEmptySubsequences: false)
                .joined(separator: "\n<\(Self.syslogPriority(event.level))>")
        }
        // Whatever a library logs (a service's settings at debug level, a URL in an error), no
        // secret this process was given leaves it in a log line.
        write(Secrets.scrub(line) + "\n")
    }

    /// One write(2) per line, so lines from several tasks never interleave.
    public static let writeToStandardError: @Sendable (String) -> Void = { line in
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// syslog(3) priorities as the journal reads them: 0 emergency … 7 debug.
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(cString: buffer)
    }
}
