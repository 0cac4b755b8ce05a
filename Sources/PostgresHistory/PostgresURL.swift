import Foundation
import PostgresNIO

/// Where the history is on PostgreSQL, as `MTXMON_DB` names it:
/// `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require][&host=/socket/dir]`.
///
/// The password may instead come from a file (`MTXMON_DB_PASSWORD_FILE`), so that it is in no
/// environment listing, unit file or process table. `description` never shows it.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public enum SSLMode: String, Sendable { case disable, prefer, require }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// A folder holding PostgreSQL's Unix socket (`?host=/var/run/postgresql`): then `host` is not dialled.
    public var socketDirectory: String?

    /// Whether `text` asks for PostgreSQL rather than a file.
    public static func names(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(_ text: String, passwordFile: String? = nil) throws(PostgresURLError) {
        guard Self.names(text), let parts = URLComponents(string: text) else {
            throw PostgresURLError("MTXMON_DB is not a PostgreSQL URL: write postgres://user@host:5432/database")
        }
        guard let user = parts.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw PostgresURLError("MTXMON_DB names no user: write postgres://user@host:5432/database")
        }
        let database = String(parts.percentEncodedPath.drop { $0 == "/" }).removingPercentEncoding ?? ""
        guard !database.isEmpty else {
            throw PostgresURLError("MTXMON_DB names no database: end it with /database, as in postgres://\(user)@host:5432/mtxmon")
        }
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, b in b })
        let mode = query["sslmode"] ?? "prefer"
        // libpq's names that mean the same to this client: verification follows the system's roots.
        let aliases = ["allow": "prefer", "verify-ca": "require", "verify-full": "require"]
        guard let ssl = SSLMode(rawValue: aliases[mode] ?? mode) else {
            throw PostgresURLError("MTXMON_DB's sslmode=\(mode) is unknown: use disable, prefer or require")
        }
        for name in query.keys where !["sslmode", "host", "application_name", "connect_timeout"].contains(name) {
            throw PostgresURLError("MTXMON_DB's option \(name) is unknown: mtxmon reads sslmode and host")
        }
        self.user = user
        self.database = database
        self.sslMode = ssl
        self.port = parts.port ?? 5432
        self.host = parts.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        if let dir = query["host"], dir.hasPrefix("/") { socketDirectory = dir }
        password = parts.percentEncodedPassword?.removingPercentEncoding
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw PostgresURLError("MTXMON_DB_PASSWORD_FILE=\(passwordFile) cannot be read: check the path and that mtxmon's user may read it")
            }
            // One line, as secret managers write it; the newline an editor adds is not part of it.
            password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
    }

    /// The URL without its password, for logs and `/healthz`.
    public var description: String {
        let at = socketDirectory.map { "\(host)?host=\($0)" } ?? "\(host):\(port)"
        return "postgres://\(user)@\(at)/\(database)"
    }

    /// The client's settings: TLS as `sslmode` asks, dialled by TCP or through the socket.
    func configuration() -> PostgresClient.Configuration {
        var config: PostgresClient.Configuration
        if let socketDirectory {
            config = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password,
                           database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS = switch sslMode {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
            config = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
        // A database that does not answer in 3 s is down for mtxmon's purposes: polls are held meanwhile.
        config.options.connectTimeout = .seconds(3)
        config.options.maximumConnections = 8
        return config
    }
}

public struct PostgresURLError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
