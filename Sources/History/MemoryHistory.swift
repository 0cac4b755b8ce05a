import MTXMonCore

/// The history in memory: both protocols with the answers `SQLiteHistory` gives, for tests of
/// other modules where a file adds nothing but time. `HistoryContractTests` runs the same tests
/// against both, so a test that passes here passes against the file.
///
/// Samples are kept as they come, one row per path per poll and per connection per poll: no
/// chunks and no rollups. `compact`, `finish` and `convertOlderRows` have nothing to do, and what
/// `prune` removes is gone (the file still answers minute points and long rates of pruned raw
/// time from its rollups; this one does not). Rows are always stored, also older ones written
/// after newer ones (the file skips rows of polls no later than its last seal).
public actor MemoryHistory: HistoryWriter {
    /// A path's row as the file keeps it, with its reader counts by type as they came (the file
    /// keeps them as JSON and reads them back for the latest snapshot).
    struct PathRow {
        var stored: StoredPath
        var readersByType: [String: Int]
    }

    /// A connection's identity and its rows, in time order.
    struct Connection {
        var info: ConnectionInfo
        /// Order of first sight: connections first seen at the same poll are exported in it, as the
        /// file exports them by its keys.
        var order: Int
        var rows: [ConnectionRow]
    }

    /// A webhook delivery owed, as the file's `delivery` table holds it.
    struct Owed {
        var target: String
        var eventID: Int64
        var attempts = 0
        var dueMs: Int64 = 0
        var lastError: String?
    }

    /// Each server's polls, in time order.
    var polls: [String: [PollRecord]] = [:]
    /// Every path ever named, by a sample or by a connection: never pruned, as the file's path rows.
    var pathNames: Set<PathRef> = []
    /// Servers that have a path row in the file (its row for connections without a path counts),
    /// which keeps them listed after their polls are pruned.
    var pathServers: Set<String> = []
    /// Each path's rows, in time order.
    var pathRows: [PathRef: [PathRow]] = [:]
    var connections: [ConnectionRef: Connection] = [:]
    var connectionsSeen = 0
    /// Every event, by id.
    var events: [MonitorEvent] = []
    var deliveries: [Owed] = []
    var silenceList: [Silence] = []

    public init() {}

    public nonisolated var location: String { "memory" }

    // MARK: Writes

    public func append(_ batches: [PollBatch], deliverTo targets: [String]) async throws -> AppendReport {
        var report = AppendReport()
        for batch in batches {
            let server = batch.poll.server
            // A poll already stored was written before: its events are not stored (or owed) twice.
            if insert(poll: batch.poll) {
                report.events += insert(events: batch.events, notify: batch.notify, targets: targets)
            }
            if let snapshot = batch.snapshot { write(snapshot, server: server, &report) }
        }
        return report
    }

    /// Stores the poll unless the server has one at its time; whether it did.
    func insert(poll: PollRecord) -> Bool {
        var list = polls[poll.server, default: []]
        let at = list.insertionIndex { $0.ts < poll.ts }
        guard at == list.count || list[at].ts != poll.ts else { return false }
        var stored = poll
        stored.durationMs = max(0, poll.durationMs)
        list.insert(stored, at: at)
        polls[poll.server] = list
        return true
    }

    /// Stores the events with the next ids, and a delivery to each target of those at `notify`.
    func insert(events new: [MonitorEvent], notify: [Int], targets: [String]) -> [MonitorEvent] {
        let owed = Set(notify)
        var written: [MonitorEvent] = []
        for (i, event) in new.enumerated() {
            var stored = event
            // As the file's row ids: one past the newest, so ids freed by a prune of every event are reused.
            stored.id = (events.last?.id ?? 0) + 1
            events.append(stored)
            written.append(stored)
            guard owed.contains(i), let id = stored.id else { continue }
            for target in Set(targets) { deliveries.append(Owed(target: target, eventID: id)) }
        }
        return written
    }

    /// One poll's rows: each stored path, then each connection (naming its path into being, as the
    /// file does). A row the file would refuse is left out and reported.
    func write(_ snapshot: Snapshot, server: String, _ report: inout AppendReport) {
        let ts = snapshot.ts
        for sample in snapshot.paths where PathStates.isStored(sample, at: ts) {
            guard let name = Self.storablePathName(sample.name) else {
                report.skipped.append(.init(kind: "path", name: sample.name, ts: ts,
                                            reason: "CHECK constraint failed: a path name is 1 to 1,024 characters"))
                continue
            }
            let ref = PathRef(server: server, name: name)
            know(ref)
            let row = PathRow(stored: StoredPath(sample, ts: ts), readersByType: sample.readersByType)
            pathRows[ref, default: []].insertOnce(row, ts: \.stored.ts)
        }
        for sample in snapshot.connections {
            let id = Self.storedID(sample.id)
            guard !id.isEmpty else {
                report.skipped.append(.init(kind: "connection", name: sample.id, ts: ts,
                                            reason: "CHECK constraint failed: a connection id is 1 to 256 characters"))
                continue
            }
            let path = sample.path.flatMap(Self.storablePathName)
            if let path { know(PathRef(server: server, name: path)) }
            let ref = ConnectionRef(server: server, id: id)
            var connection = connections[ref] ?? Connection(
                info: ConnectionInfo(server: server, id: id, proto: sample.proto.rawValue, role: sample.role.rawValue,
                                     path: path, remoteAddr: sample.remoteAddr, userAgent: sample.userAgent,
                                     firstTs: ts, lastTs: ts),
                order: connectionsSeen, rows: [])
            if connections[ref] == nil { connectionsSeen += 1 }
            connection.info.lastTs = max(connection.info.lastTs, ts)
            connection.info.role = sample.role.rawValue
            connection.info.path = path ?? connection.info.path
            // The file keeps a server's connections without a path under a path row of its own.
            if connection.info.path == nil && server != ServerName.default { pathServers.insert(server) }
            connection.rows.insertOnce(ConnectionRow(sample, ts: ts), ts: \.ts)
            connections[ref] = connection
        }
    }

    func know(_ path: PathRef) {
        pathNames.insert(path)
        pathServers.insert(path.server)
    }

    /// The longest path name the file stores, in characters as SQLite counts them.
    public static let maxPathNameLength = 1_024

    /// `name` if the file stores it as a path's (1–1,024 code points), else `nil`: the rule every
    /// store that is not the file follows too.
    public static func storablePathName(_ name: String) -> String? {
        let length = name.unicodeScalars.count
        return length >= 1 && length <= maxPathNameLength ? name : nil
    }

    /// The id as the file stores it: at most 256 code points.
    public static func storedID(_ id: String) -> String {
        id.unicodeScalars.count <= 256 ? id : String(String.UnicodeScalarView(id.unicodeScalars.prefix(256)))
    }

    public func rememberedPaths(server: String, since: Int64) async throws -> [RememberedPath] {
        remembered(server: server, since: since).map(\.path)
    }

    /// Nothing waits: rows are kept as they come.
    public func needsCompaction() async -> Bool { false }

    public func compact() async throws -> SealReport { SealReport() }

    public func convertOlderRows(maxChunks: Int) async throws -> ConversionProgress {
        ConversionProgress(rowsLeft: 0, rowsMoved: 0, chunks: 0, done: true)
    }

    public func finish() async throws {}
}

