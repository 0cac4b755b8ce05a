import Foundation
import SQLiteHistory
import History
import HistoryChunks
import MTXMonCore
import PostgresHistory

/// What a day of history costs on disk: mtxmon's file, written through the collector's own write
/// path and sealed, against Prometheus holding the same figures under MediaMTX's metric names and
/// labels, backfilled with `promtool` into its own blocks.
///
/// Prometheus gets the favourable case: timestamps exactly on the 2 s grid (what its scrape
/// timestamp alignment aims for), where mtxmon stores the few milliseconds of jitter real polls have.
enum StorageBenchmark {
    /// What the query comparison needs from a finished run.
    struct Written {
        let file: String
        let prometheus: String
        let end: Int64
        let hours: Int
        /// A path's SRT publisher and another path's RTSP publisher: connections that last the run.
        let srt: String
        let rtsp: String
    }

    /// With `postgres`, the same batches also go to a PostgreSQL history there (an empty database),
    /// whose tables and indexes are then measured as PostgreSQL counts them.
    static func run(hours: Int, directory: String, postgres: String? = nil) async throws -> Written {
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let polls = hours * 1_800
        let start: Int64 = 1_800_000_000_000
        let file = directory + "/mtxmon.sqlite"
        let store = try SQLiteHistory(path: file)
        var data = StorageData(start: start)
        var paths = PathStates(maxGapMs: 7_000)
        var connections = ConnectionTracker(maxGapMs: 7_000)
        var metrics = OpenMetricsSlice()
        var promBytes: Int64 = 0
        var promSamples = 0
        var promSeries = Set<String>()
        var batch: [PollBatch] = []
        var writeCPU = 0.0
        var pg: PostgresHistory?
        if let postgres { pg = try await PostgresHistory(url: PostgresURL(postgres)) }
        var pgWall = Duration.zero
        print("generating \(hours) h of \(StorageData.paths) paths, each with a publisher and two readers, every 2 s …")
        for i in 0..<polls {
            let ts = data.step()
            let (pathSamples, connectionSamples) = data.samples()
            let cpu0 = cpuSeconds()
            let derived = paths.answered(pathSamples, at: ts)
            let snapshot = Snapshot(ts: ts, paths: derived, connections: connections.derive(
                connectionSamples, at: ts, listsRead: Set(ConnectionProtocol.allCases)))
            batch.append(PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 4, pathCount: derived.count),
                                   snapshot: snapshot))
            if batch.count == 30 {
                try store.append(batch)
                _ = try store.sealIfDue()
            }
            writeCPU += cpuSeconds() - cpu0
            if batch.count == 30 {
                if let pg {
                    let t0 = ContinuousClock.now
                    _ = try await pg.append(batch, deliverTo: [])
                    if await pg.needsCompaction() { _ = try await pg.compact() }
                    pgWall += t0.duration(to: .now)
                }
                batch.removeAll(keepingCapacity: true)
            }
            metrics.add(data, ts: data.gridTs(i))
            // Prometheus cuts its blocks every 2 h; so does the backfill here, one slice at a time.
            if (i + 1) % 3_600 == 0 || i == polls - 1 {
                let (bytes, samples, series) = try metrics.backfill(into: directory + "/prometheus", scratch: directory)
                promBytes = bytes
                promSamples += samples
                promSeries.formUnion(series)
                metrics = OpenMetricsSlice()
                print("  \(String(format: "%.1f", Double(i + 1) * 2 / 3_600)) h done")
            }
        }
        if !batch.isEmpty {
            try store.append(batch)
            _ = try await pg?.append(batch, deliverTo: [])
        }
        try await pg?.finish()
        let cpu0 = cpuSeconds()
        try await store.finish()
        writeCPU += cpuSeconds() - cpu0
        let mtxmonBytes = try fileBytes(file)
        let tables = try tableBytes(file)
        let pathPolls = Double(polls * StorageData.paths)
        print("")
        print("| | mtxmon | Prometheus |")
        print("|---|---|---|")
        print("| path-polls (each with 3 connections) | \(Int(pathPolls)) | \(Int(pathPolls)) |")
        print("| series | paths and connections in one chunk per path | \(promSeries.count) |")
        print("| samples | | \(promSamples) |")
        print("| bytes on disk | \(mtxmonBytes) | \(promBytes) |")
        print("| bytes per path-poll | \(String(format: "%.1f", Double(mtxmonBytes) / pathPolls)) | \(String(format: "%.1f", Double(promBytes) / pathPolls)) |")
        print("| bytes per Prometheus sample | | \(String(format: "%.2f", Double(promBytes) / Double(max(1, promSamples)))) |")
        print("| CPU of the write path per poll of \(StorageData.paths) paths | \(String(format: "%.2f", writeCPU / Double(polls) * 1_000)) ms | |")
        print("")
        print("mtxmon by table (bytes per path-poll):")
        for (name, bytes) in tables.sorted(by: { $0.1 > $1.1 }) where bytes > 0 {
            print("  \(name): \(bytes) (\(String(format: "%.1f", Double(bytes) / pathPolls)))")
        }
        print("storage ratio mtxmon/prometheus \(String(format: "%.2f", Double(mtxmonBytes) / Double(max(1, promBytes))))")
        if let pg, let postgres {
            let sizes = try await pg.relationSizes()
            let total = sizes.reduce(0) { $0 + $1.bytes }
            print("")
            print("PostgreSQL (\(pg.location)), pg_total_relation_size of every table with its indexes and TOAST:")
            for (name, bytes) in sizes.sorted(by: { $0.bytes > $1.bytes }) where bytes > 0 {
                print("  \(name): \(bytes) (\(String(format: "%.1f", Double(bytes) / pathPolls)) per path-poll)")
            }
            print("| | SQLite file | PostgreSQL |")
            print("|---|---|---|")
            print("| bytes | \(mtxmonBytes) | \(total) |")
            print("| bytes per path-poll | \(String(format: "%.1f", Double(mtxmonBytes) / pathPolls)) | \(String(format: "%.1f", Double(total) / pathPolls)) |")
            print("| wall time of the write path per poll of \(StorageData.paths) paths | | \(String(format: "%.2f", pgWall.ms / Double(polls))) ms (append and seal, PostgreSQL on this machine) |")
            print("storage ratio postgresql/sqlite \(String(format: "%.2f", Double(total) / Double(max(1, mtxmonBytes))))")
            _ = postgres
            try await compareQueries(sqlite: store, postgres: pg, path: data.paths[0].name, server: ServerName.default,
                                     connection: data.paths.first { $0.connections[0].proto == .srt }!.connections[0].id,
                                     end: data.gridTs(polls - 1))
            pg.close()
        }
        let srt = data.paths.first { $0.connections[0].proto == .srt }!.connections[0].id
        let rtsp = data.paths.first { $0.connections[0].proto == .rtsp }!.connections[0].id
        return Written(file: file, prometheus: directory + "/prometheus", end: data.gridTs(polls - 1), hours: hours,
                       srt: srt, rtsp: rtsp)
    }

    /// The same questions through the history interface of both stores, median of 15 each: what
    /// an API answer costs below its JSON.
    static func compareQueries(sqlite: any HistoryReader, postgres: any HistoryReader, path name: String, server: String,
                               connection id: String, end: Int64) async throws {
        let path = PathRef(server: server, name: name)
        let ref = ConnectionRef(server: server, id: id)
        let questions: [(String, @Sendable (any HistoryReader) async throws -> Int)] = [
            ("one path, 1 h raw, bitrate", { try await $0.points(path, range: HistoryRange(from: end - 3_600_000, to: end), fields: [.bitrateIn]).count }),
            ("one path, 24 h at 5 m", { try await $0.points(path, range: HistoryRange(from: end - 86_400_000, to: end, step: 300_000)).count }),
            ("one path's rates over 1 h", { try await $0.windowRates(path, from: end - 3_600_000, to: end, maxGapMs: 7_000).samples }),
            ("one connection, 1 h raw", { try await $0.connectionPoints(ref, from: end - 3_600_000, to: end, through: .gauges).count }),
            ("latest state of every path", { try await $0.latestSnapshots(forgetAfterMs: 86_400_000).reduce(0) { $0 + $1.paths.count } }),
        ]
        print("")
        print("| question (history interface, median of 15) | SQLite file | PostgreSQL | ratio |")
        print("|---|---|---|---|")
        for (question, body) in questions {
            var times: [[Double]] = [[], []]
            for (i, store) in [sqlite, postgres].enumerated() {
                _ = try await body(store)
                for _ in 0..<15 {
                    let t0 = ContinuousClock.now
                    _ = try await body(store)
                    times[i].append(t0.duration(to: .now).ms)
                }
            }
            let medians = times.map { $0.sorted()[$0.count / 2] }
            print("| \(question) | \(String(format: "%.2f", medians[0])) ms | \(String(format: "%.2f", medians[1])) ms | \(String(format: "%.1f", medians[1] / medians[0]))× |")
        }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func fileBytes(_ file: String) throws -> Int64 {
        var total: Int64 = 0
        for suffix in ["", "-wal", "-shm"] {
            if let size = try? FileManager.default.attributesOfItem(atPath: file + suffix)[.size] as? NSNumber {
                total += size.int64Value
            }
        }
        return total
    }

    /// Bytes per table and index, from SQLite's `dbstat` where the library has it.
    static func tableBytes(_ file: String) throws -> [(String, Int64)] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sqlite3", file,
                             "SELECT name, sum(pgsize) FROM dbstat GROUP BY name UNION ALL SELECT '(free pages)', "
                                 + "(SELECT freelist_count FROM pragma_freelist_count) * (SELECT page_size FROM pragma_page_size)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "|")
            guard parts.count == 2, let bytes = Int64(parts[1]) else { return nil }
            return (String(parts[0]), bytes)
        }
    }
}

