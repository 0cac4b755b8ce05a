import History
import Logging
import MediaMTXClient
import Metrics
import MTXMonCore
import ServiceLifecycle
import SnapshotCache

/// How the poll loop runs.
public struct CollectorSettings: Sendable {
    /// Time between polls; ticks sit on multiples of it in wall-clock time.
    public var interval: Duration
    /// A poll still running after this long is abandoned, so it never overlaps the next tick.
    public var pollDeadline: Duration
    /// Where polls wait while the history store refuses writes, and how much may wait.
    public var hold = HoldSettings()
    /// How often `/v3/info` is asked for the server version.
    public var infoEvery: Duration
    /// How long a path MediaMTX no longer lists stays known (as `offline`).
    public var forgetAfter: Duration
    /// When a path's bitrate counts as fallen (see `EventRules`).
    public var rules = EventRules()
    /// What a stream's health verdict is judged by (see `HealthRules`).
    public var healthRules = HealthRules()
    /// When conditions become incidents and resolve (see `IncidentRules`).
    public var incidentRules = IncidentRules()
    /// Which incident notifications go to the receivers, and how many.
    public var notifier = Notifier()
    /// The webhook receivers each notification the notifier lets through is owed to.
    public var webhookTargets: [String] = []

    public init(interval: Duration = .seconds(2), pollDeadline: Duration? = nil,
                infoEvery: Duration = .seconds(60), forgetAfter: Duration = .seconds(86_400)) {
        self.interval = interval
        self.pollDeadline = pollDeadline ?? interval * 0.9
        self.infoEvery = infoEvery
        self.forgetAfter = forgetAfter
    }
}

/// One MediaMTX server of the fleet a collector polls.
public struct PollTarget: Sendable {
    /// The server's name in the history file, URLs and Redis keys (see `ServerName`).
    public var name: String
    public var client: MediaMTXClient
    /// Polled every this many ticks (1: every tick), for a server given a longer interval.
    public var everyTicks: Int

    public init(name: String = ServerName.default, client: MediaMTXClient, everyTicks: Int = 1) {
        self.name = name
        self.client = client
        self.everyTicks = max(1, everyTicks)
    }
}

/// The poll loop: MediaMTX → snapshot → SQLite (first: nothing lost) → snapshot cache.
///
/// A fleet's servers are polled at the same tick, concurrently, each against its own deadline
/// and with its own state (paths, connections, outage, version): one that is down, slow or
/// answers garbage costs only its own poll. The tick's polls are written in one transaction.
public struct Collector: Service {
    let targets: [PollTarget]
    let cache: any SnapshotCache
    let store: any HistoryWriter
    let settings: CollectorSettings
    public let status: CollectorStatus
    let logger: Logger
    let metrics: CollectorMetrics
    /// Each server's poll series, by server name.
    let serverMetrics: [String: CollectorMetrics]
    /// In an active–standby pair, whether this one polls now (`nil`: always).
    public var leadership: (any Leadership)?

    /// `metrics` is where the collector's series go; by default the factory `main` bootstrapped.
    public init(client: MediaMTXClient, cache: any SnapshotCache, store: any HistoryWriter, settings: CollectorSettings,
                status: CollectorStatus = CollectorStatus(), logger: Logger,
                metrics factory: any MetricsFactory = MetricsSystem.factory) {
        self.init(targets: [PollTarget(client: client)], cache: cache, store: store, settings: settings, status: status,
                  logger: logger, metrics: factory)
    }

    /// `targets` have distinct, valid names (`Settings` checks them).
    public init(targets: [PollTarget], cache: any SnapshotCache, store: any HistoryWriter, settings: CollectorSettings,
                status: CollectorStatus = CollectorStatus(), logger: Logger,
                metrics factory: any MetricsFactory = MetricsSystem.factory) {
        precondition(!targets.isEmpty, "a collector needs a server to poll")
        self.targets = targets
        self.cache = cache
        self.store = store
        self.settings = settings
        self.status = status
        self.logger = logger
        let serverMetrics = Dictionary(targets.map { ($0.name, CollectorMetrics(factory: factory, server: $0.name)) },
                                       uniquingKeysWith: { first, _ in first })
        self.serverMetrics = serverMetrics
        // The collector's own series (writes, Redis, ticks) carry no server: any set serves them.
        self.metrics = serverMetrics[targets[0].name]!
    }

    /// Whether logs and failure advice name the server: with a fleet, or one server given a name
    /// of its own (its settings are then `MTXMON_SERVERS`, not `MEDIA_MTX_API_URL`).
    var namesServers: Bool { targets.count > 1 || targets[0].name != ServerName.default }

