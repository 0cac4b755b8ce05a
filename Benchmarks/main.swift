// The history API against the bare SQLite queries that return the same rows, on one generated
// file, in one run. Prints each query's HTTP round trip (request sent → whole body received)
// and its ratio to the bare query, medians of repeated runs.
//
//   swift run -c release mtxmon-bench [--db FILE] [--runs N] [--prometheus]
//   swift run -c release mtxmon-bench --year [--db FILE] [--runs N]
//   swift run -c release mtxmon-bench --steady [--hours 30]
//   swift run -c release mtxmon-bench --live [--clients 1000] [--paths 100] [--polls 30] [--interval-ms 1000]
//   swift run -c release mtxmon-bench --outage [--runs 50]
//   swift run -c release mtxmon-bench --storage [--hours 24] [--dir DIR]   (needs promtool)
//   swift run -c release mtxmon-bench --decode [--runs 51]
//
// The file (100 paths × 24 h at 2 s, 4.32 million samples) is generated on first use and kept.
// With --prometheus (needs `prometheus` and `promtool` on PATH, Debian's package `prometheus`),
// the same counters are backfilled into Prometheus and the equivalent PromQL is timed as well.
import ArgumentParser
import AsyncHTTPClient
import CSQLite
import Foundation
import SQLiteHistory
import History
import HistoryChunks
import Hummingbird
import Logging
import MTXMonCore
import MTXMonServer
import NIOCore
import ServiceLifecycle
import SnapshotCache

/// The benchmark's modes and options; `--help` lists them and runs nothing.
struct BenchOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mtxmon-bench",
        abstract: "mtxmon's benchmarks, each against a reference measured in the same run (see BENCHMARKS.md).",
        discussion: """
            Without a mode: history queries over the HTTP API against bare SQLite (and Prometheus with \
            --prometheus) on a generated file of 100 paths × 24 h.
            """)

    @Flag(help: "A year of 100 paths at the default retention: file size by table, prune under a writing collector (--db, --runs).")
    var year = false
    @Flag(help: "Whether a file under a never-stopping collector and hourly prunes stays flat (--hours).")
    var steady = false
    @Flag(help: "Bytes per path-poll against Prometheus on the same data (--hours, --dir; needs promtool).")
    var storage = false
    @Flag(help: "How long a poll of a MediaMTX that is down takes to fail, against a bare connect() (--runs).")
    var outage = false
    @Flag(help: "WebSocket clients of one mtxmon serve against a bare Redis subscriber (--clients, --paths, --polls, --interval-ms).")
    var live = false
    @Flag(help: "CPU to read one poll's replies (1,000 paths, 2,000 connections) against JSONDecoder (--runs).")
    var decode = false
    @Flag(help: "Also time the same questions on Prometheus (needs prometheus and promtool on PATH).")
    var prometheus = false

    @Option(help: "The generated history file (kept between runs).")
    var db: String?
    @Option(help: "Timed runs per question (default 15; --year 9; --outage 50; --decode 51).")
    var runs: Int?
    @Option(help: "Hours of polls to generate (--steady 30, --storage 24).")
    var hours: Int?
    @Option(help: "Working folder for --storage.")
    var dir: String?
    @Option(help: "--storage: also write the same polls to this empty PostgreSQL database and measure it (postgres://…).")
    var postgres: String?
    @Option(help: "WebSocket clients for --live.")
    var clients = 1_000
    @Option(help: "Paths for --live.")
    var paths = 100
    @Option(help: "Polls for --live.")
    var polls = 30
    @Option(name: .customLong("interval-ms"), help: "Poll interval for --live, in milliseconds.")
    var intervalMs = 1_000

    func validate() throws {
        let modes = [year, steady, storage, outage, live, decode].filter { $0 }.count
        guard modes <= 1 else { throw ValidationError("choose one of --year, --steady, --storage, --outage, --live, --decode") }
        if let runs, runs < 1 { throw ValidationError("--runs must be at least 1") }
        if let hours, hours < 1 { throw ValidationError("--hours must be at least 1") }
    }
}

