import Foundation
@testable import SQLiteHistory
import History
import HistoryChunks
import MTXMonCore
import Testing
import TestSupport

/// A path is (server, name) in the history file: two servers' `cam1`, their connections with
/// the same MediaMTX ids, and their connections without a path never mix, before and after a
/// seal; a file from before fleets answers under `default`.
@Suite struct FleetStoreTests {
    static let base: Int64 = 1_800_000_000_000

    /// One poll of `server` at `ts`: `cam1` at `bitrate`, its publisher `pub` and a connection
    /// `idle` that names no path. Both servers poll at the very same millisecond.
    static func poll(_ server: String, ts: Int64, bytes: Int64, bitrate: Double?) -> PollBatch {
        var path = PathSample(name: "cam1", online: true, sourceType: "rtspSession", inboundBytes: bytes,
                              outboundBytes: bytes, bitrateIn: bitrate, readers: 1)
        path.state = .online
        let publisher = ConnectionSample(id: "pub", proto: .rtsp, role: .publisher, path: "cam1",
                                         remoteAddr: server == "a" ? "10.0.0.1:1" : "10.0.0.2:2", state: "publish",
                                         inboundBytes: bytes)
        let idle = ConnectionSample(id: "idle", proto: .rtmp, role: .idle, remoteAddr: "10.9.9.9:9", state: "idle")
        let snapshot = Snapshot(ts: ts, paths: [path], connections: [publisher, idle]).named(server)
        return PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 3, pathCount: 1, server: server), snapshot: snapshot)
    }

    @Test func twoServersWithTheSameNamesAndIdsStayApart() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("f.sqlite"), sealEvery: 10)
        for i in 0..<25 {
            let ts = Self.base + Int64(i) * 2_000
            try store.append([Self.poll("a", ts: ts, bytes: Int64(i) * 1_000, bitrate: 4_000),
                              Self.poll("b", ts: ts, bytes: Int64(i) * 9_000, bitrate: 36_000)])
        }
        #expect(try store.read { try $0.serverNames() } == ["a", "b"])
        #expect(try sqlite3Blocking(dir.file("f.sqlite"), "SELECT count(*) FROM poll") == "50", "a poll row per server per tick")
        #expect(try sqlite3Blocking(dir.file("f.sqlite"), "SELECT count(*) FROM chunk") != "0", "sealed on the way")
        #expect(throws: AmbiguousPath(name: "cam1", servers: ["a", "b"])) { try store.read { try $0.pathID("cam1") } }
        let range = HistoryRange(from: Self.base, to: Self.base + 60_000)
        for (server, rate) in [("a", 4_000.0), ("b", 36_000.0)] {
            let id = try #require(try store.read { try $0.pathID("cam1", server: server) })
            let points = try store.read { try $0.points(pathID: id, range: range) }
            #expect(points.count == 25 && points.allSatisfy { $0.bitrateIn == rate }, "\(server): its own samples only")
            let publisher = try #require(try store.read { try $0.keyedConnection(id: "pub", server: server) })
            #expect(publisher.server == server && publisher.path == "cam1")
            #expect(publisher.remoteAddr == (server == "a" ? "10.0.0.1:1" : "10.0.0.2:2"))
            #expect(try store.read { try $0.connectionPoints(key: publisher.key, from: range.from, to: range.to) }.count == 25)
            let idle = try #require(try store.read { try $0.keyedConnection(id: "idle", server: server) })
            #expect(try store.read { try $0.connectionPoints(key: idle.key, from: range.from, to: range.to) }.count == 25,
                    "\(server)'s connections without a path are kept apart from the other server's")
        }
        #expect(throws: AmbiguousPath("connection", name: "pub", servers: ["a", "b"])) {
            try store.read { try $0.keyedConnection(id: "pub") }
        }
        #expect(try store.read { try $0.allPaths() }.map { "\($0.server)/\($0.name)" } == ["a/cam1", "b/cam1"],
                "no server's row for pathless connections is listed as a path")
        let latest = try store.read { try $0.latestSnapshots() }
        #expect(latest.map(\.serverName) == ["a", "b"])
        #expect(latest.map { $0.paths.first?.bitrateIn } == [4_000, 36_000])
    }

    /// A file written before fleets (its rows not yet in chunks) is migrated: everything in it
    /// belongs to `default` and answers by name alone, as it did.
    @Test func aFileFromBeforeFleetsAnswersUnderDefault() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("old.sqlite")
        try LegacyFile.write(ChunkTests.batches(), to: file, version: 8)
        #expect(try sqlite3Blocking(file, "SELECT max(version) FROM schema_migrations") == "8")
        let store = try SQLiteHistory(path: file)
        #expect(try store.schemaVersion() == Migration.embedded.last?.version)
        #expect(try store.read { try $0.serverNames() } == [ServerName.default])
        let id = try #require(try store.read { try $0.pathID("cam") })
        #expect(try store.read { try $0.pathID("cam", server: ServerName.default) } == id)
        #expect(try store.read { try $0.pathID("cam", server: "edge") } == nil)
        let points = try store.read { try $0.points(pathID: id, range: HistoryRange(from: 0, to: .max / 2)) }
        #expect(points.count == 735, "745 answered polls, 10 without the path")
        #expect(try store.read { try $0.lastPoll(server: ServerName.default) }?.ts == ChunkTests.batches().last?.poll.ts)
        let publisher = try #require(try store.read { try $0.keyedConnection(id: "pub-a") })
        #expect(publisher.server == ServerName.default && publisher.path == "cam")
        _ = try store.convertLegacy()
        #expect(try store.read { try $0.points(pathID: id, range: HistoryRange(from: 0, to: .max / 2)) } == points)
        #expect(try sqlite3Blocking(file, "SELECT count(*) > 0 FROM history_chunks WHERE server = 'default' AND path = 'cam'") == "1")
        #expect(try sqlite3Blocking(file, "SELECT count(*) FROM history_chunks WHERE server <> 'default'") == "0")
    }
}
