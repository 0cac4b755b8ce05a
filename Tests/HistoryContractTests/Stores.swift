import History
import MTXMonCore
import PostgresHistory
import SQLiteHistory
import Testing
import TestSupport

/// The implementations of the history the contract holds for. Every test of this target takes
/// one of them, so a behaviour pinned here is the behaviour of all.
enum Store: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, memory, postgres

    var testDescription: String { rawValue }

    /// A new, empty history: SQLite on a real file in a folder of its own; PostgreSQL in a
    /// database of its own on a real server.
    func open() async throws -> Opened {
        switch self {
        case .sqlite:
            let directory = try TemporaryDirectory()
            return Opened(store: self, history: try Self.sqlite(directory), directory: directory)
        case .memory:
            return Opened(store: self, history: MemoryHistory(), directory: nil)
        case .postgres:
            let url = try await PostgresServer.shared().newDatabase()
            return Opened(store: self, history: try await Self.postgres(url), directory: nil, database: url)
        }
    }

    /// The database opened as `mtxmon` opens it, polled every `Fixture.intervalMs`.
    static func postgres(_ url: String) async throws -> PostgresHistory {
        try await PostgresHistory(url: PostgresURL(url), intervalMs: Fixture.intervalMs)
    }

    /// The file opened as `mtxmon` opens it, for a collector polling every `Fixture.intervalMs`:
    /// its rollups count reader time across gaps of up to `Fixture.maxGapMs`.
    static func sqlite(_ directory: TemporaryDirectory) throws -> SQLiteHistory {
        try SQLiteHistory(path: directory.file("history.sqlite"), intervalMs: Fixture.intervalMs)
    }
}

/// One history under test.
struct Opened: Sendable {
    let store: Store
    let history: any HistoryWriter
    let directory: TemporaryDirectory?
    var database: String? = nil

    /// The history as a process started afresh finds it: the file or the database opened again.
    /// A history in memory lives as long as its process, so it is the same one.
    func restarted() async throws -> any HistoryWriter {
        if let database { return try await Store.postgres(database) }
        guard let directory else { return history }
        return try Store.sqlite(directory)
    }

    func close() {
        directory?.remove()
        (history as? PostgresHistory)?.close()
    }
}

/// Polls, paths and connections as the collector hands them to the history, at times that read
/// as seconds after `base`.
enum Fixture {
    /// The start of an hour, so that minutes and hours line up with the seconds below.
    static let base: Int64 = 1_800_000_000_000
    static let intervalMs: Int64 = 10_000
    /// 3.5 poll intervals: the widest gap reader time is counted across.
    static let maxGapMs: Int64 = 35_000

    /// `seconds` after `base`, in unix ms.
    static func t(_ seconds: Int64) -> Int64 { base + seconds * 1_000 }

    /// A path MediaMTX listed online.
    static func online(_ name: String, in inbound: Int64, out outbound: Int64 = 0, bitrateIn: Double? = nil,
                       bitrateOut: Double? = nil, readers: Int = 0, reset: Bool = false,
                       source: String = "rtspSession") -> PathSample {
        var sample = PathSample(name: name, online: true, sourceType: source, inboundBytes: inbound,
                                outboundBytes: outbound, bitrateIn: bitrateIn, bitrateOut: bitrateOut, readers: readers,
                                reset: reset)
        sample.state = .online
        return sample
    }

    /// A known path MediaMTX stopped listing, as the collector tells it: offline since `since`
    /// with its last counters. Stored once, at the poll it vanished (`since`).
    static func vanished(_ name: String, since: Int64, in inbound: Int64, out outbound: Int64 = 0) -> PathSample {
        var sample = PathSample(name: name, online: false, inboundBytes: inbound, outboundBytes: outbound)
        sample.state = .offline
        sample.since = since
        sample.listed = false
        return sample
    }

    /// A poll MediaMTX answered.
    static func answered(_ server: String = ServerName.default, at ts: Int64, _ paths: [PathSample],
                         connections: [ConnectionSample] = [], events: [MonitorEvent] = [],
                         notify: [Int] = []) -> PollBatch {
        let snapshot = Snapshot(ts: ts, paths: paths, connections: connections).named(server)
        return PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 4, pathCount: paths.count, server: server),
                         snapshot: snapshot, events: events, notify: notify)
    }

    /// A poll MediaMTX did not answer: a record, and no rows at all.
    static func failed(_ server: String = ServerName.default, at ts: Int64, error: String = "connection refused",
                       reason: String = "refused") -> PollBatch {
        PollBatch(poll: PollRecord(ts: ts, ok: false, durationMs: 1, error: error, reason: reason, server: server),
                  snapshot: nil)
    }

    /// A connection of `path` with its byte counters.
    static func connection(_ id: String, _ role: ConnectionRole, path: String?, in inbound: Int64 = 0,
                           out outbound: Int64 = 0, remote: String = "10.0.0.1:5000") -> ConnectionSample {
        ConnectionSample(id: id, proto: .rtsp, role: role, path: path, remoteAddr: remote,
                         state: role == .publisher ? "publish" : "read", inboundBytes: inbound, outboundBytes: outbound)
    }

    /// An event of a path on `server`.
    static func event(_ kind: MonitorEvent.Kind, _ severity: MonitorEvent.Severity, at ts: Int64,
                      server: String? = ServerName.default, path: String? = nil,
                      figures: [String: MonitorEvent.Figure] = [:]) -> MonitorEvent {
        MonitorEvent(kind, severity: severity, ts: ts, server: server, path: path,
                     message: "\(kind.rawValue) \(path ?? server ?? "recorder")", figures: figures)
    }
}

extension MonitorEvent {
    /// The event as the history gives it back: with the id it was stored under.
    func stored(as id: Int64) -> MonitorEvent {
        var copy = self
        copy.id = id
        return copy
    }
}