extension ConnectionRow {
    /// The row the file stores for `c` at `ts`: negative counters as 0, non-finite figures as absent.
    public init(_ c: ConnectionSample, ts: Int64) {
        func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }
        self.init(ts: ts, role: c.role.rawValue, inboundBytes: max(0, c.inboundBytes),
                  outboundBytes: max(0, c.outboundBytes), bitrateIn: finite(c.bitrateIn),
                  bitrateOut: finite(c.bitrateOut), reset: c.reset, rttMs: finite(c.rttMs),
                  recvRateMbps: finite(c.recvRateMbps), sendRateMbps: finite(c.sendRateMbps),
                  linkCapacityMbps: finite(c.linkCapacityMbps), latencyMs: c.latencyMs, jitter: finite(c.jitter),
                  counters: c.counters, deltas: c.deltas)
    }
}

extension Array {
    /// The first index whose element is not `before` (the list is ordered by it).
    func insertionIndex(_ before: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if before(self[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Inserts `element` in time order unless one at its time is there: the first write of a
    /// poll's row is kept, as the file keeps it.
    mutating func insertOnce(_ element: Element, ts: KeyPath<Element, Int64>) {
        let t = element[keyPath: ts]
        if let last, last[keyPath: ts] < t { return append(element) }
        let at = insertionIndex { $0[keyPath: ts] < t }
        guard at == count || self[at][keyPath: ts] != t else { return }
        insert(element, at: at)
    }

    /// The elements whose time is in `[from, to]` (the list is in time order).
    func during(_ from: Int64, _ to: Int64, ts: KeyPath<Element, Int64>) -> ArraySlice<Element> {
        guard from <= to else { return [] }
        let start = insertionIndex { $0[keyPath: ts] < from }
        let end = insertionIndex { $0[keyPath: ts] <= to }
        return self[start..<Swift.max(start, end)]
    }
}
