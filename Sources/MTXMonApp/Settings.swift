import Foundation
import SQLiteHistory
import MediaMTXClient
import MTXMonCore
import PostgresHistory
import MTXMonServer
import Collector
import SnapshotCache

/// Every setting mtxmon reads, in one place. Precedence: command-line flag > environment > default.
/// The environment names of the original collector (`MEDIA_MTX_API_URL`, `REDIS_*`) are kept.
public struct Settings: Sendable {
    /// `MEDIA_MTX_API_URL`, `MEDIA_MTX_API_USER`/`MEDIA_MTX_API_PASS` or `MEDIA_MTX_API_TOKEN`, `MTXMON_PAGE_SIZE`:
    /// the first server's endpoint (the only one's, unless `MTXMON_SERVERS` lists a fleet).
    public var mediaMTX: MediaMTXEndpoint
    /// `MTXMON_SERVERS` (`name=url,…`) and `MTXMON_SERVERS_FILE` (YAML with credentials and
    /// intervals); without either, `MEDIA_MTX_API_URL` alone is one server named `default`.
    public var servers: [ServerSetting] = []
    /// `MTXMON_INTERVAL`: time between polls (default 2s).
    public var interval: Duration
    /// `REDIS_HOST` (unset: in-process cache), `REDIS_PORT`, `REDIS_PASSWORD`, `REDIS_KEY`, `REDIS_CHANNEL`.
    public var redis: RedisSettings?
    /// `MTXMON_DB`: the SQLite history file (default `./mtxmon.sqlite`), or a PostgreSQL database
    /// as `postgres://user@host:5432/database?sslmode=require`.
    public var database: String
    /// `MTXMON_DB_PASSWORD_FILE`: a file holding the PostgreSQL password (its first line).
    public var databasePasswordFile: String?
    /// `MTXMON_LEADER_SCOPE`: what the collectors of one active–standby pair share a lead for
    /// (default: the names of the servers they poll).
    public var leaderScope: String?
    /// Whether servers were named (`MTXMON_SERVERS`, its file, `MEDIA_MTX_API_URL`, `--mediamtx`), not
    /// only the default one assumed: an API node of a shared history then lists the history's servers.
    public var serversGiven = true
    /// `MTXMON_LISTEN`: HTTP address `host:port` (default `127.0.0.1:9990`).
    public var listen: HostPort
    /// `MTXMON_API_TOKEN`: when set, every endpoint but `/healthz` needs `Authorization: Bearer`.
    public var apiToken: String?
    /// `MTXMON_CORS_ORIGINS`: comma-separated origins allowed to call the API from a browser.
    public var corsOrigins: [String]
    /// `MTXMON_LOG_LEVEL`: trace, debug, info, notice, warning, error or critical (default info).
    public var logLevel: String
    /// `MTXMON_FORGET_AFTER`: how long a path MediaMTX no longer lists stays known, as offline (default 24h).
    public var forgetAfter: Duration = .seconds(86_400)
    /// `MTXMON_SEAL_EVERY`: polls kept as recent rows before they are sealed into chunks (default
    /// 120: four minutes at 2 s). Fewer seal sooner and compress less.
    public var sealEvery: Int = SQLiteHistory.defaultSealEvery
    /// `MTXMON_METRICS_MAX_SERIES`: most stream series (per-path gauges) one `/metrics` scrape
    /// writes (default 20,000: every figure of some 2,500 paths); 0 writes none.
    public var metricsMaxSeries: Int = Settings.defaultMetricsMaxSeries
    public static let defaultMetricsMaxSeries = 20_000
    /// Event rules and webhooks (see `EventSettings`).
    public var events = EventSettings()
    /// `MTXMON_HTTP_MAX_HEAD`, `MTXMON_HTTP_MAX_HEADERS`, `MTXMON_HTTP_MAX_BODY`,
    /// `MTXMON_HTTP_READ_TIMEOUT`, `MTXMON_HTTP_IDLE_TIMEOUT`: what one HTTP connection may cost.
    public var httpLimits = HTTPLimits()
    /// `MTXMON_HOLD_FILE` (`<db>.hold`; `off` for memory only), `MTXMON_HOLD_RESERVE` (32MiB),
    /// `MTXMON_HOLD_MAX` (1GiB), `MTXMON_HOLD_MEMORY` (64MiB): where polls wait while the history
    /// store refuses writes, and how much may wait.
    public var hold = HoldSettings()