let options = BenchOptions.parseOrExit()
if options.year {
    try await YearBenchmark.run(dbPath: options.db ?? NSTemporaryDirectory() + "mtxmon-bench-year.sqlite",
                                runs: options.runs ?? 9)
    exit(0)
}
if options.steady {
    try SteadyBenchmark.run(hours: options.hours ?? 30)
    exit(0)
}
if options.storage {
    let written = try await StorageBenchmark.run(hours: options.hours ?? 24,
                                                 directory: options.dir ?? NSTemporaryDirectory() + "mtxmon-bench-storage",
                                                 postgres: options.postgres)
    try await ConnectionQueries.run(written, runs: options.runs ?? 15)
    exit(0)
}
if options.outage {
    try await OutageBenchmark.run(runs: options.runs ?? 50)
    exit(0)
}
if options.decode {
    try DecodeBenchmark.run(runs: options.runs ?? 51)
    exit(0)
}
if options.live {
    try await LiveBenchmark.run(clients: options.clients, paths: options.paths, polls: options.polls,
                                intervalMs: options.intervalMs)
    exit(0)
}
let dbPath = options.db ?? NSTemporaryDirectory() + "mtxmon-bench-100x24h.sqlite"
let runs = options.runs ?? 15
let pathCount = 100
let interval: Int64 = 2_000
let day: Int64 = 86_400_000
/// Data ends here; every query is relative to it, as `now` would be.
let end: Int64 = 1_800_000_000_000
let start = end - day + interval

func name(_ i: Int) -> String { "live/cam\(String(format: "%03d", i))" }

/// Writes the file through the collector's own write path: one transaction per batch of polls.
func generate() throws {
    print("generating \(dbPath): \(pathCount) paths × \(day / interval) polls …")
    let store = try SQLiteHistory(path: dbPath)
    var counters = [Int64](repeating: 0, count: pathCount)
    var batch: [PollBatch] = []
    var ts = start
    var generator = SystemRandomNumberGenerator()
    while ts <= end {
        var paths: [PathSample] = []
        paths.reserveCapacity(pathCount)
        for i in 0..<pathCount {
            let bitrate = 2_000_000.0 + Double(Int.random(in: -50_000...50_000, using: &generator))
            let previous = counters[i]
            counters[i] += Int64(bitrate / 8 * Double(interval) / 1_000)
            let srt = i % 10 == 0 ? SRTLink(
                connectionID: "c\(i)", rttMs: 20 + Double.random(in: 0..<5), recvRateMbps: 2.1, linkCapacityMbps: 50,
                tsbpdDelayMs: 120, packetsReceived: counters[i] / 1_316, packetsReceivedLoss: counters[i] / 2_000_000,
                packetsReceivedRetrans: counters[i] / 1_000_000, packetsReceivedDrop: 0) : nil
            paths.append(PathSample(
                name: name(i), online: true, sourceType: srt == nil ? "rtspSession" : "srtConn",
                inboundBytes: counters[i], outboundBytes: counters[i] * 2, bitrateIn: previous == 0 ? nil : bitrate,
                bitrateOut: previous == 0 ? nil : bitrate * 2, readers: 2, readersByType: ["rtspSession": 2], srt: srt))
        }
        batch.append(PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 15, pathCount: pathCount),
                               snapshot: Snapshot(ts: ts, paths: paths)))
        if batch.count == 300 {
            try store.append(batch)
            _ = try store.sealIfDue()
            batch.removeAll(keepingCapacity: true)
        }
        ts += interval
    }
    try store.append(batch)
    try store.finish()
}

