import MTXMonCore

/// A path of the history: the MediaMTX server it is on and its name there.
public struct PathRef: Hashable, Sendable, CustomStringConvertible {
    public var server: String
    public var name: String

    public init(server: String = ServerName.default, name: String) {
        self.server = server
        self.name = name
    }

    public var description: String { "\(server)/\(name)" }
}

/// A connection of the history: the server it is on and MediaMTX's id for it.
public struct ConnectionRef: Hashable, Sendable {
    public var server: String
    public var id: String

    public init(server: String = ServerName.default, id: String) {
        self.server = server
        self.id = id
    }
}

/// How much of each stored poll of a connection a read needs, in the order the figures are kept:
/// the inbound bitrate (a chart of one bitrate stops there), then the gauges, then every counter
/// and its increase.
public enum ConnectionColumn: Int, Sendable, Comparable {
    case bitrateIn = 3
    case gauges = 11
    case counters = 12

    public static func < (a: ConnectionColumn, b: ConnectionColumn) -> Bool { a.rawValue < b.rawValue }
}

/// Why the history could not answer or take a write.
public struct HistoryError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The store cannot be reached or read now (a file that cannot be opened, a database down).
        case unavailable
        /// It was reached and refused the write (a full disk, a lock held too long).
        case refused
        /// What it holds cannot be read (damaged, or from a newer mtxmon).
        case damaged
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// What the API, the live feed and the commands read from the history, in mtxmon's terms:
/// servers, paths by (server, name), connections by (server, id), times in unix ms.
///
/// Implementations: `SQLiteHistory` (the embedded default: one file), `MemoryHistory` (tests).
/// Each method is a whole read: the implementation decides where it runs and how it reads.
public protocol HistoryReader: Sendable {
    /// Where the history is, for logs and `/healthz`: a file, a database without its password.
    var location: String { get }

    /// Throws unless the history can be read now.
    func check() async throws

    /// The servers the history has polls of, by name.
    func serverNames() async throws -> [String]
    /// One server's newest poll, newest answered poll and current run of failures.
    func polls(server: String) async throws -> ServerPolls
    /// The newest poll of any server.
    func lastPoll() async throws -> PollRecord?
    /// The oldest poll's time.
    func firstPollTs() async throws -> Int64?

    /// Every path the history knows, of one server or of all.
    func paths(server: String?) async throws -> [PathRef]
    /// The path with exactly this name: on `server`, or on the one server that has it; `nil`
    /// when unknown. Throws `AmbiguousPath` when several servers have it and none is named.
    func path(named name: String, server: String?) async throws -> PathRef?
    /// A path's points in `range`: every sample, or one point per non-empty bucket of `range.step`.
    func points(_ path: PathRef, range: HistoryRange, fields: PointFields) async throws -> [HistoryPoint]
    /// Bytes, bitrates, resets, reader minutes and SRT figures of a path over `[from, to]`.
    func windowRates(_ path: PathRef, from: Int64, to: Int64, maxGapMs: Int64) async throws -> WindowRates
    /// `path(named:server:)` and `points` in one call: an answer about one path asks the store
    /// once, which is most of a small answer's time. `nil` when the path is unknown.
    func points(named name: String, server: String?, range: HistoryRange,
                fields: PointFields) async throws -> (path: PathRef, points: [HistoryPoint])?
    /// `path(named:server:)` and `windowRates` in one call, runs ended by the gap rule of the interval
    /// the path's server is polled at (`fallbackIntervalMs` where the history has none stored).
    func windowRates(named name: String, server: String?, from: Int64, to: Int64,
                     fallbackIntervalMs: Int64) async throws -> (path: PathRef, rates: WindowRates)?

    /// The connection with MediaMTX's `id`, on `server` or on the one server that has it
    /// (several throw `AmbiguousPath`).
    func connection(id: String, server: String?) async throws -> ConnectionInfo?
    /// A connection's stored polls in `[from, to]`; only the figures up to `through` need be read.
    func connectionPoints(_ connection: ConnectionRef, from: Int64, to: Int64,
                          through: ConnectionColumn) async throws -> [ConnectionPoint]
    /// A connection's minute rollups in `[from, to]`.
    func connectionMinutes(_ connection: ConnectionRef, from: Int64, to: Int64,
                           through: ConnectionColumn) async throws -> [ConnectionMinute]
    /// The SRT link samples of each connection in `ids` over the past minute before `now`.
    func linkSamples(ids: [String], server: String?,
                     now: Int64) async throws -> [String: (firstTs: Int64, samples: [LinkSample])]

    /// Events newest first, a page at a time.
    func events(_ query: EventQuery) async throws -> (events: [MonitorEvent], more: Bool)
    /// Events stored after the one with id `after`, oldest first.
    func events(after: Int64, limit: Int) async throws -> [MonitorEvent]
    /// The newest event's id (0 without events).
    func lastEventID() async throws -> Int64

