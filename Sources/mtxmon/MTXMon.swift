import ArgumentParser
import Foundation
import History
import Logging
import Metrics
import MTXMonApp
import MTXMonCore
import Prometheus

@main
struct MTXMon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mtxmon",
        abstract: "Records the health of MediaMTX streams: bitrate, readers and SRT link quality, live and as history.",
        discussion: """
            Settings come from flags, then the environment (MEDIA_MTX_API_URL, REDIS_HOST, MTXMON_DB, …; \
            `mtxmon help run` lists every one the collector and the API read), then defaults.
            """,
        version: "mtxmon \(BuildInfo.description)",
        subcommands: [Run.self, Collect.self, Serve.self, Prune.self, Migrate.self, Export.self, Simulate.self,
                      HealthcheckCommand.self, Servers.self],
        defaultSubcommand: nil
    )
}

/// Flags every command that reads `Settings` shares; the listen address is `ListenOption`'s,
/// as only the commands that serve HTTP read it.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("mediamtx"), help: "MediaMTX control API URL (MEDIA_MTX_API_URL).")
    var mediaMTXURL: String?

    @Option(help: "Time between polls, e.g. 2s (MTXMON_INTERVAL).")
    var interval: String?

    @Option(name: .customLong("db"), help: "SQLite history file (MTXMON_DB).")
    var database: String?

    @Option(name: .customLong("log-level"), help: "trace … critical (MTXMON_LOG_LEVEL).")
    var logLevel: String?

    /// Loads settings or exits with every problem listed.
    func settings(listen: String? = nil) throws -> Settings {
        do {
            return try Settings.load(
                environment: ProcessInfo.processInfo.environment,
                overrides: SettingsOverrides(mediaMTXURL: mediaMTXURL, interval: interval, database: database,
                                             listen: listen, logLevel: logLevel))
        } catch {
            throw ValidationError("configuration problem:\n\(error)")
        }
    }
}

/// The settings of the commands that work on the history alone (`migrate`, `servers rename`):
/// only the variables they read, so a wrong collector or API setting (or one meant for another
/// host) does not stop a schema upgrade or a rename.
enum HistorySettings {
    static let environment: Set = ["MTXMON_DB", "MTXMON_INTERVAL", "MTXMON_DB_PASSWORD_FILE"]

    static func load(database: String?, interval: String? = nil) throws -> Settings {
        let environment = ProcessInfo.processInfo.environment.filter { Self.environment.contains($0.key) }
        do {
            return try Settings.load(environment: environment,
                                     overrides: SettingsOverrides(interval: interval, database: database))
        } catch {
            throw ValidationError("configuration problem:\n\(error)")
        }
    }
}

/// The HTTP listen address of the commands that serve (`run`, `serve`).
struct ListenOption: ParsableArguments {
    @Option(help: "HTTP listen address host:port (MTXMON_LISTEN).")
    var listen: String?
}

/// Sets up logging and the Prometheus registry once per process, before any metric is created.
func bootstrap(_ settings: Settings, label: String) -> (Logger, PrometheusCollectorRegistry) {
    let level = Logger.Level(rawValue: settings.logLevel) ?? .info
    let style = PlainLogHandler.Style.detect(environment: ProcessInfo.processInfo.environment)
    LoggingSystem.bootstrap { PlainLogHandler(label: $0, level: level, style: style) }
    let registry = PrometheusCollectorRegistry()
    var factory = PrometheusMetricsFactory(registry: registry)
    // Hummingbird's counters lack the `_total` suffix and its histogram the unit that Prometheus's
    // naming asks for (`promtool check metrics`); the names the exposition uses follow it.
    factory.nameAndLabelSanitizer = { name, labels in
        let renamed = switch name {
        case "hb.requests": "http_server_requests_total"
        case "hb.request.errors": "http_server_request_errors_total"
        case "http.server.request.duration": "http_server_request_duration_seconds"
        default: name
        }
        return (renamed, labels)
    }
    MetricsSystem.bootstrap(factory)
    registry.makeGauge(
        descriptor: MetricNameDescriptor(metricName: "mtxmon_build_info", unitName: "",
                                         helpText: "Always 1: the version and build of this mtxmon, as --version prints them."),
        labels: [("version", BuildInfo.version), ("build", BuildInfo.build)]
    ).set(to: 1.0)
    let logger = Logger(label: label)
    logger.info("mtxmon \(BuildInfo.description) starting", metadata: ["command": "\(label)"])
    return (logger, registry)
}

extension CommonOptions {
    /// What every long-running command starts with: settings, logging and metrics, the history file.
    func start(label: String, listen: String? = nil) async throws
        -> (Settings, Logger, PrometheusCollectorRegistry, any HistoryWriter) {
        MemoryArenas.limit(environment: ProcessInfo.processInfo.environment)
        let settings = try settings(listen: listen)
        let (logger, registry) = bootstrap(settings, label: label)
        return (settings, logger, registry, try await App.openStore(settings))
    }
}