/// A bare SQLite connection: the reference every HTTP figure is divided by.
final class Bare {
    let db: OpaquePointer
    init(_ path: String) {
        var handle: OpaquePointer?
        sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, nil)
        db = handle!
        // The same mapping mtxmon's read connections use: the reference is SQLite at its best.
        sqlite3_exec(db, "PRAGMA mmap_size = 1073741824", nil, nil, nil)
    }

    /// Runs `sql` once per bound path id and reads every column of every row; returns the row count.
    func run(_ sql: String, ids: [Int64], from: Int64, to: Int64) -> Int {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            fatalError(String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(statement) }
        var rows = 0
        var sink = 0.0
        for id in ids {
            sqlite3_reset(statement)
            sqlite3_bind_int64(statement, 1, id)
            sqlite3_bind_int64(statement, 2, from)
            sqlite3_bind_int64(statement, 3, to)
            let columns = sqlite3_column_count(statement)
            while sqlite3_step(statement) == SQLITE_ROW {
                rows += 1
                for c in 0..<columns { sink += sqlite3_column_double(statement, c) }
            }
        }
        if sink.isNaN { print("") }
        return rows
    }

    func ids() -> [Int64] {
        var statement: OpaquePointer?
        sqlite3_prepare_v2(db, "SELECT id FROM path ORDER BY name", -1, &statement, nil)
        defer { sqlite3_finalize(statement) }
        var ids: [Int64] = []
        while sqlite3_step(statement) == SQLITE_ROW { ids.append(sqlite3_column_int64(statement, 0)) }
        return ids
    }
}

/// Raw answers come from the chunks a range touches: the bare reference reads those rows, without
/// decoding them.
let rawSQL = """
    SELECT first_ts, last_ts, rows, data FROM chunk WHERE path_id = ?1 AND last_ts >= ?2 AND first_ts <= ?3
    ORDER BY first_ts
    """
/// Stepped answers come from the minute rollups: the bare reference reads the same minute rows.
let stepSQL = """
    SELECT * FROM sample_1m WHERE path_id = ?1 AND minute_ms BETWEEN ?2 AND ?3 ORDER BY minute_ms
    """
let countersSQL = rawSQL

struct Query {
    let label: String
    let uri: String
    let sql: String
    let allPaths: Bool
    let from: Int64
    /// What a Grafana panel on MediaMTX's `/metrics` would ask Prometheus for the same answer.
    let promQL: String
    /// Range step in seconds; `nil` for an instant query at `end`.
    let promStep: Int?
}

let hour: Int64 = 3_600_000
let one = name(0).replacingOccurrences(of: "/", with: "%2F")
let selector = "paths_inbound_bytes{name=\"\(name(0))\"}"
let queries = [
    Query(label: "1 path, 1 h raw", uri: "/api/v1/history/\(one)?from=now-1h", sql: rawSQL, allPaths: false,
          from: end - hour, promQL: "irate(\(selector)[10s]) * 8", promStep: 2),
    Query(label: "1 path, 1 h bitrate (rates)", uri: "/api/v1/rates/\(one)?window=1h", sql: countersSQL, allPaths: false,
          from: end - hour, promQL: "rate(\(selector)[1h]) * 8", promStep: nil),
    Query(label: "100 paths, 1 h raw", uri: "/api/v1/history?from=now-1h", sql: rawSQL, allPaths: true,
          from: end - hour, promQL: "irate(paths_inbound_bytes[10s]) * 8", promStep: 2),
    Query(label: "1 path, 24 h step 60 s", uri: "/api/v1/history/\(one)?from=now-24h&step=60s", sql: stepSQL,
          allPaths: false, from: end - day, promQL: "rate(\(selector)[1m]) * 8", promStep: 60),
    Query(label: "100 paths, 24 h step 60 s", uri: "/api/v1/history?from=now-24h&step=60s", sql: stepSQL,
          allPaths: true, from: end - day, promQL: "rate(paths_inbound_bytes[1m]) * 8", promStep: 60),
]

