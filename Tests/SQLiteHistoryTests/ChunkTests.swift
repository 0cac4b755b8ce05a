@testable import SQLiteHistory
import History
import HistoryChunks
import MTXMonCore
import Testing
import TestSupport

/// Chunks decode to exactly what was written, and every answer is the same whether its rows are
/// recent, sealed into chunks, or still in the tables of a file from before chunks.
@Suite struct ChunkTests {
    static let base: Int64 = 1_800_000_000_000 + 7_000

    /// A path with a publisher and a reader over 25 minutes at 2 s: noisy and decimal gauges,
    /// counters that restart, a reader that leaves and one that comes, a gap, and offline polls.
    static func batches() -> [PollBatch] {
        var generator = SplitMix(seed: 7)
        var counters: [String: Int64] = [:]
        var paths = RateTracker(maxGapMs: 7_000)
        var connections = ConnectionTracker(maxGapMs: 7_000)
        var batches: [PollBatch] = []
        for i in 0..<750 {
            let ts = base + Int64(i) * 2_000 + Int64(generator.next() % 6)
            if (300..<305).contains(i) {
                batches.append(PollBatch(poll: PollRecord(ts: ts, ok: false, durationMs: 1_800, error: "refused"), snapshot: nil))
                continue
            }
            let restart = i == 400
            if restart { counters["cam"] = 0 }
            counters["cam", default: 0] += Int64(250_000 + Int(generator.next() % 20_000))
            let online = !(600..<610).contains(i)
            let srt = SRTLink(connectionID: i < 400 ? "pub-a" : "pub-b", rttMs: Double(20_000 + Int(generator.next() % 5_000)) / 1_000,
                              recvRateMbps: Double(generator.next() % 1_000_000) / 77_777.0, linkCapacityMbps: 100.5,
                              tsbpdDelayMs: 120, packetsReceived: counters["cam"]! / 1_316,
                              packetsReceivedLoss: Int64(i / 50), packetsReceivedRetrans: Int64(i / 20), packetsReceivedDrop: 0)
            var sample = PathSample(name: "cam", online: online, sourceType: "srtConn", sourceID: i < 400 ? "pub-a" : "pub-b",
                                    inboundBytes: counters["cam"]!, outboundBytes: counters["cam"]! * 2, readers: i < 500 ? 2 : 1,
                                    readersByType: ["rtspSession": i < 500 ? 2 : 1], srt: srt)
            sample.inboundFramesInError = Int64(i / 100)
            let derived = online ? paths.derive([sample], at: ts) : []
            var publisher = ConnectionSample(id: i < 400 ? "pub-a" : "pub-b", proto: .srt, role: .publisher, path: "cam",
                                             remoteAddr: "10.0.0.5:4000", state: "publish", inboundBytes: counters["cam"]!)
            publisher.counters.packetsReceived = counters["cam"]! / 1_316
            publisher.counters.packetsReceivedLoss = Int64(i / 50)
            publisher.rttMs = srt.rttMs
            publisher.recvRateMbps = srt.recvRateMbps
            publisher.latencyMs = 120
            var list = [publisher]
            for r in 0..<(i < 500 ? 2 : 1) {
                var reader = ConnectionSample(id: "reader-\(r)", proto: .rtsp, role: .reader, path: "cam",
                                              remoteAddr: "10.0.1.\(r):5000", state: "read", outboundBytes: counters["cam"]!)
                reader.counters.rtpPacketsSent = counters["cam"]! / 1_200
                reader.jitter = Double(generator.next() % 1_000) / 1_000
                list.append(reader)
            }
            if i >= 700 { list.append(ConnectionSample(id: "idle-\(i / 10)", proto: .rtmp, role: .idle)) }
            let derivedConnections = connections.derive(list, at: ts, listsRead: [.srt, .rtsp, .rtmp])
            var snapshot = Snapshot(ts: ts, paths: online ? derived : [sample], connections: derivedConnections)
            if !online { snapshot.paths = [] }
            batches.append(PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 4, pathCount: snapshot.paths.count),
                                     snapshot: snapshot))
        }
        return batches
    }

    /// Every answer the history API gives, as text with every double's bits.
    static func answers(_ store: SQLiteHistory) throws -> [String] {
        try store.read { db in
            var out: [String] = []
            let id = try #require(try db.pathID("cam"))
            let end = base + 750 * 2_000
            let ranges: [(Int64, Int64)] = [(base - 60_000, end + 60_000), (base + 61_000, base + 479_000),
                                            (base + 600_000, base + 1_200_000), (end - 90_000, end)]
            for (from, to) in ranges {
                out.append(bits(try db.points(pathID: id, range: HistoryRange(from: from, to: to))))
                for fields in fieldChoices {
                    let raw = try db.points(pathID: id, range: HistoryRange(from: from, to: to), fields: fields)
                    out.append(bits(raw.map { $0.narrowed(to: fields) }))
                    let stepped = HistoryRange(from: from, to: to, step: 60_000, aggregation: .max)
                    out.append(bits(try db.points(pathID: id, range: stepped, fields: fields).map { $0.narrowed(to: fields) }))
                }
                for step in [10_000, 60_000, 3_600_000] as [Int64] {
                    for aggregation in Aggregation.allCases {
                        let range = HistoryRange(from: from, to: to, step: step, aggregation: aggregation)
                        out.append(bits(try db.points(pathID: id, range: range)))
                    }
                }
                out.append("\(try db.windowRates(pathID: id, from: from, to: to, maxGapMs: 7_000))")
            }
            for name in ["pub-a", "pub-b", "reader-0", "reader-1", "idle-71"] {
                let info = try #require(try db.keyedConnection(id: name))
                out.append("\(info)")
                out.append(bits(try db.connectionPoints(key: info.key, from: 0, to: .max)))
                out.append("\(try db.connectionMinuteRows(key: info.key, from: base, to: end))")
            }
            out.append("\(try db.rememberedPaths(since: 0))")
            out.append("\(String(describing: try db.latestSnapshot()))")
            return out
        }
    }

    static func bits<T>(_ values: [T]) -> String {
        values.map { v in
            Mirror(reflecting: v).children.map { child -> String in
                if let d = child.value as? Double { return "\(d.bitPattern)" }
                if let d = child.value as? Double? { return d.map { "\($0.bitPattern)" } ?? "nil" }
                return "\(child.value)"
            }.joined(separator: ",")
        }.joined(separator: "\n")
    }

    @Test func everyAnswerIsTheSameBeforeAndAfterSealing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("s.sqlite"), sealEvery: 1_000_000)
        try store.append(Self.batches())
        #expect(try sqlite3Blocking(dir.file("s.sqlite"), "SELECT count(*) FROM chunk") == "0")
        let recent = try Self.answers(store)
        let report = try store.sealAll()
        #expect(report.rows > 700 && report.chunks >= 2)
        #expect(try sqlite3Blocking(dir.file("s.sqlite"), "SELECT count(*) FROM recent") == "0")
        let sealed = try Self.answers(store)
        #expect(sealed.count == recent.count)
        for (a, b) in zip(recent, sealed) where a != b { Issue.record("recent:\n\(a)\nsealed:\n\(b)") }
    }

    @Test func sealingInSmallChunksAnswersTheSame() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let whole = try SQLiteHistory(path: dir.file("w.sqlite"), sealEvery: 1_000_000)
        let small = try SQLiteHistory(path: dir.file("s.sqlite"), sealEvery: 7)
        for batch in Self.batches() {
            try whole.append([batch])
            try small.append([batch])
        }
        let expected = try Self.answers(whole)
        for (a, b) in zip(expected, try Self.answers(small)) where a != b { Issue.record("one:\n\(a)\nsmall chunks:\n\(b)") }
    }

    /// A file of the schema before chunks, converted in batches that stop part way (as a killed
    /// `mtxmon migrate` would) and carry on: every answer is the same at every step, and every row
    /// ends up in chunks once.
    @Test func aFileFromBeforeChunksIsConvertedResumablyWithTheSameAnswers() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("old.sqlite")
        try LegacyFile.write(Self.batches(), to: file, version: 7)
        let rows = try sqlite3Blocking(file, "SELECT (SELECT count(*) FROM sample) + (SELECT count(*) FROM connection_sample)")
        let before = try Self.answers(try SQLiteHistory(path: file))
        let first = try SQLiteHistory(path: file).convertLegacy(maxChunks: 5)
        #expect(first.chunks == 5 && !first.done && first.rowsLeft > 0)
        let partly = try Self.answers(try SQLiteHistory(path: file))
        for (a, b) in zip(before, partly) where a != b { Issue.record("before:\n\(a)\npart converted:\n\(b)") }
        var seen: [ConversionProgress] = []
        let rest = try SQLiteHistory(path: file).convertLegacy { seen.append($0) }
        #expect(rest.done && rest.rowsLeft == 0)
        #expect(first.rowsMoved + rest.rowsMoved == Int(rows))
        #expect(seen.map(\.rowsLeft) == seen.map(\.rowsLeft).sorted(by: >), "progress only goes forward")
        #expect(try sqlite3Blocking(file, "SELECT (SELECT count(*) FROM sample) + (SELECT count(*) FROM connection_sample)") == "0")
        let after = try Self.answers(try SQLiteHistory(path: file))
        for (a, b) in zip(before, after) where a != b { Issue.record("before:\n\(a)\nconverted:\n\(b)") }
        #expect(try sqlite3Blocking(file, "SELECT count(*) FROM history") == "735", "745 answered polls, 10 without the path")
    }

    /// Rows with every kind of figure: absent, NaN, extremes, unicode, paths missing, 0–3 connections.
    static func randomRows(trial: Int, _ generator: inout SplitMix) -> [StoredRow] {
        let n = 1 + Int(generator.next() % 130)
        var rows: [StoredRow] = []
        var ts = Int64(generator.next() % 1_000_000_000_000)
        for i in 0..<n {
            ts += Int64(generator.next() % 4_000) + 1
            func maybe<T>(_ value: T) -> T? { generator.next() % 4 == 0 ? nil : value }
            func double() -> Double {
                switch generator.next() % 6 {
                case 0: return Double(bitPattern: generator.next())  // anything, NaN included
                case 1: return Double(generator.next() % 10_000_000)
                case 2: return Double(Int64(generator.next() % 100_000)) / 1_000
                case 3: return -0.0
                case 4: return Double.greatestFiniteMagnitude
                default: return Double(generator.next() % 1_000) / 7
                }
            }
            let path = trial % 5 == 0 && i % 3 == 0 ? nil : StoredPath(
                ts: ts, online: generator.next() % 2 == 0, reset: generator.next() % 9 == 0,
                sourceType: maybe(["srtConn", "rtspSession", "ünïcode ✓"][Int(generator.next() % 3)]),
                inboundBytes: Int64(bitPattern: generator.next() >> 1), outboundBytes: Int64(i) * 1_000,
                bitrateIn: maybe(double()), bitrateOut: maybe(Double(i * 8_000)), readers: Int64(generator.next() % 3),
                readersByType: maybe(#"{"rtspSession":1}"#), framesInError: maybe(Int64.max),
                rttMs: maybe(double()), recvRateMbps: maybe(double()), linkCapacityMbps: maybe(double()),
                tsbpdDelayMs: maybe(120), srtPacketsReceived: maybe(Int64(i) * 900), srtPacketsLost: maybe(Int64.min),
                srtPacketsRetransmitted: maybe(0), srtPacketsDropped: maybe(Int64(generator.next() % 3)))
            var connections: [StoredConnection] = []
            for k in 0..<Int(generator.next() % 4) {
                var counters = ConnectionCounters()
                counters.packetsReceived = maybe(Int64(i) * 100)
                counters.rtpPacketsSent = maybe(Int64(bitPattern: generator.next()))
                var deltas: ConnectionCounters? = maybe(ConnectionCounters())
                deltas?.packetsReceived = maybe(100)
                deltas?.rtpPacketsSent = maybe(Int64(bitPattern: generator.next()))
                connections.append(StoredConnection(key: Int64(k * 7 + 1), row: ConnectionRow(
                    ts: ts, role: ["publisher", "reader", "idle"][k % 3],
                    inboundBytes: Int64(i) * 500, outboundBytes: Int64(generator.next() % 1_000), bitrateIn: maybe(double()),
                    bitrateOut: maybe(Double(i)), reset: generator.next() % 7 == 0, rttMs: maybe(double()),
                    recvRateMbps: maybe(double()), sendRateMbps: maybe(double()), linkCapacityMbps: maybe(double()),
                    latencyMs: maybe(Int64(k)), jitter: maybe(double()), counters: counters, deltas: deltas)))
            }
            rows.append(StoredRow(ts: ts, path: path, connections: connections))
        }
        return rows
    }

    /// The bytes of chunks and recent rows are the format of every file already written: a change
    /// to how columns are listed or walked must not change one byte of them.
    @Test func chunkAndRowBytesAreTheFormatOfFilesAlreadyWritten() throws {
        var generator = SplitMix(seed: 11)
        var chunks = FNV(), recent = FNV(), total = 0
        for trial in 0..<60 {
            let rows = Self.randomRows(trial: trial, &generator)
            let bytes = ChunkCodec.encode(rows)
            chunks.add(bytes)
            total += bytes.count
            for row in rows { recent.add(RowCodec.encode(row)) }
        }
        #expect(total == 572_547, "chunk bytes in all")
        #expect(chunks.hash == 12_348_508_862_024_230_740, "chunk bytes")
        #expect(recent.hash == 17_466_768_784_409_290_041, "recent row bytes")
    }

    @Test func aChunkDecodesToTheBitsWritten() throws {
        var generator = SplitMix(seed: 11)
        for trial in 0..<60 {
            let rows = Self.randomRows(trial: trial, &generator)
            for row in rows {
                let back = try RowCodec.decode(RowCodec.encode(row))
                #expect(Self.bits([back.path]) == Self.bits([row.path]) && Self.bits(back.connections) == Self.bits(row.connections),
                        "a recent row, trial \(trial)")
            }
            let bytes = ChunkCodec.encode(rows)
            let decoded = try ChunkCodec.decode(bytes)
            #expect(Self.bits(decoded.map(\.ts)) == Self.bits(rows.map(\.ts)))
            #expect(Self.bits(decoded.compactMap(\.path)) == Self.bits(rows.compactMap(\.path)), "trial \(trial)")
            let written = rows.flatMap(\.connections).sorted { ($0.key, $0.ts) < ($1.key, $1.ts) }
            let read = decoded.flatMap(\.connections).sorted { ($0.key, $0.ts) < ($1.key, $1.ts) }
            #expect(Self.bits(read) == Self.bits(written), "trial \(trial)")
            for key in Set(written.map(\.key)) {
                let whole = written.filter { $0.key == key }
                #expect(Self.bits(try ChunkCodec.decodeConnection(bytes, key: key)) == Self.bits(whole))
                // Read part way, a connection gives the figures up to there exactly as read whole.
                let bitrates = try ChunkCodec.decodeConnection(bytes, key: key, through: .bitrateIn)
                #expect(Self.bits(bitrates.map { [$0.ts, $0.inboundBytes, $0.outboundBytes] })
                        == Self.bits(whole.map { [$0.ts, $0.inboundBytes, $0.outboundBytes] }))
                #expect(bitrates.map(\.role) == whole.map(\.role) && Self.bits(bitrates.map(\.bitrateIn)) == Self.bits(whole.map(\.bitrateIn)))
                let gauges = try ChunkCodec.decodeConnection(bytes, key: key, through: .gauges)
                var cut = whole
                for i in cut.indices {
                    cut[i].counters = ConnectionCounters()
                    cut[i].deltas = nil
                }
                #expect(Self.bits(gauges) == Self.bits(cut), "trial \(trial)")
                // Points made straight from a block's columns are the points of the rows read whole.
                for through in [ConnectionColumn.bitrateIn, .gauges, .counters] {
                    let block = try #require(try ChunkCodec.connectionBlock(bytes, key: key, through: through))
                    #expect(Self.bits((0..<block.count).map(block.point))
                            == Self.bits(try ChunkCodec.decodeConnection(bytes, key: key, through: through).map(\.point)),
                            "points through \(through), trial \(trial)")
                }
            }
            // Read for rates, a chunk gives the counters exactly as read whole.
            #expect(Self.bits(try ChunkCodec.decodeCounters(bytes)) == Self.bits(rows.compactMap(\.path).map(\.counterRow)),
                    "counters, trial \(trial)")
            // Read for a few figures, a chunk gives those figures exactly as read whole.
            for fields in Self.fieldChoices {
                let partial = try ChunkCodec.decodePoints(bytes, fields: fields)
                #expect(Self.bits(partial)
                        == Self.bits(rows.compactMap(\.path).map { ReadConnection.point($0, fields) }),
                        "trial \(trial), fields \(fields.rawValue)")
            }
        }
    }

    /// Every figure alone, a few together, none, and all.
    static let fieldChoices: [PointFields] = PointFields.all.map(\.flag)
        + [[.bitrateIn, .rttMs], [.online, .linkCapacityMbps], [.bitrateOut, .readers], [], .everything]

    /// A damaged chunk is an error, never a crash.
    @Test func aDamagedChunkThrowsAndNeverTraps() throws {
        let rows = Array(try ChunkCodec.decode(ChunkCodec.encode(Self.batches().prefix(40).compactMap { batch in
            batch.snapshot.map { s in
                StoredRow(ts: s.ts, path: s.paths.first.map { StoredPath($0, ts: s.ts) },
                          connections: s.connections.enumerated().map { StoredConnection($1, key: Int64($0), ts: s.ts) })
            }
        })))
        let bytes = ChunkCodec.encode(rows)
        var generator = SplitMix(seed: 3)
        for cut in 0..<bytes.count { _ = try? ChunkCodec.decode(Array(bytes.prefix(cut))) }
        for _ in 0..<800 {
            var damaged = bytes
            damaged[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
            _ = try? ChunkCodec.decode(damaged)
            _ = try? ChunkCodec.decodeConnection(damaged, key: 1)
            _ = try? ChunkCodec.decodeConnection(damaged, key: 1, through: .bitrateIn)
            let fields = Self.fieldChoices[Int(generator.next() % UInt64(Self.fieldChoices.count))]
            _ = try? ChunkCodec.decodePoints(damaged, fields: fields)
            _ = try? ChunkCodec.decodeCounters(damaged)
        }
        let row = RowCodec.encode(rows[rows.count - 1])
        for cut in 0..<row.count { _ = try? RowCodec.decode(Array(row.prefix(cut))) }
        for _ in 0..<800 {
            var damaged = row
            damaged[Int(generator.next() % UInt64(row.count))] = UInt8(truncatingIfNeeded: generator.next())
            _ = try? RowCodec.decode(damaged)
        }
        #expect(throws: ChunkError.self) { try ChunkCodec.decode(Array(bytes.prefix(bytes.count / 2))) }
    }
}

/// A small seeded generator, so a failure shows the same numbers again.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// FNV-1a over bytes: a fingerprint of an encoding that a test can hold as one number.
struct FNV {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ bytes: [UInt8]) {
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    }
}
