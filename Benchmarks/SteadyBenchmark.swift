// `mtxmon-bench --steady`: which way of giving back the space a prune frees keeps the file flat
// under a collector that never stops. Both files take the same polls through the collector's write
// path (20 paths at 2 s, in time compressed as fast as the writes go) and a prune after every
// simulated hour with a retention of 7 hours, the default's 7 days and daily prune scaled down:
//
// - free-page reuse (what mtxmon does): deleted rows' pages stay in the file and take new rows;
// - incremental vacuum: the file is made with `auto_vacuum = INCREMENTAL` and each prune is
//   followed by `PRAGMA incremental_vacuum`, which hands the free pages back to the file system.
import CSQLite
import Foundation
import SQLiteHistory
import History
import HistoryChunks
import MTXMonCore

enum SteadyBenchmark {
    static let paths = 20
    static let hour: Int64 = 3_600_000
    static let retentionHours: Int64 = 7
    static let start: Int64 = 1_800_000_000_000

    static func run(hours: Int) throws {
        print("\(paths) paths at 2 s, a prune after every hour keeping \(retentionHours) h, \(hours) h in all\n")
        var results: [(String, [Int64], [Int64], [Double], [Double])] = []
        for vacuum in [false, true] {
            let path = NSTemporaryDirectory() + "mtxmon-bench-steady-\(vacuum ? "vacuum" : "reuse").sqlite"
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            if vacuum {
                var handle: OpaquePointer?
                sqlite3_open(path, &handle)
                // Takes effect only before the first table is made.
                sqlite3_exec(handle, "PRAGMA auto_vacuum = INCREMENTAL; CREATE TABLE x (a); DROP TABLE x;", nil, nil, nil)
                sqlite3_close(handle)
            }
            let store = try SQLiteHistory(path: path)
            var handle: OpaquePointer?
            sqlite3_open(path, &handle)
            guard let db = handle else { throw BenchError("cannot open \(path)") }
            defer { sqlite3_close(db) }
            sqlite3_busy_timeout(db, 10_000)
            var sizes: [Int64] = []
            var peaks: [Int64] = []
            var pruneMs: [Double] = []
            var writeMs: [Double] = []
            for h in 0..<hours {
                var batches: [PollBatch] = []
                for i in 0..<1_800 {
                    let ts = start + Int64(h) * hour + Int64(i) * 2_000
                    batches.append(poll(ts))
                    if batches.count == 30 {
                        writeMs.append(try milliseconds {
                            try store.append(batches)
                            _ = try store.sealIfDue()
                        })
                        batches.removeAll(keepingCapacity: true)
                    }
                }
                let now = start + Int64(h + 1) * hour
                sqlite3_exec(db, "PRAGMA wal_checkpoint(PASSIVE)", nil, nil, nil)
                peaks.append(YearBenchmark.bytes(path))
                pruneMs.append(try milliseconds {
                    _ = try store.prune(rawBefore: now - retentionHours * hour, rollupsBefore: now - retentionHours * hour)
                    if vacuum { sqlite3_exec(db, "PRAGMA incremental_vacuum", nil, nil, nil) }
                })
                sizes.append(YearBenchmark.bytes(path))
            }
            results.append((vacuum ? "incremental vacuum" : "free-page reuse", peaks, sizes, pruneMs, writeMs))
        }
        let marks = [retentionHours - 1, retentionHours, retentionHours + 1, Int64(hours) / 2, Int64(hours) - 1]
            .map(Int.init).filter { $0 < hours }
        print("File size after each hour's prune (and, from hour \(retentionHours + 1), the highest it reached before one):\n")
        print("| Space back | " + marks.map { "hour \($0 + 1)" }.joined(separator: " | ")
            + " | after prunes, from hour \(retentionHours + 1) | highest before a prune | prune ms (median) | 1-minute write p99 ms |")
        print("|---|" + String(repeating: "---:|", count: marks.count + 4))
        for (name, peaks, sizes, prunes, writes) in results {
            let steady = sizes.dropFirst(Int(retentionHours))
            let highest = peaks.dropFirst(Int(retentionHours)).max() ?? 0
            print("| \(name) | " + marks.map { String(format: "%.1f MB", Double(sizes[$0]) / 1e6) }.joined(separator: " | ")
                + String(format: " | %.1f–%.1f MB | %.1f MB | %.1f | %.1f |", Double(steady.min() ?? 0) / 1e6,
                         Double(steady.max() ?? 0) / 1e6, Double(highest) / 1e6, median(prunes),
                         percentile(writes.sorted(), 0.99)))
        }
    }

    static func poll(_ ts: Int64) -> PollBatch {
        let elapsed = ts - start
        let samples = (0..<paths).map { i in
            PathSample(name: String(format: "live/cam%03d", i), online: true, sourceType: "rtspSession",
                       inboundBytes: elapsed * 250, outboundBytes: elapsed * 500,
                       bitrateIn: 2_000_000 + Double((elapsed / 2_000 * 7_919 + Int64(i)) % 50_000), bitrateOut: 4_000_000,
                       readers: 2, readersByType: ["rtspSession": 2],
                       srt: i % 10 == 0 ? SRTLink(connectionID: "c\(i)", rttMs: 20 + Double(elapsed / 2_000 % 997) / 1_000,
                                                  recvRateMbps: 2.1, linkCapacityMbps: 48, tsbpdDelayMs: 120,
                                                  packetsReceived: elapsed / 10, packetsReceivedLoss: 1,
                                                  packetsReceivedRetrans: 2, packetsReceivedDrop: 0) : nil)
        }
        return PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 15, pathCount: paths),
                         snapshot: Snapshot(ts: ts, paths: samples))
    }
}
