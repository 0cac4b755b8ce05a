import AsyncHTTPClient
import Collector
import HistoryStore
import Logging
import MediaMTXClient
import MTXMonCore
import MTXMonServer
import Prometheus
import ServiceLifecycle
import SnapshotCache

/// The composition root: turns `Settings` into running services. Commands pick a shape.
public enum App {
    /// The snapshot cache the settings ask for: Redis when `REDIS_HOST` is set, else in process.
    public static func makeCache(_ settings: Settings) -> any SnapshotCache {
        if let redis = settings.redis {
            return RedisSnapshotCache(settings: redis, ttl: settings.snapshotTTL)
        }
        return InProcessSnapshotCache(ttl: settings.snapshotTTL)
    }

    /// Opens (and migrates) the history file, with an error that says what to do.
    public static func openStore(_ settings: Settings) throws -> HistoryStore {
        do {
            return try HistoryStore(path: settings.database)
        } catch let error as MigrationError {
            throw SettingsError(message: "\(error)")
        } catch {
            throw SettingsError(message: "cannot open the history database MTXMON_DB='\(settings.database)' (\(error)): "
                + "check that its folder exists and is writable by this user")
        }
    }

    public static func makeCollector(_ settings: Settings, cache: any SnapshotCache, store: HistoryStore,
                                     status: CollectorStatus, logger: Logger) -> Collector {
        Collector(
            client: MediaMTXClient(endpoint: settings.mediaMTX),
            cache: cache, store: store,
            settings: CollectorSettings(interval: settings.interval),
            status: status, logger: logger)
    }

    /// What the HTTP API reads from; `status` is the in-process collector's, under `mtxmon run`.
    public static func apiEnvironment(_ settings: Settings, cache: any SnapshotCache, store: HistoryStore,
                                      registry: PrometheusCollectorRegistry?, status: CollectorStatus?) -> APIEnvironment {
        let interval = settings.interval.components
        return APIEnvironment(
            cache: cache, store: store,
            intervalMs: interval.seconds * 1_000 + interval.attoseconds / 1_000_000_000_000_000,
            apiToken: settings.apiToken, corsOrigins: settings.corsOrigins, registry: registry,
            collectorStatus: status, mediaMTXURL: settings.mediaMTX.baseURL)
    }

    /// The HTTP server on `settings.listen`; `onRunning` is called once it listens.
    public static func makeServer(_ environment: APIEnvironment, settings: Settings, logger: Logger,
                                  onRunning: @escaping @Sendable () async -> Void = {}) -> any Service {
        AnnouncingApplication(
            base: APIServer.application(environment, host: settings.listen.host, port: settings.listen.port,
                                        logger: logger),
            onRunning: onRunning)
    }

    /// Runs `services` until SIGTERM or SIGINT, then lets each finish its work in flight.
    public static func run(_ services: [any Service], logger: Logger) async throws {
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