func promURI(_ query: Query) -> String {
    let q = query.promQL.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    guard let step = query.promStep else { return "/api/v1/query?query=\(q)&time=\(end / 1_000)" }
    return "/api/v1/query_range?query=\(q)&start=\(query.from / 1_000)&end=\(end / 1_000)&step=\(step)"
}

if !FileManager.default.fileExists(atPath: dbPath) { try generate() }
let store = try SQLiteHistory(path: dbPath)
let bare = Bare(dbPath)
let ids = bare.ids()
precondition(ids.count == pathCount, "\(dbPath) is not a benchmark file: remove it to regenerate")

let server = try await BenchServer.start(store: store, intervalMs: interval, now: end, port: 19_990)
func fetch(_ uri: String, port: Int? = nil) async throws -> Int { try await server.fetch(uri, port: port) }

var prometheus: (reference: PrometheusReference, process: Process)?
if options.prometheus {
    guard PrometheusReference.available() else {
        print("--prometheus needs prometheus and promtool on PATH: apt-get install prometheus")
        exit(2)
    }
    let reference = PrometheusReference(dataDirectory: NSTemporaryDirectory() + "mtxmon-bench-prometheus", port: 19_991)
    try reference.prepare(from: dbPath)
    let process = try reference.start()
    prometheus = (reference, process)
    var ready = false
    for _ in 0..<600 where !ready {
        ready = (try? await fetch("/-/ready", port: reference.port)) != nil
        if !ready { try await Task.sleep(for: .milliseconds(100)) }
    }
    precondition(ready, "Prometheus did not become ready")
}

print("\(pathCount) paths × 24 h at 2 s; medians of \(runs) runs after 2 warm-ups\n")
print("| Query | Rows | HTTP bytes | HTTP ms | Bare SQLite ms | Ratio |")
print("|---|---:|---:|---:|---:|---:|")
var promLines: [String] = []
for query in queries {
    let queryIDs = query.allPaths ? ids : [ids[0]]
    var rows = 0
    var bytes = 0
    var http: [Double] = []
    var sql: [Double] = []
    var prom: [Double] = []
    var promBytes = 0
    var narrowed: [Double] = []
    var narrowBytes = 0
    for run in 0..<(runs + 2) {
        // Interleaved, so all see the same page cache and machine load.
        let s = milliseconds { rows = bare.run(query.sql, ids: queryIDs, from: query.from, to: end) }
        let h = try await timed { try await fetch(query.uri) }
        bytes = h.bytes
        if run >= 2 {
            sql.append(s)
            http.append(h.ms)
        }
        if let prometheus {
            let p = try await timed { try await fetch(promURI(query), port: prometheus.reference.port) }
            // The same single figure Prometheus answers, in the form the dashboard asks for.
            let narrow = query.uri.hasPrefix("/api/v1/history") ? query.uri + "&fields=bitrateIn&format=columns" : query.uri
            let n = try await timed { try await fetch(narrow) }
            promBytes = p.bytes
            narrowBytes = n.bytes
            if run >= 2 {
                prom.append(p.ms)
                narrowed.append(n.ms)
            }
        }
    }
    let h = median(http)
    let s = median(sql)
    print(String(format: "| %@ | %d | %d | %.2f | %.2f | %.2f× |", query.label, rows, bytes, h, s, h / s))
    if !prom.isEmpty {
        let p = median(prom)
        let n = median(narrowed)
        promLines.append(String(format: "| %@ | `%@` | %d | %.2f | %d | %.2f | %.2f× |", query.label, query.promQL,
                                promBytes, p, narrowBytes, n, p / n))
    }
}
if !promLines.isEmpty {
    print("\nThe same questions to Prometheus on the same counters (HTTP round trip, medians);")
    print("mtxmon asked for the same one figure (fields=bitrateIn&format=columns):\n")
    print("| Query | PromQL | Prometheus bytes | Prometheus ms | mtxmon bytes | mtxmon ms | Prometheus ÷ mtxmon |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for line in promLines { print(line) }
}
prometheus?.process.terminate()
try await server.stop()