/// Two hours of MediaMTX's `/metrics` series for the figures mtxmon keeps, family by family
/// (OpenMetrics does not let families interleave), then `promtool` makes a block of them.
struct OpenMetricsSlice {
    /// Per family, per series (its label text), the (ms, value) samples in time order.
    var families: [String: [String: [(Int64, Double)]]] = [:]
    var order: [String] = []

    mutating func put(_ family: String, _ labels: String, _ ts: Int64, _ value: Double) {
        if families[family] == nil { order.append(family) }
        families[family, default: [:]][labels, default: []].append((ts, value))
    }

    static let rtsp = ["inbound_bytes", "inbound_rtp_packets", "inbound_rtp_packets_lost", "inbound_rtp_packets_in_error",
                       "inbound_rtp_packets_jitter", "inbound_rtcp_packets", "inbound_rtcp_packets_in_error", "outbound_bytes",
                       "outbound_rtp_packets", "outbound_rtp_packets_reported_lost", "outbound_rtp_packets_discarded",
                       "outbound_rtcp_packets"]

    mutating func add(_ data: StorageData, ts: Int64) {
        for p in data.paths {
            let name = "name=\"\(p.name)\",state=\"ready\""
            put("paths", name, ts, 1)
            put("paths_readers", name + ",readerType=\"rtspSession\"", ts, 2)
            put("paths_inbound_bytes", name, ts, Double(p.inbound))
            put("paths_outbound_bytes", name, ts, Double(p.outbound))
            put("paths_inbound_frames_in_error", name, ts, 0)
            for c in p.connections {
                let state = c.role == .publisher ? "publish" : "read"
                let labels = "id=\"\(c.id)\",path=\"\(p.name)\",remoteAddr=\"10.1.2.3:40000\",state=\"\(state)\""
                if c.proto == .srt {
                    put("srt_conns", labels, ts, 1)
                    let figures: [(String, Double)] = [
                        ("bytes_received", Double(c.bytes)), ("bytes_sent", 0), ("packets_received", Double(c.packets)),
                        ("packets_received_loss", Double(c.lost)), ("packets_received_retrans", Double(c.retrans)),
                        ("packets_received_drop", Double(c.dropped)), ("packets_received_belated", 0),
                        ("packets_received_undecrypt", 0), ("packets_sent", 0), ("packets_send_loss", 0),
                        ("packets_retrans", 0), ("packets_send_drop", 0), ("ms_rtt", c.rtt),
                        ("mbps_receive_rate", c.recvRate), ("mbps_send_rate", c.sendRate),
                        ("mbps_link_capacity", c.linkCapacity), ("ms_receive_tsb_pd_delay", 120),
                    ]
                    for (f, v) in figures { put("srt_conns_" + f, labels, ts, v) }
                } else {
                    put("rtsp_sessions", labels, ts, 1)
                    let publisher = c.role == .publisher
                    let values: [Double] = [
                        publisher ? Double(c.bytes) : 0, publisher ? Double(c.packets) : 0, publisher ? Double(c.lost) : 0, 0,
                        publisher ? c.jitter : 0, publisher ? Double(c.rtcp) : 0, 0, publisher ? 0 : Double(c.bytes),
                        publisher ? 0 : Double(c.packets), publisher ? 0 : Double(c.lost), 0, publisher ? 0 : Double(c.rtcp),
                    ]
                    for (f, v) in zip(Self.rtsp, values) { put("rtsp_sessions_" + f, labels, ts, v) }
                }
            }
        }
    }

