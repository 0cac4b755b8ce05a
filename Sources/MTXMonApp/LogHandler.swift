import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Log lines on standard error: with a timestamp on a terminal, without one under systemd,
/// whose journal stamps each line itself. Never colour codes.
public struct PlainLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let withTimestamp: Bool

    public init(label: String, level: Logger.Level, withTimestamp: Bool = isatty(STDERR_FILENO) != 0) {
        self.label = label
        self.logLevel = level
        self.withTimestamp = withTimestamp
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = ""
        if withTimestamp { line += Self.timestamp() + " " }
        line += "\(event.level) \(label): \(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if !merged.isEmpty {
            line += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        line += "\n"
        // One write(2) per line, so lines from several tasks never interleave.
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
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
