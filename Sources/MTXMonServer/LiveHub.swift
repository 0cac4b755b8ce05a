import Logging
import Metrics
import MTXMonCore
import ServiceLifecycle
import SnapshotCache

/// Fans each snapshot this process hears of out to its live clients.
///
/// One hub per server process, fed by Redis (`serve`) or in process (`run`). It keeps the
/// newest snapshot, written once, for clients that connect later, and works out the path
/// events between consecutive snapshots once for everyone.
public actor LiveHub: Service {
    nonisolated let feed: any SnapshotFeed
    nonisolated let intervalMs: Int64
    /// A client that reads nothing for this long is closed (it may reconnect).
    nonisolated let slowLimitMs: Int64
    /// The stream gauges of `/metrics`, fed with every snapshot heard.
    public nonisolated let gauges: StreamGauges?
    let logger: Logger
    private var clients: [UInt64: LiveClient] = [:]
    private var nextID: UInt64 = 0
    private var current: EncodedSnapshot?
    /// The newest snapshot while no client listens: encoded only once one connects, so a
    /// recorder nobody watches live does not encode a thousand paths every poll.
    private var unencoded: (source: PathRoutes.Source, sequence: Int64)?
    /// Snapshots taken so far: each one's place in the order clients see them in.
    private var taken: Int64 = 0
    /// Each server's events, for snapshots from a collector that sends none: the collector's own
    /// rules (`EventDetector`), so a listener tells the changes a recorder would have stored.
    private var detectors: [String: EventDetector] = [:]
    /// Each server's newest snapshot; clients see them merged (`Snapshot.fleet`).
    private var parts: [String: Snapshot] = [:]
    /// The feed was lost: the next snapshot goes out as a `snapshot`, not an `update`.
    private var missed = false
    private(set) var feedUp = false
    private var slowCloses = 0
    private let clientsGauge = Gauge(label: "mtxmon_ws_clients")
    private let slowClosed = Counter(label: "mtxmon_ws_clients_closed_slow_total")
    private let snapshotsHeard = Counter(label: "mtxmon_ws_snapshots_received_total")

    public init(feed: any SnapshotFeed, intervalMs: Int64, slowLimitMs: Int64? = nil, gauges: StreamGauges? = nil,
                logger: Logger) {
        self.feed = feed
        self.gauges = gauges
        self.intervalMs = intervalMs
        // Long enough for a phone switching networks; short enough that a stuck client is let go.
        self.slowLimitMs = slowLimitMs ?? max(30_000, 10 * intervalMs)
        self.logger = logger
    }

    public func run() async {
        logger.info("live feed listening", metadata: ["feed": "\(feed.label)"])
        for await message in feed.messages().cancelOnGracefulShutdown() {
            switch message {
            case let .snapshot(snapshot):
                receive(snapshot, via: .feed)
            case .connected:
                feedUp = true
            case .disconnected:
                feedUp = false
                missed = true
            }
        }
        for client in clients.values { client.finish() }
    }

    /// How a snapshot reached the hub, which decides what it may replace.
    enum Arrival {
        /// Published: the feed delivers in publish order, so its snapshot replaces the hub's even
        /// with an older `ts` (the collector's clock stepped back), unless it is the same poll again
        /// (the one a first client's read already brought).
        case feed
        /// Read from the cache or the history file for a first client. The read may have been
        /// answered before the feed's newest snapshot was published, so it only fills an empty hub.
        case read
    }

    /// Takes a snapshot from the feed, or one read for the first client (see `Arrival`). A
    /// feed's snapshot is one server's; a read one may be a fleet's merged view, taken apart here.
    func receive(_ snapshot: Snapshot, source: PathRoutes.Source = .cache, via arrival: Arrival) {
        switch arrival {
        case .feed:
            if let known = parts[snapshot.serverName], known.ts == snapshot.ts { return }
        case .read:
            if !parts.isEmpty { return }
            for part in snapshot.split() {
                parts[part.serverName] = part
                if part.answered { _ = detect(part) }
            }
            taken += 1
            settle(events: [], source: source)
            return
        }
        snapshotsHeard.increment()
        gauges?.record(snapshot)
        let server = snapshot.serverName
        parts[server] = snapshot
        taken += 1
        // A collector that stores events sends them; for one that does not, the path events
        // are worked out here, as before.
        let worked = snapshot.events == nil && snapshot.answered ? detect(snapshot) : []
        let events = clients.isEmpty ? [] : snapshot.events ?? worked
        settle(events: events, source: source)
    }

    /// Feeds an answered snapshot to its server's detector: an outage (no answer) is no change of
    /// any path, and what changed across it is told once, when the server answers again.
    private func detect(_ snapshot: Snapshot) -> [MonitorEvent] {
        let server = snapshot.serverName
        return detectors[server, default: EventDetector(server: server)].answered(snapshot)
    }

    /// The servers' snapshots as clients see them: one server's as it is; a fleet's merged, with
    /// a server not heard of for three intervals shown `unknown` (its collector may be gone).
    private func merged() -> Snapshot? {
        let fleet = Snapshot.fleet(Array(parts.values))
        guard parts.count > 1 else { return fleet }
        return fleet?.shown(at: fleet?.ts ?? 0, intervalMs: intervalMs)
    }

    /// Encodes the merged view for the clients (or leaves it for the first one) and sends it.
    private func settle(events: [MonitorEvent], source: PathRoutes.Source) {
        guard !clients.isEmpty else {
            // Nobody to tell: merged and encoded once a client connects (a fleet's servers each
            // bring a snapshot a tick; merging every one nobody reads was most of the hub's cost).
            unencoded = (source, taken)
            current = nil
            return
        }
        guard let snapshot = merged() else { return }
        unencoded = nil
        let encoded = EncodedSnapshot(snapshot, source: source, sequence: taken)
        current = encoded
        let asSnapshot = missed
        missed = false
        let now = WallClock.nowMs()
        for client in clients.values where !client.offer(encoded, events: events, asSnapshot: asSnapshot, nowMs: now) {
            slowClosed.increment()
            slowCloses += 1
            logger.notice("live client closed: it read no updates", metadata: ["client": "\(client.id)"])
            drop(client.id)
        }
    }

    /// Registers a client and queues the newest snapshot for it (the hub's, or `fallback`).
    func connect(fallback: @Sendable () async -> (Snapshot?, PathRoutes.Source)) async -> LiveClient {
        if parts.isEmpty {
            let (snapshot, source) = await fallback()
            if let snapshot { receive(snapshot, source: source, via: .read) }
        }
        encodePending()
        nextID += 1
        let client = LiveClient(id: nextID, slowLimitMs: slowLimitMs)
        clients[client.id] = client
        clientsGauge.record(clients.count)
        client.offer(current ?? EncodedSnapshot(nil, source: .none, sequence: 0), events: [], asSnapshot: true,
                     nowMs: WallClock.nowMs())
        return client
    }

    func disconnect(_ client: LiveClient) {
        client.finish()
        drop(client.id)
    }

    private func drop(_ id: UInt64) {
        clients.removeValue(forKey: id)
        clientsGauge.record(clients.count)
    }

    var latest: EncodedSnapshot? {
        encodePending()
        return current
    }

    private func encodePending() {
        guard let (source, sequence) = unencoded, let snapshot = merged() else { return }
        unencoded = nil
        current = EncodedSnapshot(snapshot, source: source, sequence: sequence)
    }

    /// Whether the feed listens now (for tests and `/healthz`).
    public var isListening: Bool { feedUp }
    public var clientCount: Int { clients.count }
    /// Clients closed for reading nothing for the slow limit, as `mtxmon_ws_clients_closed_slow_total`
    /// counts them; tests read it here, as no metrics backend is installed in them.
    public var slowClosedCount: Int { slowCloses }

    /// For `/healthz`.
    var status: (feedUp: Bool, clients: Int, feed: String) { (feedUp, clients.count, feed.label) }
}
