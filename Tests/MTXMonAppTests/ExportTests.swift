import Foundation
import SQLiteHistory
import History
import MTXMonCore
import Testing
import TestSupport

/// `mtxmon export` writes every stored figure of a range, as CSV or JSON lines, and says what
/// is wrong with a bad request.
@Suite struct ExportTests {
    func export(_ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
        let ran = try await runToEnd(mtxmonBinary, ["export"] + arguments)
        return (ran.status, ran.stdout, ran.stderr)
    }

    @Test func everyRowOfARangeAsCSVAndJSONLines() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("e.sqlite")
        let store = try SQLiteHistory(path: db, sealEvery: 7)
        let base: Int64 = 1_700_000_000_000
        for i in 0..<20 {
            let ts = base + Int64(i) * 2_000
            var reader = ConnectionSample(id: "r,1", proto: .rtsp, role: .reader, path: "cam 1", outboundBytes: Int64(i) * 100)
            reader.jitter = 0.1 + Double(i) / 3
            let paths = [PathSample(name: "cam 1", online: true, inboundBytes: Int64(i) * 1_000,
                                    bitrateIn: i == 0 ? nil : 4_000.5),
                         PathSample(name: "b", online: i % 2 == 0)]
            try store.append([PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 1),
                                        snapshot: Snapshot(ts: ts, paths: paths, connections: [reader]))])
        }
        let csv = try await export(["--db", db, "--from", "\(base / 1_000)", "--to", "\(base / 1_000 + 60)"])
        #expect(csv.status == 0, "\(csv.err)")
        let lines = csv.out.split(separator: "\n")
        #expect(lines.first == Substring(ExportFormat.pathColumns.joined(separator: ",")))
        #expect(lines.count == 1 + 40, "a header and both paths' 20 polls, recent and sealed alike")
        #expect(lines.contains { $0.hasPrefix("default,cam 1,\(base + 2_000),1,0,,1000,0,4000.5,") })

        let one = try await export(["--db", db, "--from", "\(base / 1_000)", "--path", "cam 1", "--format", "jsonl"])
        let objects = one.out.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == 20 && objects.allSatisfy { $0?["path"] as? String == "cam 1" })
        #expect(objects.first??["bitrate_in_bps"] is NSNull, "no bitrate on the first sample: null, not 0")

        let connection = try await export(["--db", db, "--from", "\(base / 1_000)", "--connection", "r,1"])
        let rows = connection.out.split(separator: "\n")
        #expect(rows.count == 21)
        #expect(rows.dropFirst().allSatisfy { $0.hasPrefix("default,\"r,1\",rtsp,cam 1,") })
        #expect(rows.last?.contains(",\(0.1 + Double(19) / 3),") == true, "a double to its last bit: \(rows.last ?? "")")

        let bad = try await export(["--db", db, "--format", "xml"])
        #expect(bad.status != 0 && bad.err.contains("use csv or jsonl"))
        let missing = try await export(["--db", db, "--path", "nope"])
        #expect(missing.status != 0 && missing.err.contains("no path 'nope'"))
        let nofile = try await export(["--db", dir.file("none.sqlite")])
        #expect(nofile.status != 0 && nofile.err.contains("does not exist"))
    }

    /// A spreadsheet or `jq` reads the time without converting epoch milliseconds, and the readers
    /// by type as the object they are, not as a string to parse a second time.
    @Test func timeAsRFC3339AndReadersByTypeAsAnObject() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("t.sqlite")
        let store = try SQLiteHistory(path: db)
        let ts: Int64 = 1_700_000_000_123
        let reader = ConnectionSample(id: "r1", proto: .rtsp, role: .reader, path: "cam", outboundBytes: 100)
        try store.append([PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 1), snapshot: Snapshot(
            ts: ts, paths: [PathSample(name: "cam", online: true, readers: 3,
                                       readersByType: ["rtspSession": 2, "webRTCSession": 1])],
            connections: [reader]))])
        let time = "2023-11-14T22:13:20.123Z"

        let csv = try await export(["--db", db, "--from", "0"])
        let lines = csv.out.split(separator: "\n")
        #expect(lines.first?.hasSuffix(",time") == true, "time is the last column: \(lines.first ?? "")")
        #expect(lines.last?.hasPrefix("default,cam,\(ts),") == true && lines.last?.hasSuffix(",\(time)") == true,
                "\(lines.last ?? "")")

        let jsonl = try await export(["--db", db, "--from", "0", "--format", "jsonl"])
        let row = try #require(try JSONSerialization.jsonObject(with: Data(jsonl.out.utf8)) as? [String: Any])
        #expect(row["time"] as? String == time)
        #expect((row["ts_ms"] as? NSNumber)?.int64Value == ts, "ts_ms stays")
        let byType = row["readers_by_type"] as? [String: Any]
        #expect(byType?["rtspSession"] as? Int == 2 && byType?["webRTCSession"] as? Int == 1,
                "an object, not a string: \(String(describing: row["readers_by_type"]))")

        let connection = try await export(["--db", db, "--from", "0", "--connection", "r1", "--format", "jsonl"])
        let connectionRow = try JSONSerialization.jsonObject(with: Data(connection.out.utf8)) as? [String: Any]
        #expect(connectionRow?["time"] as? String == time)
        let connectionCSV = try await export(["--db", db, "--from", "0", "--connection", "r1"])
        #expect(connectionCSV.out.split(separator: "\n").last?.hasSuffix(",\(time)") == true, "\(connectionCSV.out)")
    }
}