    /// One server's state for one run of the loop.
    struct ServerLoop: Sendable {
        let target: PollTarget
        var paths: PathStates
        var connectionRates: ConnectionTracker
        var mediaMTX = OutageTracker()
        /// Polls with figures no MediaMTX can report, logged once per stretch.
        var invalidFigures = OutageTracker()
        /// One per connection list, so each failing list is logged once when it starts failing.
        var lists: [ConnectionProtocol: OutageTracker] = [:]
        var serverVersion: String?
        /// Why `serverVersion` is unknown, when that is known.
        var serverVersionNote: String?
        var infoDue = ContinuousClock.now
        var detector: EventDetector
        var health: HealthJudge
        var forwards: ForwardWatch
        var hlsMuxers = HLSMuxerWatch()
        /// The newest version the server told, kept across outages to tell an upgrade.
        var knownVersion: String?

        var client: MediaMTXClient { target.client }
        var name: String { target.name }
        /// The interval this server is polled at.
        var intervalMs: Int64
    }

    /// State that lives for one run of the loop: the pollers' and the writer's.
    struct LoopState: Sendable {
        var servers: [ServerLoop]
        var tick = 0
        var write: WriteState
        /// Whether the last tick was polled here (in a pair: led).
        var leading = true
    }

    /// What the writer keeps from one tick to the next: what waits for the store, how the store
    /// and the cache fare, the incidents and what was sent of them.
    struct WriteState: Sendable {
        var incidents: IncidentTracker
        var notifier: Notifier
        var silences: [Silence] = []
        var silencesReadAt: Int64 = 0
        /// The recorder's own events (Redis, the store) waiting for the next tick's batch.
        var storeEvents: [MonitorEvent] = []
        /// Incidents of servers no longer configured, ended as given up, for the first tick.
        var retiredIncidents: [Incident] = []
        var redis = OutageTracker()
        var sqlite = OutageTracker()
        var holdFile = OutageTracker()
        var refusedRows = OutageTracker()
        /// Polls the store has not taken yet, oldest first.
        var hold: HoldQueue
        /// The held polls that were dropped in this stretch of memory being full.
        var dropped = 0
        /// Where snapshots wait for the shared cache, and what became of them there.
        var outbox: SnapshotOutbox?
        var redisEvents: RedisOutcomes?
    }

    /// The loop's state at start: paths the history file knows, so that one seen before a restart
    /// of mtxmon is still known and its first poll is judged against its last row.
    func initialState() async -> LoopState {
        let servers = await serverLoops()
        let hold = HoldQueue(settings.hold.limits)
        if let problem = hold.openProblem {
            logger.warning("the hold file cannot be used as it should; polls the history store refuses are held in memory only", metadata: ["file": "\(settings.hold.path ?? "-")", "error": "\(problem)"])
        }
        if !hold.isEmpty {
            logger.notice("polls held when mtxmon last stopped are written to the history first",
                          metadata: ["polls": "\(hold.count)", "file": "\(settings.hold.path ?? "-")"])
        }
        status.update { $0.pendingBatches = hold.count }
        var write = WriteState(incidents: IncidentTracker(rules: settings.incidentRules), notifier: settings.notifier,
                               hold: hold)
        await restoreIncidents(&write, servers: servers)
        return LoopState(servers: servers, write: write)
    }

    /// Each server's state as a collector that starts finds it: paths the history knows, so that
    /// one seen before (by this process, or by the other of a pair) is judged against its last row.
    /// `seed`: each server's detector starts from the last stored state, so what changed while
    /// nothing polled is told; at a takeover in a pair it is not (the other leader stored up to a
    /// tick ago, and the lead is taken on the tick).
    func serverLoops(seed: Bool = true) async -> [ServerLoop] {
        var servers: [ServerLoop] = []
        for target in targets {
            let intervalMs = settings.interval.milliseconds * Int64(target.everyTicks)
            let maxGap = Cadence(intervalMs: intervalMs).maxGapMs
            let forgetMs = settings.forgetAfter.milliseconds
            var loop = ServerLoop(target: target, paths: PathStates(maxGapMs: maxGap, forgetAfterMs: forgetMs),
                                  connectionRates: ConnectionTracker(maxGapMs: maxGap),
                                  detector: EventDetector(server: target.name, rules: settings.rules),
                                  health: HealthJudge(server: target.name, rules: settings.healthRules),
                                  forwards: ForwardWatch(server: target.name),
                                  intervalMs: intervalMs)
            do {
                let since = target.client.clock() - forgetMs
                let name = target.name
                let remembered = try await store.rememberedPaths(server: name, since: since)
                loop.paths.remember(remembered)
                if seed, let stored = try await store.latestSnapshot(server: name, forgetAfterMs: forgetMs) {
                    loop.detector.seed(stored)
                }
            } catch {
                logger.warning("the history file's paths could not be read; paths seen before this start are not known",
                               metadata: ["server": "\(target.name)", "error": "\(error)"])
            }
            servers.append(loop)
        }
        return servers
    }