    /// How long the latest snapshot stays readable after the collector stops: five intervals.
    public var snapshotTTL: Duration { interval * 5 }
}

/// A `host:port` pair as operators write it; IPv6 hosts in brackets (`[::1]:9990`).
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65_535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A setting that cannot be used, named with its source and an accepted example.
public struct SettingsError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

/// Values given on the command line; `nil` means "not given".
public struct SettingsOverrides: Sendable {
    public var mediaMTXURL: String?
    public var interval: String?
    public var database: String?
    public var listen: String?
    public var logLevel: String?

    public init(mediaMTXURL: String? = nil, interval: String? = nil, database: String? = nil, listen: String? = nil,
                logLevel: String? = nil) {
        self.mediaMTXURL = mediaMTXURL
        self.interval = interval
        self.database = database
        self.listen = listen
        self.logLevel = logLevel
    }
}

extension Settings {
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Reads `environment` and `overrides`; every problem is reported, not only the first.
    public static func load(environment: [String: String], overrides: SettingsOverrides = .init(),
                            readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) })
        throws(SettingsError) -> Settings {
        var problems: [String] = []
        func value(_ key: String) -> String? {
            guard let raw = environment[key] else { return nil }
            let trimmed = raw.trimmingCharacters()
            return trimmed.isEmpty ? nil : trimmed
        }

        let fleetList = value("MTXMON_SERVERS")
        let fleetFile = value("MTXMON_SERVERS_FILE")
        let fleet = overrides.mediaMTXURL == nil && (fleetList != nil || fleetFile != nil)
        if fleet, value("MEDIA_MTX_API_URL") != nil {
            problems.append("MEDIA_MTX_API_URL and \(fleetList != nil ? "MTXMON_SERVERS" : "MTXMON_SERVERS_FILE") are both set: "
                + "MEDIA_MTX_API_URL names the one server of a single-server install; list every server in "
                + "MTXMON_SERVERS (e.g. default=\(value("MEDIA_MTX_API_URL") ?? "")) and unset MEDIA_MTX_API_URL")
        }
        // Credentials in the URL are basic auth for MediaMTX, and leave the URL here: every place
        // that shows a URL shows it without them.
        let given = overrides.mediaMTXURL ?? value("MEDIA_MTX_API_URL") ?? "http://localhost:9997"
        let (url, urlUser, urlPassword) = Redaction.credentials(in: given)
        let urlSource = overrides.mediaMTXURL != nil ? "--mediamtx" : "MEDIA_MTX_API_URL"
        if !fleet, !(url.hasPrefix("http://") || url.hasPrefix("https://")) || url.count < 10 {
            problems.append("\(urlSource)='\(Redaction.url(given))' is not an http(s) URL: use e.g. http://localhost:9997")
        }
        var credentials: MediaMTXEndpoint.Credentials?
        if let token = value("MEDIA_MTX_API_TOKEN") {
            credentials = .bearer(token: token)
        } else if let user = value("MEDIA_MTX_API_USER") {
            credentials = .basic(user: user, password: environment["MEDIA_MTX_API_PASS"] ?? "")
        } else if value("MEDIA_MTX_API_PASS") != nil {
            problems.append("MEDIA_MTX_API_PASS is set without MEDIA_MTX_API_USER: set both, e.g. MEDIA_MTX_API_USER=mtxmon")
        }
        if let urlUser, !fleet {
            if credentials != nil {
                problems.append("\(urlSource) holds a user and password and MEDIA_MTX_API_USER or MEDIA_MTX_API_TOKEN is "
                    + "set too: give the credentials in one place")
            } else {
                credentials = .basic(user: urlUser, password: urlPassword ?? "")
            }
        }
        // MediaMTX's own default is 100; a thousand items a page is a tenth of the requests for a
        // big server (each costs both sides more than its items do), and MediaMTX sets no limit.
        var pageSize = 1_000
        if let text = value("MTXMON_PAGE_SIZE") {
            if let n = Int(text), (1...10_000).contains(n) { pageSize = n } else {
                problems.append("MTXMON_PAGE_SIZE='\(text)' must be a whole number from 1 to 10000, e.g. 1000")
            }
        }

        var interval = Duration.seconds(2)
        let intervalText = overrides.interval ?? value("MTXMON_INTERVAL")
        if let intervalText {
            let source = overrides.interval != nil ? "--interval" : "MTXMON_INTERVAL"
            do {
                let ms = try DurationParser.milliseconds(intervalText)
                if ms < 100 || ms > 3_600_000 {
                    problems.append("\(source)='\(intervalText)' must be between 100ms and 1h, e.g. 2s")
                } else {
                    interval = .milliseconds(ms)
                }
            } catch {
                problems.append("\(source)=\(error)")
            }
        }

        var redis: RedisSettings?
        if let text = value("REDIS_URL") {
            if value("REDIS_HOST") != nil {
                problems.append("REDIS_URL and REDIS_HOST are both set: keep one, e.g. REDIS_URL=redis://:PASSWORD@127.0.0.1:6379/0")
            }
            switch RedisURL.parse(text) {
            case let .success(parsed):
                redis = RedisSettings(host: parsed.host, port: parsed.port, password: parsed.password,
                                      key: value("REDIS_KEY") ?? "mediamtx:streams:latest",
                                      channel: value("REDIS_CHANNEL") ?? "mediamtx:streams:updates")
                redis?.username = parsed.user
                redis?.database = parsed.database
            case let .failure(problem):
                problems.append(problem.message)
            }
        } else if let host = value("REDIS_HOST") {
            var port = 6379
            if let text = value("REDIS_PORT") {
                if let n = Int(text), (1...65_535).contains(n) { port = n } else {
                    problems.append("REDIS_PORT='\(text)' is not a TCP port: use e.g. 6379")
                }
            }
            redis = RedisSettings(host: host, port: port, password: value("REDIS_PASSWORD"),
                                  key: value("REDIS_KEY") ?? "mediamtx:streams:latest",
                                  channel: value("REDIS_CHANNEL") ?? "mediamtx:streams:updates")
        }

        let database = overrides.database ?? value("MTXMON_DB") ?? "./mtxmon.sqlite"
        let databasePasswordFile = value("MTXMON_DB_PASSWORD_FILE")
        if PostgresURL.names(database) {
            do { _ = try PostgresURL(database, passwordFile: databasePasswordFile) } catch {
                problems.append("\(error)")
            }
        } else if databasePasswordFile != nil {
            problems.append("MTXMON_DB_PASSWORD_FILE is set but MTXMON_DB is a file, not postgres://…: unset one of them")
        }
        let listenText = overrides.listen ?? value("MTXMON_LISTEN") ?? "127.0.0.1:9990"
        let listen = HostPort(listenText)
        if listen == nil {
            problems.append("\(overrides.listen != nil ? "--listen" : "MTXMON_LISTEN")='\(listenText)' is not host:port: use e.g. 127.0.0.1:9990 or [::1]:9990")
        }
        let logLevel = (overrides.logLevel ?? value("MTXMON_LOG_LEVEL") ?? "info").lowercased()
        if !logLevels.contains(logLevel) {
            problems.append("MTXMON_LOG_LEVEL='\(logLevel)' is not a level: use one of \(logLevels.joined(separator: ", "))")
        }
        var forgetAfter = Duration.seconds(86_400)
        if let text = value("MTXMON_FORGET_AFTER") {
            do {
                let ms = try DurationParser.milliseconds(text)
                if ms < 60_000 || ms > 400 * 86_400_000 {
                    problems.append("MTXMON_FORGET_AFTER='\(text)' must be between 1m and 400d, e.g. 24h")
                } else {
                    forgetAfter = .milliseconds(ms)
                }
            } catch {
                problems.append("MTXMON_FORGET_AFTER=\(error)")
            }
        }
        var sealEvery = SQLiteHistory.defaultSealEvery
        if let text = value("MTXMON_SEAL_EVERY") {
            if let n = Int(text.trimmingCharacters()), (2...10_000).contains(n) {
                sealEvery = n
            } else {
                problems.append("MTXMON_SEAL_EVERY='\(text)' must be a number of polls from 2 to 10000, e.g. 120")
            }
        }
        var metricsMaxSeries = Settings.defaultMetricsMaxSeries
        if let text = value("MTXMON_METRICS_MAX_SERIES") {
            if let n = Int(text.trimmingCharacters()), (0...1_000_000).contains(n) {
                metricsMaxSeries = n
            } else {
                problems.append("MTXMON_METRICS_MAX_SERIES='\(text)' must be a number of series from 0 (no stream "
                    + "gauges) to 1000000, e.g. 20000")
            }
        }
        let events = EventSettings.load(value, problems: &problems)
        let httpLimits = Self.httpLimits(value, problems: &problems)
        let hold = Self.hold(value, database: database, problems: &problems)
        let cors = (value("MTXMON_CORS_ORIGINS") ?? "").split(separator: ",")
            .map { String($0).trimmingCharacters() }.filter { !$0.isEmpty }

        let endpoint = MediaMTXEndpoint(baseURL: url, credentials: credentials, pageSize: pageSize)
        var servers = [ServerSetting(name: ServerName.default, endpoint: endpoint)]
        if fleet {
            var file: (String, String)?
            if let path = fleetFile {
                do {
                    file = (path, try readFile(path))
                } catch {
                    problems.append("MTXMON_SERVERS_FILE='\(path)' cannot be read (\(error.localizedDescription)): check "
                        + "the path and that this user may read it")
                }
            }
            servers = ServerList.parse(list: fleetList, file: file, defaults: endpoint, interval: interval,
                                       problems: &problems)
            if servers.isEmpty, problems.isEmpty {
                problems.append("MTXMON_SERVERS_FILE lists no server: add at least one, e.g.\n\(ServerList.fileExample)")
            }
        }

        guard problems.isEmpty, let listen else {
            throw SettingsError(message: problems.joined(separator: "\n"))
        }
        registerSecrets(servers: servers, redis: redis, events: events, apiToken: value("MTXMON_API_TOKEN"),
                        database: database, databasePasswordFile: databasePasswordFile)
        return Settings(
            mediaMTX: servers.first?.endpoint ?? endpoint, servers: servers,
            interval: interval, redis: redis, database: database, databasePasswordFile: databasePasswordFile,
            leaderScope: value("MTXMON_LEADER_SCOPE"),
            serversGiven: fleet || overrides.mediaMTXURL != nil || value("MEDIA_MTX_API_URL") != nil, listen: listen,
            apiToken: value("MTXMON_API_TOKEN"), corsOrigins: cors, logLevel: logLevel, forgetAfter: forgetAfter,
            sealEvery: sealEvery, metricsMaxSeries: metricsMaxSeries, events: events, httpLimits: httpLimits,
            hold: hold)
    }

    /// The `MTXMON_HOLD_*` settings.
    static func hold(_ value: (String) -> String?, database: String, problems: inout [String]) -> HoldSettings {
        // Beside the file; for a database, in the working folder (systemd's StateDirectory).
        var hold = HoldSettings(path: PostgresURL.names(database) ? "./mtxmon-postgres.hold" : database + ".hold")
        if let path = value("MTXMON_HOLD_FILE") { hold.path = path == "off" ? nil : path }
        func size(_ key: String, _ range: ClosedRange<Int>, example: String) -> Int? {
            guard let text = value(key) else { return nil }
            guard let n = bytes(text), range.contains(n) else {
                problems.append("\(key)='\(text)' must be a size in bytes from \(range.lowerBound) to "
                    + "\(range.upperBound >> 20) MiB, e.g. \(example)")
                return nil
            }
            return n
        }
        if let n = size("MTXMON_HOLD_RESERVE", 0...(16 << 30), example: "32MiB") { hold.reserve = Int64(n) }
        if let n = size("MTXMON_HOLD_MAX", (1 << 20)...(1 << 40), example: "1024MiB") { hold.maxFile = Int64(n) }
        if let n = size("MTXMON_HOLD_MEMORY", (1 << 20)...(64 << 30), example: "64MiB") { hold.maxMemory = n }
        if hold.reserve > hold.maxFile {
            problems.append("MTXMON_HOLD_RESERVE (\(hold.reserve) bytes) is more than MTXMON_HOLD_MAX "
                + "(\(hold.maxFile) bytes): the reserve is part of the file, e.g. MTXMON_HOLD_RESERVE=32MiB")
        }
        return hold
    }

    /// The `MTXMON_HTTP_*` limits; sizes in bytes (`32768`, `32KiB`, `1MiB`), times as durations.
    static func httpLimits(_ value: (String) -> String?, problems: inout [String]) -> HTTPLimits {
        var limits = HTTPLimits()
        func size(_ key: String, _ range: ClosedRange<Int>, example: String) -> Int? {
            guard let text = value(key) else { return nil }
            guard let n = Self.bytes(text), range.contains(n) else {
                problems.append("\(key)='\(text)' must be a size in bytes from \(range.lowerBound) to "
                    + "\(range.upperBound), e.g. \(example)")
                return nil
            }
            return n
        }
        func duration(_ key: String, example: String) -> Duration? {
            guard let text = value(key) else { return nil }
            do {
                let ms = try DurationParser.milliseconds(text)
                guard (100...3_600_000).contains(ms) else {
                    problems.append("\(key)='\(text)' must be between 100ms and 1h, e.g. \(example)")
                    return nil
                }
                return .milliseconds(ms)
            } catch {
                problems.append("\(key)=\(error)")
                return nil
            }
        }
        if let n = size("MTXMON_HTTP_MAX_HEAD", 1_024...(1 << 20), example: "32KiB") { limits.maxHeadBytes = n }
        if let text = value("MTXMON_HTTP_MAX_HEADERS") {
            if let n = Int(text), (8...10_000).contains(n) { limits.maxHeaders = n } else {
                problems.append("MTXMON_HTTP_MAX_HEADERS='\(text)' must be a number of header fields from 8 to 10000, e.g. 100")
            }
        }
        if let n = size("MTXMON_HTTP_MAX_BODY", 0...(64 << 20), example: "64KiB") { limits.maxBodyBytes = n }
        if let d = duration("MTXMON_HTTP_READ_TIMEOUT", example: "10s") { limits.readTimeout = d }
        if let d = duration("MTXMON_HTTP_IDLE_TIMEOUT", example: "60s") { limits.idleTimeout = d }
        return limits
    }

    /// `32768`, `32KiB`/`32K`/`32k`, `1MiB`/`1M` as bytes; `nil` for anything else.
    static func bytes(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1_024), ("MiB", 1 << 20), ("GiB", 1 << 30), ("K", 1_024), ("k", 1_024),
                                      ("M", 1 << 20), ("G", 1 << 30)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            return Int(text.dropLast(suffix.count)).flatMap { $0.multipliedReportingOverflow(by: factor).overflow ? nil : $0 * factor }
        }
        return Int(text)
    }
}

