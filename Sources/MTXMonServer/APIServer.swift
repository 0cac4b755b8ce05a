import Collector
import HistoryStore
import Hummingbird
import Logging
import MTXMonCore
import Prometheus
import ServiceLifecycle
import SnapshotCache

/// What the HTTP API reads from: the snapshot cache, the history file, and, when the collector
/// runs in the same process, its status.
public struct APIEnvironment: Sendable {
    public var cache: any SnapshotCache
    public var store: HistoryStore
    /// The collector's poll interval in ms: the raw resolution, and the unit of staleness.
    public var intervalMs: Int64
    public var apiToken: String?
    public var corsOrigins: [String]
    /// The registry `/metrics` prints; `nil` answers 404 there.
    public var registry: PrometheusCollectorRegistry?
    /// Present under `mtxmon run`; `serve` alone learns about polls from the history file.
    public var collectorStatus: CollectorStatus?
    public var mediaMTXURL: String
    public var now: @Sendable () -> Int64

    public init(
        cache: any SnapshotCache, store: HistoryStore, intervalMs: Int64, apiToken: String? = nil,
        corsOrigins: [String] = [], registry: PrometheusCollectorRegistry? = nil,
        collectorStatus: CollectorStatus? = nil, mediaMTXURL: String = "",
        now: @escaping @Sendable () -> Int64 = WallClock.nowMs
    ) {
        self.cache = cache
        self.store = store
        self.intervalMs = intervalMs
        self.apiToken = apiToken
        self.corsOrigins = corsOrigins
        self.registry = registry
        self.collectorStatus = collectorStatus
        self.mediaMTXURL = mediaMTXURL
        self.now = now
    }

    /// A snapshot older than this many intervals is flagged `stale`.
    static let staleAfterIntervals: Int64 = 3
}

/// The HTTP API: routes and the middleware every route shares.
public enum APIServer {
    public static func router(_ environment: APIEnvironment, logger: Logger) -> Router<BasicRequestContext> {
        let router = Router()
        // Outermost first: CORS headers go on errors too; errors become JSON before CORS sees them.
        if !environment.corsOrigins.isEmpty {
            router.add(middleware: AllowedOriginsMiddleware(origins: Set(environment.corsOrigins)))
        }
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        if let token = environment.apiToken {
            router.add(middleware: BearerTokenMiddleware(token: token))
        }
        PathRoutes(environment: environment).add(to: router)
        HistoryRoutes(environment: environment).add(to: router)
        RateRoutes(environment: environment).add(to: router)
        ServiceRoutes(environment: environment).add(to: router)
        return router
    }

    /// The HTTP server as a `Service`: stops accepting on SIGTERM and finishes requests in flight.
    public static func application(
        _ environment: APIEnvironment, host: String, port: Int, logger: Logger
    ) -> some ApplicationProtocol & Service {
        Application(router: router(environment, logger: logger),
                    configuration: .init(address: .hostname(host, port: port), serverName: "mtxmon"),
                    logger: logger)
    }

    static func json(_ writer: JSONWriter, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: writer.buffer))
    }

    static func csv(_ text: [UInt8], filename: String) -> Response {
        Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "inline; filename=\"\(filename)\"",
        ], body: .init(byteBuffer: .init(bytes: text)))
    }
}
