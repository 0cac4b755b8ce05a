import Foundation
import SQLiteHistory
import History
import HistoryChunks

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
        // Read through mtxmon's own reader, path by path, a few hours at a time.
        let store = try SQLiteHistory(path: sqlitePath)
        let paths = try store.read { db in try db.allPaths() }
        let first = try store.read { db in try db.firstPoll() } ?? 0
        let last = try store.read { db in try db.lastPoll()?.ts } ?? 0
        var chunk = "# TYPE paths_inbound_bytes gauge\n"
        for (id, name, _) in paths {
            var from = first
            while from <= last {
                let to = min(last, from + 6 * 3_600_000 - 1)
                for row in try store.read({ db in try db.counterRows(pathID: id, from: from, to: to) }) {
                    let ts = row.ts
                    chunk += "paths_inbound_bytes{name=\"\(name)\",state=\"ready\"} \(row.inboundBytes) \(ts / 1_000).\(String(format: "%03d", ts % 1_000))\n"
                }
                if chunk.utf8.count > 1 << 20 {
                    handle.write(Data(chunk.utf8))
                    chunk = ""
                }
                from = to + 1
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