extension Settings {
    /// Every secret these settings hold, so no log line carries one (see `Secrets`).
    static func registerSecrets(servers: [ServerSetting], redis: RedisSettings?, events: EventSettings,
                                apiToken: String?, database: String? = nil, databasePasswordFile: String? = nil) {
        for server in servers {
            switch server.endpoint.credentials {
            case let .basic(user, password):
                Secrets.register(password)
                Secrets.register(MediaMTXEndpoint.basicToken(user: user, password: password))
            case let .bearer(token): Secrets.register(token)
            case nil: break
            }
        }
        Secrets.register(redis?.password)
        if let database, PostgresURL.names(database) {
            Secrets.register(try? PostgresURL(database, passwordFile: databasePasswordFile).password)
        }
        Secrets.register(apiToken)
        Secrets.register(events.secret)
        for url in events.receiverEntries {
            let (_, user, password) = Redaction.credentials(in: url)
            Secrets.register(password)
            if let user { Secrets.register(MediaMTXEndpoint.basicToken(user: user, password: password ?? "")) }
            for (name, value) in queryParameters(url) where Redaction.url("x://h/?\(name)=v").hasSuffix(Redaction.mask) {
                Secrets.register(value)
            }
        }
    }

    static func queryParameters(_ url: String) -> [(String, String)] {
        guard let question = url.firstIndex(of: "?") else { return [] }
        return url[url.index(after: question)...].split(separator: "&").compactMap { pair -> (String, String)? in
            guard let eq = pair.firstIndex(of: "=") else { return nil }
            return (String(pair[..<eq]), Redaction.percentDecoded(String(pair[eq...].dropFirst())))
        }
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
