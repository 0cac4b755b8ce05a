import AsyncHTTPClient
import Collector
import History
import Logging
import PostgresHistory
import SQLiteHistory
import MediaMTXClient
import MTXMonCore
import MTXMonServer
import Prometheus
import ServiceLifecycle
import SnapshotCache
import Webhooks

/// The composition root: turns `Settings` into running services. Commands pick a shape.
public enum App {
    /// The snapshot cache the settings ask for: Redis when `REDIS_HOST` is set, else in process.
    public static func makeCache(_ settings: Settings) -> any SnapshotCache {
        if var redis = settings.redis {
            redis.primaryServer = primaryServer(settings)
            return RedisSnapshotCache(settings: redis, ttl: settings.snapshotTTL)
        }
        return InProcessSnapshotCache(ttl: settings.snapshotTTL)
    }

    /// For `mtxmon run`: the cache, and the in-process feed its live clients hear from. With
    /// Redis the snapshot still goes there for other processes, but this process's clients do
    /// not depend on it.
    public static func makeCacheAndLocalFeed(_ settings: Settings) -> (any SnapshotCache, any SnapshotFeed) {
        if var redis = settings.redis {
            redis.primaryServer = primaryServer(settings)
            let local = InProcessSnapshotCache(ttl: settings.snapshotTTL)
            return (BroadcastingCache(RedisSnapshotCache(settings: redis, ttl: settings.snapshotTTL), local: local),
                    local.broadcaster)
        }
        let cache = InProcessSnapshotCache(ttl: settings.snapshotTTL)
        return (cache, cache.broadcaster)
    }

    /// The server whose array the original collector's Redis key holds: `default`, or the only
    /// server this process polls.
    static func primaryServer(_ settings: Settings) -> String? {
        if settings.servers.contains(where: { $0.name == ServerName.default }) { return ServerName.default }
        return settings.servers.count == 1 ? settings.servers[0].name : nil
    }

    /// For `mtxmon serve`: snapshots published by a separate collector, through Redis, or without
    /// Redis read from the history file as the collector writes it.
    public static func makeRemoteFeed(_ settings: Settings, store: any HistoryReader, logger: Logger) -> any SnapshotFeed {
        if let redis = settings.redis { return RedisSubscriber(settings: redis, logger: logger) }
        return HistoryFileFeed(store: store, intervalMs: settings.interval.milliseconds,
                               forgetAfterMs: settings.forgetAfter.milliseconds)
    }

    public static func makeHub(_ settings: Settings, feed: any SnapshotFeed, logger: Logger) -> LiveHub {
        LiveHub(feed: feed, intervalMs: settings.interval.milliseconds,
                gauges: settings.metricsMaxSeries > 0 ? StreamGauges(maxSeries: settings.metricsMaxSeries) : nil,
                logger: logger)
    }

    /// Opens (and migrates) the history `MTXMON_DB` names, with an error that says what to do.
    public static func openStore(_ settings: Settings) async throws -> any HistoryWriter {
        try await openHistory(settings.database, passwordFile: settings.databasePasswordFile,
                              intervalMs: settings.interval.milliseconds, sealEvery: settings.sealEvery)
    }

    /// Opens (and migrates) the history at `location`: a PostgreSQL database when it is a
    /// `postgres://` URL (its password in the URL or in `passwordFile`), else a SQLite file.
    public static func openHistory(_ location: String, passwordFile: String? = nil, intervalMs: Int64 = 2_000,
                                   sealEvery: Int = SQLiteHistory.defaultSealEvery) async throws -> any HistoryWriter {
        guard PostgresURL.names(location) else { return try openSQLite(location, intervalMs: intervalMs, sealEvery: sealEvery) }
        let url: PostgresURL
        do { url = try PostgresURL(location, passwordFile: passwordFile) } catch {
            throw SettingsError(message: "\(error)")
        }
        do {
            return try await PostgresHistory(url: url, intervalMs: intervalMs, sealEvery: sealEvery)
        } catch {
            throw SettingsError(message: "cannot open the history in \(url) (\(error))")
        }
    }

    /// The SQLite history file itself, for what only a file has (`mtxmon migrate`'s conversion).
    public static func openSQLite(_ path: String, intervalMs: Int64 = 2_000,
                                  sealEvery: Int = SQLiteHistory.defaultSealEvery) throws -> SQLiteHistory {
        do {
            return try SQLiteHistory(path: path, intervalMs: intervalMs, sealEvery: sealEvery)
        } catch let error as MigrationError {
            throw SettingsError(message: "\(error)")
        } catch {
            throw SettingsError(message: "cannot open the history database MTXMON_DB='\(path)' (\(error)): "
                + "check that its folder exists and is writable by this user")
        }
    }