    /// Writes the slice, backfills it, deletes the text. Returns the size of every block so far,
    /// the samples of this slice and its series.
    func backfill(into blocks: String, scratch: String) throws -> (Int64, Int, Set<String>) {
        let text = scratch + "/slice.om"
        FileManager.default.createFile(atPath: text, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: text))
        var buffer = ""
        var samples = 0
        var series = Set<String>()
        for family in order {
            buffer += "# TYPE \(family) gauge\n"
            for (labels, points) in families[family] ?? [:] {
                series.insert(family + "{" + labels + "}")
                for (ts, value) in points {
                    buffer += "\(family){\(labels)} \(value) \(ts / 1_000).\(String(format: "%03d", ts % 1_000))\n"
                    samples += 1
                }
                if buffer.utf8.count > 1 << 22 {
                    handle.write(Data(buffer.utf8))
                    buffer = ""
                }
            }
        }
        buffer += "# EOF\n"
        handle.write(Data(buffer.utf8))
        try handle.close()
        let promtool = Process()
        promtool.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        promtool.arguments = ["promtool", "tsdb", "create-blocks-from", "openmetrics", text, blocks]
        promtool.standardOutput = FileHandle.nullDevice
        try promtool.run()
        promtool.waitUntilExit()
        guard promtool.terminationStatus == 0 else { throw BenchError("promtool failed on \(text)") }
        try FileManager.default.removeItem(atPath: text)
        return (try directoryBytes(blocks), samples, series)
    }

    func directoryBytes(_ path: String) throws -> Int64 {
        var total: Int64 = 0
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let name = enumerator?.nextObject() as? String {
            let attributes = try FileManager.default.attributesOfItem(atPath: path + "/" + name)
            if attributes[.type] as? FileAttributeType == .typeRegular, let size = attributes[.size] as? NSNumber {
                total += size.int64Value
            }
        }
        return total
    }
}