    /// Whether this tick is polled here. In a pair, the one that takes the lead starts as a
    /// collector starts, from the history the other wrote; the one that loses it stops polling.
    func leads(_ state: inout LoopState) async -> Bool {
        guard let leadership else { return true }
        guard let leads = leadership.leads() else { return false }
        if leads, !state.leading {
            state.servers = await serverLoops(seed: false)
            state.tick = 0
            logger.notice("this collector leads: it polls from now on", metadata: ["history": "\(store.location)"])
        } else if !leads, state.leading {
            logger.notice("another collector leads: this one stands by and polls when the lead is free",
                          metadata: ["history": "\(store.location)"])
        }
        state.leading = leads
        status.update { $0.role = leads ? "leader" : "standby" }
        return leads
    }

    /// Polls on the tick grid; beside the loop, a writer stores each tick's polls and publishes
    /// its snapshots, and a drain writes them to the shared cache: a slow store or cache never
    /// delays a tick.
    public func run() async throws {
        var state = await initialState()
        let outbox = SnapshotOutbox()
        let redisEvents = RedisOutcomes()
        let ticks = TickQueue()
        state.write.outbox = outbox
        state.write.redisEvents = redisEvents
        let writeState = state.write
        logger.info("collector started", metadata: [
            "mediamtx": "\(targets.map { "\($0.name)=\($0.client.endpoint.baseURL)" }.joined(separator: ","))",
            "interval_ms": "\(settings.interval.milliseconds)", "cache": "\(cache.label)", "history": "\(store.location)",
        ])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.drain(outbox, redisEvents) }
            group.addTask {
                var write = writeState
                await self.writeLoop(ticks, &write)
                outbox.finish()
            }
            await loop(&state, ticks)
            ticks.finish()
            await group.waitForAll()
        }
        logger.info("collector stopped", metadata: ["polls": "\(status.values.polls)"])
    }

    /// Ticks on wall-clock multiples of the interval until a shutdown; each tick's polls go to
    /// the writer. A tick whose polls ran past the next is counted as skipped, not queued.
    func loop(_ state: inout LoopState, _ ticks: TickQueue) async {
        let clock = ContinuousClock()
        let intervalMs = settings.interval.milliseconds
        // The first tick is the next wall-clock multiple of the interval; later ones follow on
        // the monotonic clock, so the grid neither drifts nor jumps with clock adjustments.
        let nowMs = WallClock.nowMs()
        var next = clock.now + .milliseconds(intervalMs - nowMs % intervalMs)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let tick = next
            try? await cancelWhenGracefulShutdown { try await clock.sleep(until: tick) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let late = tick.duration(to: clock.now)
            status.update {
                $0.tickLateMs = late.milliseconds
                $0.tickLateMaxMs = max($0.tickLateMaxMs, late.milliseconds)
            }
            metrics.tickDelay.recordMilliseconds(late.milliseconds)
            if await leads(&state) { ticks.add(await pollServers(&state)) }
            next += settings.interval
            let now = clock.now
            if next <= now {
                let behind = next.duration(to: now)
                let skipped = Int(behind / settings.interval) + 1
                next += settings.interval * skipped
                status.update { $0.ticksSkipped += skipped }
                metrics.ticksSkipped.increment(by: skipped)
            }
        }
    }

    /// Stores ticks in order as the loop hands them over; at the end, writes what is held if the
    /// store takes it in the time a stop allows, keeps the rest in the hold file for the next
    /// start, and leaves the store tidy.
    func writeLoop(_ ticks: TickQueue, _ w: inout WriteState) async {
        for await _ in ticks.wakeups {
            while let work = ticks.take() { await store(work, &w) }
        }
        while let work = ticks.take() { await store(work, &w) }
        if !w.hold.isEmpty { await drain(&w, budget: .seconds(4)) }
        let lost = w.hold.keep()
        if lost > 0 {
            logger.critical("held polls could not be kept: neither the history store nor the hold file took them",
                            metadata: ["polls": "\(lost)", "file": "\(settings.hold.path ?? "-")"])
        } else if !w.hold.isEmpty {
            logger.notice("held polls are kept in the hold file and written at the next start",
                          metadata: ["polls": "\(w.hold.count)", "file": "\(settings.hold.path ?? "-")"])
        }
        // Recent rows are sealed on the way out, so a stopped recorder leaves its history compact.
        do {
            try await store.finish()
        } catch {
            logger.warning("recent rows not sealed at shutdown; they stay readable and are sealed at the next start",
                           metadata: ["error": "\(error)"])
        }
    }

    /// One tick, start to end, in the caller's task: polled, stored, published (tests drive the
    /// collector tick by tick with it).
    func pollOnce(_ state: inout LoopState) async {
        let work = await pollServers(&state)
        await store(work, &state.write)
    }

    /// Every due server polled at once. Never throws: every failure is counted and logged.
    func pollServers(_ state: inout LoopState) async -> TickWork {
        let tick = state.tick
        state.tick += 1
        let due = state.servers.indices.filter { tick % state.servers[$0].target.everyTicks == 0 }
        let results = await withTaskGroup(of: (Int, ServerLoop, PollBatch, Snapshot?).self) { group in
            for i in due {
                let loop = state.servers[i]
                group.addTask {
                    var loop = loop
                    let (batch, snapshot) = await self.poll(&loop)
                    return (i, loop, batch, snapshot)
                }
            }
            var results: [(Int, ServerLoop, PollBatch, Snapshot?)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        var work = TickWork()
        for (i, loop, batch, snapshot) in results {
            state.servers[i] = loop
            work.batches.append(batch)
            if let snapshot { work.snapshots.append(snapshot) }
        }
        return work
    }

    /// A tick's polls stored in one transaction (or held), then published with the events as
    /// stored. The recorder's own events and the webhooks' summaries ride on the tick's first poll.
    func store(_ work: TickWork, _ w: inout WriteState) async {
        var batches = work.batches
        var snapshots = work.snapshots
        w.storeEvents += w.redisEvents?.takeEvents() ?? []
        if !batches.isEmpty {
            let recorder = w.storeEvents
            batches[0].events = w.storeEvents + batches[0].events
            w.storeEvents = []
            await incidents(&batches, recorder: recorder, &w)
        }
        let stored = await write(batches, &w)
        let events = stored ?? batches.flatMap(\.events)
        let polled = Set(snapshots.map(\.serverName))
        for i in snapshots.indices {
            // Each server's snapshot carries its events; the first also those of no server.
            let server = snapshots[i].serverName
            snapshots[i].events = events.filter { event in
                event.server == server || (i == 0 && !polled.contains(event.server ?? ""))
            }
        }
        for snapshot in snapshots { await publish(snapshot, &w) }
    }

    /// One server's poll from request to snapshot: the row to store and the snapshot to publish.
    func poll(_ loop: inout ServerLoop) async -> (PollBatch, Snapshot?) {
        let started = ContinuousClock.now
        let startedMs = loop.client.clock()
        let metrics = serverMetrics[loop.name] ?? self.metrics
        let outcome = await fetch(&loop)
        let durationMs = started.duration(to: .now).milliseconds
        metrics.pollDuration.recordMilliseconds(durationMs)
        metrics.polls.increment()
        let server = loop.name
        let log = namesServers ? logger.with(server: server) : logger
        switch outcome {
        case let .success(reply):
            let samples = Normalise.samples(paths: reply.paths, srtConns: reply.srtConns)
            let derived = loop.paths.answered(samples, at: reply.ts, readAt: reply.readAtByName)
            let (connections, connectionReadAt) = Normalise.connections(reply)
            var snapshot = Snapshot(ts: reply.ts, paths: derived, serverVersion: loop.serverVersion,
                                    connections: loop.connectionRates.derive(consume connections, at: reply.ts,
                                                                             readAt: connectionReadAt,
                                                                             listsRead: Set(reply.readLists)),
                                    serverVersionNote: loop.serverVersionNote).named(server, intervalMs: loop.intervalMs)
            let invalid = derived.compactMap { path in path.invalid.map { "path '\(path.name)': \($0)" } }
                + loop.connectionRates.problems
            recordInvalid(invalid, at: reply.ts, &loop, log)
            var events: [MonitorEvent] = []
            if case let .ended(failed, sinceMs) = loop.mediaMTX.recordSuccess(at: reply.ts) {
                log.notice("MediaMTX answers again", metadata: ["failed_polls": "\(failed)", "outage_ms": "\(sinceMs)"])
                events.append(.serverBack(server, ts: reply.ts, failedPolls: failed, outageMs: sinceMs))
            }
            if let version = loop.serverVersion {
                if let known = loop.knownVersion, known != version {
                    events.append(.serverVersion(server, ts: reply.ts, from: known, to: version))
                }
                loop.knownVersion = version
            }
            events += loop.detector.answered(snapshot, failingLists: Set(reply.failedLists.map(\.proto)))
            events += loop.health.judge(&snapshot, lowBitrate: loop.detector.lowBitrate)
            if let cursor = reply.forwardCursor {
                let read = reply.forwards.mapValues { Normalise.forwards($0.items, readAt: $0.readAt) }
                let online = Set(derived.filter { $0.currentState == .online }.map(\.name))
                events += loop.forwards.take(read, cursor: cursor, online: online, at: reply.ts)
            }
            loop.forwards.attach(to: &snapshot)
            if let muxers = reply.hlsMuxers {
                loop.hlsMuxers.take(Normalise.hlsMuxers(muxers.items), at: muxers.readAt, into: &snapshot)
            }
            let batch = PollBatch(
                poll: PollRecord(ts: reply.ts, ok: true, durationMs: durationMs, pathCount: samples.count,
                                 error: Self.invalidSummary(invalid), reason: invalid.isEmpty ? nil : "invalid",
                                 server: server, intervalMs: loop.intervalMs),
                snapshot: snapshot, events: events)
            metrics.paths.record(samples.count)
            metrics.serverUp.record(1)
            track(reply, &loop, log, metrics)
            let version = loop.serverVersion, note = loop.serverVersionNote
            status.update(server: server) {
                $0.polls += 1
                $0.lastPollTs = reply.ts
                $0.lastSuccessTs = reply.ts
                $0.lastPollDurationMs = durationMs
                $0.pathsSeen = samples.count
                $0.connectionsSeen = snapshot.connections.count
                $0.mediaMTXDown = false
                $0.failingSince = nil
                $0.failedPollsInRow = 0
                $0.lastFailureReason = nil
                $0.serverVersion = version
                $0.serverVersionNote = note
                if version != nil { $0.lastVersion = version }
                $0.intervalMs = loop.intervalMs
            }
            return (batch, snapshot)
        case let .failure(failure):
            let reason = failure.description(server: namesServers ? server : nil)
            var events: [MonitorEvent] = []
            if case .started = loop.mediaMTX.recordFailure(at: startedMs, reason: reason) {
                log.error("MediaMTX poll failed; further failures are counted, not logged, until it recovers",
                          metadata: ["error": "\(reason)", "reason": "\(failure.reason.rawValue)"])
                events.append(.serverUnreachable(server, url: loop.client.endpoint.baseURL, ts: startedMs, reason: reason,
                                                 cause: failure.reason.rawValue))
            }
            let batch = PollBatch(
                poll: PollRecord(ts: startedMs, ok: false, durationMs: durationMs, error: reason,
                                 reason: failure.reason.rawValue, server: server, intervalMs: loop.intervalMs),
                snapshot: nil, events: events)
            // What the server was is not known while it does not answer: it may come back another version.
            loop.serverVersion = nil
            loop.serverVersionNote = nil
            metrics.pollFailures(failure.reason).increment()
            metrics.serverUp.record(0)
            if case .abandoned = failure { metrics.pollsAbandoned.increment() }
            let since = loop.mediaMTX.failingSince ?? startedMs
            let failed = loop.mediaMTX.failedPolls
            status.update(server: server) {
                $0.polls += 1
                $0.pollFailures += 1
                if case .abandoned = failure { $0.pollsAbandoned += 1 }
                $0.lastPollTs = startedMs
                $0.lastPollDurationMs = durationMs
                $0.lastError = reason
                $0.lastFailureReason = failure.reason.rawValue
                $0.mediaMTXDown = true
                $0.failingSince = since
                $0.failedPollsInRow = failed
                $0.serverVersion = nil
                $0.serverVersionNote = nil
            }
            // Live clients and the cache learn at once that nothing is known now, rather than
            // showing the last answer as current until it ages out.
            let snapshot = Snapshot(ts: startedMs, paths: loop.paths.unanswered(at: startedMs), reachable: false,
                                    error: reason).named(server, intervalMs: loop.intervalMs)
            return (batch, snapshot)
        }
    }

    /// Impossible figures in an answered poll (see `CounterRule`): logged once when they start
    /// and once when the server reports sanely again, counted, and named in the poll's row.
    func recordInvalid(_ invalid: [String], at ts: Int64, _ loop: inout ServerLoop, _ log: Logger) {
        if let first = invalid.first {
            if case .started = loop.invalidFigures.recordFailure(at: ts, reason: first) {
                log.warning("""
                    MediaMTX reports figures that cannot be real; those samples are left out (their counters \
                    keep the last sane reading), the rest of each poll is stored; named in each poll's row \
                    (reason 'invalid') until it reports sanely again
                    """, metadata: ["count": "\(invalid.count)", "first": "\(first)"])
            }
            status.update(server: loop.name) { $0.invalidSamples += invalid.count }
            serverMetrics[loop.name]?.invalidSamples.increment(by: invalid.count)
        } else if case .ended = loop.invalidFigures.recordSuccess(at: ts) {
            log.notice("MediaMTX reports sane figures again")
        }
    }

    /// The problems of a poll in one line for its row, at most some 500 characters.
    static func invalidSummary(_ invalid: [String]) -> String? {
        guard !invalid.isEmpty else { return nil }
        var text = "left out as impossible: " + invalid.prefix(5).joined(separator: "; ")
        if invalid.count > 5 { text += "; and \(invalid.count - 5) more" }
        return String(text.prefix(500))
    }

    enum PollFailure: Error, CustomStringConvertible {
        case mediaMTX(MediaMTXError)
        case abandoned(after: Duration)

        var reason: FailureReason {
            switch self {
            case let .mediaMTX(error): error.reason
            case .abandoned: .timeout
            }
        }

        var description: String { description(server: nil) }

        /// Worded with the settings of `server` when it is one of a fleet (`nil`: the single server's).
        func description(server: String?) -> String {
            switch self {
            case let .mediaMTX(error): server.map(error.description(server:)) ?? error.description
            case let .abandoned(after): "the poll was abandoned after \(after.milliseconds) ms: MediaMTX answers too slowly for the interval"
            }
        }
    }

    /// What became of the poll's `/v3/info` request.
    enum InfoOutcome: Sendable {
        case notAsked
        /// The server answered: its version, or `nil` where it has no `/v3/info` (before v1.13).
        case answered(WireInfo?)
        case failed
    }

    /// The poll's requests, raced against the deadline; `/v3/info` rides along once a minute,
    /// and on the next poll again when it could not be read or the poll failed, so an unknown
    /// version is not left unknown for a minute.
    func fetch(_ state: inout ServerLoop) async -> Result<PollReply, PollFailure> {
        let client = state.client
        let wantInfo = ContinuousClock.now >= state.infoDue
        if wantInfo { state.infoDue = .now + settings.infoEvery }
        let deadline = settings.pollDeadline
        // Connection lists give up a little before the poll is abandoned, so a hung list costs
        // only its own connections, not the paths read alongside it.
        let listsDeadline = ContinuousClock.now + deadline * 0.85
        // Forward destinations exist from v1.20 on; a server of unknown version is not asked.
        let askForwards = state.serverVersion.flatMap(ListNaming.forwardsListed(version:)) ?? false
        let forwardWatch = state.forwards
        typealias Outcome = Result<(PollReply, InfoOutcome), PollFailure>
        let result = await withTaskGroup(of: Outcome.self) { group -> Outcome in
            group.addTask {
                do throws(MediaMTXError) {
                    async let info: InfoOutcome = wantInfo ? Self.askInfo(client) : .notAsked
                    var reply = try await client.poll(listsDeadline: listsDeadline)
                    if askForwards {
                        let online = reply.paths.compactMap { p in (p.online ?? p.ready ?? false) ? p.name : nil }.sorted()
                        let plan = forwardWatch.plan(online: online)
                        reply.forwards = await client.forwardDests(paths: plan.paths, deadline: listsDeadline)
                        reply.forwardCursor = plan.cursor
                    }
                    return .success((reply, await info))
                } catch {
                    return .failure(.mediaMTX(error))
                }
            }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return .failure(.abandoned(after: deadline))
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
        switch result {
        case let .success((reply, info)):
            switch info {
            case .notAsked: break
            // A server that stops answering `/v3/info` is no longer known to be that version.
            case let .answered(answer):
                state.serverVersion = answer?.version
                state.serverVersionNote = answer == nil
                    ? "unknown: this MediaMTX has no /v3/info (versions before v1.15 do not report theirs)"
                    : answer?.version == nil ? "unknown: /v3/info does not name a version" : nil
            case .failed: state.infoDue = .now
            }
            return .success(reply)
        case let .failure(failure):
            // The version is forgotten while the server does not answer (it may come back
            // another): it is asked with the first poll it answers, not a minute later.
            state.infoDue = .now
            return .failure(failure)
        }
    }

    static func askInfo(_ client: MediaMTXClient) async -> InfoOutcome {
        do throws(MediaMTXError) {
            return .answered(try await client.info())
        } catch {
            return .failed
        }
    }

    /// Counts, logs (once when a list starts failing, once when it recovers) and shows the
    /// connection lists that failed in a poll whose paths were read.
    func track(_ reply: PollReply, _ state: inout ServerLoop, _ logger: Logger, _ metrics: CollectorMetrics) {
        var failing: [String: String] = [:]
        let renamed = state.client.naming.renamed ?? false
        if let change = reply.namingChange { logger.notice("MediaMTX list names", metadata: ["change": "\(change)"]) }
        for failure in reply.failedLists {
            // A fleet's servers are set in MTXMON_SERVERS, not MEDIA_MTX_API_URL: the advice says so.
            let description = namesServers ? failure.description(server: state.name) : failure.description
            failing[failure.proto.rawValue] = description
            metrics.connectionListFailures[failure.proto]?.increment()
            if case .started = state.lists[failure.proto, default: OutageTracker()].recordFailure(
                at: reply.ts, reason: description) {
                logger.warning("""
                    a MediaMTX connection list fails; paths are still recorded, its connections are not; \
                    further failures are counted, not logged, until it recovers
                    """,
                    metadata: ["list": "\(failure.proto.listPath(renamed: renamed))", "error": "\(description)"])
            }
        }
        var read = Set(reply.lists.map(\.proto))
        if failing[ConnectionProtocol.srt.rawValue] == nil { read.insert(.srt) }
        for proto in Array(state.lists.keys) where failing[proto.rawValue] == nil {
            // A list no path needs any more is no longer failing, but it has not recovered either.
            let transition = state.lists[proto]?.recordSuccess(at: reply.ts)
            if read.contains(proto), case let .ended(failed, sinceMs) = transition {
                logger.notice("a MediaMTX connection list answers again",
                              metadata: ["list": "\(proto.listPath(renamed: renamed))", "failed_polls": "\(failed)",
                                         "outage_ms": "\(sinceMs)"])
            }
            state.lists[proto] = nil
        }
        let failures = reply.failedLists.count
        status.update(server: state.name) {
            $0.failingConnectionLists = failing
            $0.connectionListFailures += failures
        }
    }

    /// Writes the tick's polls in one transaction, or holds them when the store refuses them or
    /// older polls still wait (the order is kept); then writes what waits, oldest first, in small
    /// transactions, for as long as a part of the interval allows. Returns the events stored with
    /// their ids, when the tick's polls were stored.
    @discardableResult
    func write(_ batches: [PollBatch], _ state: inout WriteState) async -> [MonitorEvent]? {
        var batches = batches
        var stored: [MonitorEvent]?
        if state.hold.isEmpty {
            switch await append(batches, &state) {
            case let .success(events):
                stored = events
            case let .failure(error):
                // Held with the polls, so it is stored once the store takes them.
                if case .started = state.sqlite.recordFailure(at: batches.last?.poll.ts ?? WallClock.nowMs(),
                                                              reason: "\(error)") {
                    logger.error("the history store refuses writes; polls are held in the hold file and written once it takes them again, oldest first",
                        metadata: ["error": "\(error)", "history": "\(store.location)",
                                   "hold": "\(settings.hold.path ?? "memory")"])
                    if !batches.isEmpty {
                        batches[batches.count - 1].events.append(
                            .store(.sqliteFailing, ts: batches[batches.count - 1].poll.ts, detail: "\(error)"))
                    }
                }
                hold(batches, &state)
            }
        } else {
            hold(batches, &state)
        }
        if !state.hold.isEmpty { await drain(&state, budget: settings.interval * 0.4) }
        status.update {
            $0.pendingBatches = state.hold.count
            $0.heldBytes = Int(state.hold.bytes)
        }
        return stored
    }

    /// One transaction; skipped rows and seal failures told, the store's recovery noticed.
    func append(_ batches: [PollBatch], _ state: inout WriteState) async -> Result<[MonitorEvent], any Error> {
        let ts = batches.last?.poll.ts ?? WallClock.nowMs()
        do {
            let report = try await store.append(batches, deliverTo: settings.webhookTargets)
            skipped(report, &state)
            let written = batches.reduce(0) { $0 + ($1.snapshot?.paths.count ?? 0) }
            metrics.samplesWritten.increment(by: written)
            status.update { $0.samplesWritten += written }
            if case let .ended(failed, _) = state.sqlite.recordSuccess(at: ts) {
                logger.notice("the history store takes writes again; held polls are written, oldest first",
                              metadata: ["failed_writes": "\(failed)", "held": "\(state.hold.count)"])
                state.storeEvents.append(.store(.sqliteBack, ts: ts, detail: "\(failed) failed write\(failed == 1 ? "" : "s")"))
            }
            return .success(report.events)
        } catch {
            metrics.sqliteErrors.increment()
            status.update { $0.sqliteErrors += 1 }
            return .failure(error)
        }
    }

    /// Puts polls behind what waits; logs once when the hold file cannot take them and once per
    /// stretch of memory being full (with the count when it ends).
    func hold(_ batches: [PollBatch], _ state: inout WriteState) {
        switch state.hold.hold(batches) {
        case .file:
            if state.dropped > 0 {
                logger.error("held polls fit again; some were dropped while memory was full",
                             metadata: ["dropped": "\(state.dropped)"])
                state.dropped = 0
            }
            _ = state.holdFile.recordSuccess(at: WallClock.nowMs())
        case let .memory(reason):
            if case .started = state.holdFile.recordFailure(at: WallClock.nowMs(), reason: reason) {
                logger.error("the hold file takes no more polls; they are held in memory, up to MTXMON_HOLD_MEMORY",
                             metadata: ["error": "\(reason)", "memory_bytes": "\(settings.hold.maxMemory)"])
            }
        case let .dropped(count, reason):
            _ = state.holdFile.recordFailure(at: WallClock.nowMs(), reason: reason)
            if state.dropped == 0 {
                logger.critical("""
                    held polls fill the memory bound: the oldest held in memory are dropped until the history store \
                    or the hold file takes them; counted in mtxmon_held_polls_dropped_total
                    """, metadata: ["memory_bytes": "\(settings.hold.maxMemory)", "error": "\(reason)"])
            }
            state.dropped += count
            metrics.heldDropped.increment(by: count)
            status.update { $0.droppedBatches += count }
        }
    }

    /// Writes held polls, oldest first, a few per transaction, until none waits, the store
    /// refuses, or `budget` has passed.
    func drain(_ state: inout WriteState, budget: Duration) async {
        let until = ContinuousClock.now + budget
        while !state.hold.isEmpty, ContinuousClock.now < until {
            let (batches, taking) = state.hold.oldest(max: Self.drainGroup)
            if case let .failure(error) = await append(batches, &state) {
                _ = state.sqlite.recordFailure(at: WallClock.nowMs(), reason: "\(error)")
                return
            }
            do {
                try state.hold.taken(taking)
            } catch {
                // Written, and still in the file: written again at worst (writes are idempotent).
                logger.warning("the hold file could not be updated after its polls were written",
                               metadata: ["error": "\(error)"])
                return
            }
            if taking.damaged > 0 {
                logger.error("held polls could not be read back and are lost", metadata: ["polls": "\(taking.damaged)"])
            }
            if state.hold.isEmpty { logger.notice("every held poll is in the history now") }
        }
    }

    /// Held polls written per transaction: a full disk freed by a little takes a few polls, not
    /// an hour of them at once.
    static let drainGroup = 10

    /// Rows the history file refused, counted; logged once when they start (the same bad value
    /// tends to come back poll after poll) and once when polls are stored whole again.
    func skipped(_ report: AppendReport, _ state: inout WriteState) {
        guard let first = report.skipped.first?.description else {
            if case .ended = state.refusedRows.recordSuccess(at: WallClock.nowMs()) {
                logger.notice("polls are stored whole again")
            }
            return
        }
        let count = report.skipped.count
        metrics.rowsSkipped.increment(by: count)
        status.update {
            $0.rowsSkipped += count
            $0.lastSkippedRow = first
        }
        if case .started = state.refusedRows.recordFailure(at: WallClock.nowMs(), reason: first) {
            logger.warning("""
                the history file refuses some rows; they are left out, the rest of each poll is stored; \
                further ones are counted, not logged, until polls are stored whole again
                """,
                metadata: ["rows": "\(count)", "first": "\(first)"])
        }
    }

    /// This process's readers hear of the snapshot at once; the shared cache (Redis) gets it from
    /// `drain`, beside the loop. The cache's own events of the last tick join this one's.
    func publish(_ snapshot: Snapshot, _ state: inout WriteState) async {
        await cache.announce(snapshot)
        if let outbox = state.outbox {
            outbox.offer(snapshot)
            state.storeEvents += state.redisEvents?.takeEvents() ?? []
        } else {
            var redis = state.redis
            if let event = await publishOne(snapshot, &redis) { state.storeEvents.append(event) }
            state.redis = redis
        }
    }

    /// Publishes what waits in `outbox` until it is finished and empty: at most one call to the
    /// cache at a time, so a hung Redis holds one snapshot per server, never a queue.
    func drain(_ outbox: SnapshotOutbox, _ outcomes: RedisOutcomes) async {
        var tracker = OutageTracker()
        for await _ in outbox.wakeups {
            while let snapshot = outbox.take() {
                if let event = await publishOne(snapshot, &tracker) { outcomes.add(event) }
            }
        }
        while let snapshot = outbox.take() {
            if let event = await publishOne(snapshot, &tracker) { outcomes.add(event) }
        }
    }

    /// One snapshot to the cache; an event when the cache starts failing or answers again.
    func publishOne(_ snapshot: Snapshot, _ redis: inout OutageTracker) async -> MonitorEvent? {
        do {
            try await cache.publish(snapshot)
            status.update { $0.redisDown = false }
            if case let .ended(failed, sinceMs) = redis.recordSuccess(at: snapshot.ts) {
                logger.notice("snapshot cache reachable again",
                              metadata: ["cache": "\(cache.label)", "failed_publishes": "\(failed)",
                                         "outage_ms": "\(sinceMs)"])
                return .store(.redisBack, ts: snapshot.ts, detail: "after \(sinceMs / 1_000) s")
            }
        } catch {
            metrics.redisErrors.increment()
            status.update {
                $0.redisErrors += 1
                $0.redisDown = true
            }
            if case .started = redis.recordFailure(at: snapshot.ts, reason: "\(error)") {
                logger.error("snapshot cache unreachable; history still goes to SQLite, reconnecting with backoff",
                             metadata: ["cache": "\(cache.label)", "error": "\(error)"])
                return .store(.redisFailing, ts: snapshot.ts, detail: "\(error)")
            }
        }
        return nil
    }
}
