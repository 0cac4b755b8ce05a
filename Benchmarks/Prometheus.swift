import CSQLite
import Foundation

/// Prometheus holding the same counters, for the question operators ask: would Grafana on
/// MediaMTX's `/metrics` answer faster? The series are MediaMTX's own names and labels,
/// backfilled with `promtool` from the benchmark's SQLite file, so both hold identical samples.
struct PrometheusReference {
    let dataDirectory: String
    let port: Int

    static func available() -> Bool {
        ["prometheus", "promtool"].allSatisfy { tool in
            (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
                .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        }
    }

    /// Writes the OpenMetrics text of every path's `paths_inbound_bytes` and backfills it, once.
    func prepare(from sqlitePath: String) throws {
        let marker = dataDirectory + "/.complete"
        if FileManager.default.fileExists(atPath: marker) { return }
        try? FileManager.default.removeItem(atPath: dataDirectory)
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let text = dataDirectory + "/../mtxmon-bench-openmetrics.txt"
        print("writing \(text) and backfilling Prometheus with promtool …")
        FileManager.default.createFile(atPath: text, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: text))
        var db: OpaquePointer?
        sqlite3_open_v2(sqlitePath, &db, SQLITE_OPEN_READONLY, nil)
        defer { sqlite3_close(db) }
        var statement: OpaquePointer?
        sqlite3_prepare_v2(db, """
            SELECT p.name, s.ts_ms, s.inbound_bytes FROM sample AS s JOIN path AS p ON p.id = s.path_id
            ORDER BY p.name, s.ts_ms
            """, -1, &statement, nil)
        defer { sqlite3_finalize(statement) }
        var chunk = "# TYPE paths_inbound_bytes gauge\n"
        while sqlite3_step(statement) == SQLITE_ROW {
            let name = String(cString: sqlite3_column_text(statement, 0))
            let ts = sqlite3_column_int64(statement, 1)
            let bytes = sqlite3_column_int64(statement, 2)
            chunk += "paths_inbound_bytes{name=\"\(name)\",state=\"ready\"} \(bytes) \(ts / 1_000).\(String(format: "%03d", ts % 1_000))\n"
            if chunk.utf8.count > 1 << 20 {
                handle.write(Data(chunk.utf8))
                chunk = ""
            }
        }
        chunk += "# EOF\n"
        handle.write(Data(chunk.utf8))
        try handle.close()
        let promtool = Process()
        promtool.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        promtool.arguments = ["promtool", "tsdb", "create-blocks-from", "openmetrics", text, dataDirectory]
        promtool.standardOutput = FileHandle.nullDevice
        try promtool.run()
        promtool.waitUntilExit()
        guard promtool.terminationStatus == 0 else { throw BenchError("promtool failed") }
        try? FileManager.default.removeItem(atPath: text)
        FileManager.default.createFile(atPath: marker, contents: nil)
    }

    /// Starts Prometheus on the backfilled data; scrapes nothing.
    func start() throws -> Process {
        let config = dataDirectory + "/../mtxmon-bench-prometheus.yml"
        try "global:\n  scrape_interval: 1h\n".write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["prometheus", "--config.file=\(config)", "--storage.tsdb.path=\(dataDirectory)",
                             "--storage.tsdb.retention.time=100y", "--web.listen-address=127.0.0.1:\(port)",
                             "--log.level=error"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