    public static func makeCollector(_ settings: Settings, cache: any SnapshotCache, store: any HistoryWriter,
                                     status: CollectorStatus, logger: Logger) -> Collector {
        let base = settings.interval.milliseconds
        return Collector(
            targets: settings.servers.map { server in
                PollTarget(name: server.name, client: MediaMTXClient(endpoint: server.endpoint),
                           everyTicks: server.interval.map { Int($0.milliseconds / max(1, base)) } ?? 1)
            },
            cache: cache, store: store,
            settings: {
                var collector = CollectorSettings(interval: settings.interval, forgetAfter: settings.forgetAfter)
                collector.hold = settings.hold
                collector.rules = settings.events.rules
                collector.healthRules = settings.events.health
                collector.notifier = Notifier(minSeverity: settings.events.minSeverity)
                collector.incidentRules.offlinePaths = settings.events.offlinePaths
                collector.incidentRules.forgetAfterMs = settings.forgetAfter.milliseconds
                collector.webhookTargets = settings.events.receiverEntries.map(WebhookTarget.key)
                return collector
            }(),
            status: status, logger: logger)
    }

    /// With a history on PostgreSQL, the lease that lets one collector of a pair poll (see
    /// `PostgresLease`), set on `collector`; `nil` for a file, which has one writer by nature.
    public static func makeLeadership(_ settings: Settings, store: any HistoryWriter, collector: inout Collector,
                                      logger: Logger) -> (any Service)? {
        guard let history = store as? PostgresHistory else { return nil }
        let scope = settings.leaderScope ?? PostgresLease.scope(servers: settings.servers.map(\.name))
        let lease = PostgresLease(history: history, scope: scope, interval: settings.interval, logger: logger)
        collector.leadership = lease
        return lease
    }

    /// Seals and rolls up the history beside the collector (`run`, `collect`).
    public static func makeCompactor(_ settings: Settings, store: any HistoryWriter, logger: Logger) -> HistoryCompactor {
        HistoryCompactor(store: store, every: settings.interval, logger: logger)
    }

    /// The webhook sender of a process that collects, when receivers are configured.
    public static func makeWebhooks(_ settings: Settings, store: any HistoryWriter, logger: Logger,
                                    status: WebhookStatus? = nil) -> WebhookSender? {
        guard !settings.events.receiverEntries.isEmpty else { return nil }
        var webhooks = WebhookSettings(targets: settings.events.receiverEntries, secret: settings.events.secret)
        webhooks.mail = settings.events.mail
        return WebhookSender(store: store, settings: webhooks, logger: logger, status: status)
    }

    /// What the HTTP API reads from; `status` is the in-process collector's, under `mtxmon run`.
    public static func apiEnvironment(_ settings: Settings, cache: any SnapshotCache, store: any HistoryReader,
                                      registry: PrometheusCollectorRegistry?, status: CollectorStatus?,
                                      live: LiveHub? = nil) -> APIEnvironment {
        let interval = settings.interval.components
        var environment = APIEnvironment(
            cache: cache, history: store,
            intervalMs: interval.seconds * 1_000 + interval.attoseconds / 1_000_000_000_000_000,
            apiToken: settings.apiToken, corsOrigins: settings.corsOrigins, registry: registry,
            collectorStatus: status, mediaMTXURL: settings.mediaMTX.baseURL, live: live,
            forgetAfterMs: settings.forgetAfter.milliseconds, serverURLs: Dictionary(
                settings.servers.map { ($0.name, $0.endpoint.baseURL) }, uniquingKeysWith: { first, _ in first }))
        environment.httpLimits = settings.httpLimits
        environment.writer = store as? any HistoryWriter
        return environment
    }

    /// The HTTP server on `settings.listen`; `onRunning` is called once it listens.
    public static func makeServer(_ environment: APIEnvironment, settings: Settings, logger: Logger,
                                  onRunning: @escaping @Sendable () async -> Void = {}) -> any Service {
        AnnouncingApplication(
            base: APIServer.application(environment, host: settings.listen.host, port: settings.listen.port,
                                        logger: logger),
            onRunning: onRunning)
    }

    /// How long a stop may take (SIGTERM, SIGINT): past it, what is still running is cancelled,
    /// and the process exits some two seconds later at most. Held polls are in the hold file
    /// already (see `HoldQueue`), so a cut-short stop loses none.
    public static let shutdownTimeout: Duration = .seconds(10)

    /// Runs `services` until SIGTERM or SIGINT, then stops them one by one from the last to the
    /// first, each finishing its work in flight: callers list the collector after the HTTP server,
    /// so it stops polling before the API stops answering. Services are named by their type in
    /// logs: their descriptions would print their settings.
    public static func run(_ services: [any Service], logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0, serviceName: String(describing: type(of: $0))) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownTimeout
        configuration.maximumCancellationDuration = .seconds(2)
        try await ServiceGroup(configuration: configuration).run()
    }
}