    /// Each server's latest state as its last polls left it, for when no snapshot is cached.
    func latestSnapshots(forgetAfterMs: Int64) async throws -> [Snapshot]
    func latestSnapshot(server: String, forgetAfterMs: Int64) async throws -> Snapshot?

    /// What compaction moved aside as unreadable.
    func quarantine() async throws -> QuarantineSummary
    /// What each webhook receiver is still owed.
    func deliveryBacklog() async throws -> [DeliveryBacklog]
    /// Silences that end after `ts` (active or still to come), oldest first.
    func silences(endingAfter ts: Int64) async throws -> [Silence]

    /// Every stored row of every path (or of `path`) in `[from, to]`, path by path, in time order.
    func exportPaths(from: Int64, to: Int64, path: String?, server: String?,
                     _ body: @Sendable (ExportedPath) throws -> Void) async throws
    /// Every stored row of every connection (or of `id`) in `[from, to]`.
    func exportConnections(from: Int64, to: Int64, id: String?, server: String?,
                           _ body: @Sendable (ExportedConnection) throws -> Void) async throws
}

/// What the collector, the compactor, the webhook sender and the commands write.
public protocol HistoryWriter: HistoryReader {
    /// Stores the batches whole (all or none, except rows the store refuses, left out one by
    /// one and reported), events with their polls and a delivery to each of `targets` for those
    /// a batch says to notify. Writing a batch again stores nothing twice.
    func append(_ batches: [PollBatch], deliverTo targets: [String]) async throws -> AppendReport
    /// Paths seen since `since` and their last figures, so a collector that starts judges its
    /// first poll against them.
    func rememberedPaths(server: String, since: Int64) async throws -> [RememberedPath]

    /// Whether enough recent rows wait for `compact` to be worth its while.
    func needsCompaction() async -> Bool
    /// Seals recent rows into compact chunks and rolls up what is complete, in one transaction:
    /// a kill at any moment leaves every row sealed or not, never both, never neither.
    func compact() async throws -> SealReport
    /// Moves rows kept in an older layout into the current one, a little at a time.
    func convertOlderRows(maxChunks: Int) async throws -> ConversionProgress
    /// What a writer does when it stops: compact everything, leave the store tidy.
    func finish() async throws

    /// Deletes what is past retention in small batches (see `mtxmon prune`).
    func prune(rawBefore: Int64, rollupsBefore: Int64, minutesBefore: Int64?, batch: Int,
               dryRun: Bool) async throws -> PruneReport

    /// The oldest delivery owed to `target`, due or not.
    func nextDelivery(to target: String) async throws -> Delivery?
    /// The receiver took it, or it is given up: it is owed no more.
    func settle(_ delivery: Delivery) async throws
    /// It failed: tried again at `dueMs`.
    func retry(_ delivery: Delivery, at dueMs: Int64, error: String) async throws
    /// Deliveries queued under a receiver's whole URL move to its key.
    func renameDeliveries(from url: String, to key: String) async throws
    /// Deliveries to receivers no longer configured are dropped; their count.
    func dropDeliveries(notTo targets: [String]) async throws -> Int
    /// Stores a new silence (its id is new).
    func saveSilence(_ silence: Silence) async throws
    /// Ends silence `id` at `ts` if it would end later; whether one was ended.
    func endSilence(id: String, at ts: Int64) async throws -> Bool
    /// Moves server `rename.from`'s whole history to `rename.to` in one transaction (see
    /// `ServerRename`); throws `ServerRenameRefusal`, with nothing changed, where that is not safe.
    func renameServer(_ rename: ServerRename) async throws -> RenamedServer
}

extension HistoryReader {
    /// What the history is kept in, for `/healthz`: `sqlite`, `postgres`, `memory`.
    public var kind: String {
        location.hasPrefix("postgres://") ? "postgres" : location == "memory" ? "memory" : "sqlite"
    }

    public func points(_ path: PathRef, range: HistoryRange) async throws -> [HistoryPoint] {
        try await points(path, range: range, fields: .everything)
    }
}

extension HistoryReader {
    /// The calls it stands for, one after another: right for a store whose calls cost nothing extra.
    public func points(named name: String, server: String?, range: HistoryRange,
                       fields: PointFields) async throws -> (path: PathRef, points: [HistoryPoint])? {
        guard let path = try await path(named: name, server: server) else { return nil }
        return (path, try await points(path, range: range, fields: fields))
    }

    public func windowRates(named name: String, server: String?, from: Int64, to: Int64,
                            fallbackIntervalMs: Int64) async throws -> (path: PathRef, rates: WindowRates)? {
        guard let path = try await path(named: name, server: server) else { return nil }
        let interval = try await polls(server: path.server).intervalMs ?? fallbackIntervalMs
        return (path, try await windowRates(path, from: from, to: to, maxGapMs: Cadence(intervalMs: interval).maxGapMs))
    }
}
