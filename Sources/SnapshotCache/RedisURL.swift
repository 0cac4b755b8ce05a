import MTXMonCore

/// `REDIS_URL` as Redis clients write it: `redis://[[user]:password@]host[:port][/db]`.
public struct RedisURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?
    public var database: Int

    /// A `REDIS_URL` that cannot be used, named without its password.
    public struct Problem: Error, Equatable {
        public let message: String
    }

    public static let example = "redis://:PASSWORD@127.0.0.1:6379/0"

    public static func parse(_ text: String) -> Result<RedisURL, Problem> {
        let shown = Redaction.url(text)
        func problem(_ why: String) -> Result<RedisURL, Problem> {
            .failure(Problem(message: "REDIS_URL='\(shown)' \(why): use e.g. \(example)"))
        }
        if text.hasPrefix("rediss://") {
            return problem("asks for TLS, which this mtxmon's Redis client (hiredis) is not built with; use redis:// "
                + "on a trusted network, or a TLS tunnel such as stunnel to a local port")
        }
        if text.hasPrefix("unix://") || text.hasPrefix("redis+unix://") {
            return problem("is a Unix socket, which mtxmon does not use; give Redis's TCP address")
        }
        guard text.hasPrefix("redis://") else { return problem("is not a redis:// URL") }
        let (stripped, user, password) = Redaction.credentials(in: text)
        var rest = Substring(stripped.dropFirst("redis://".count))
        if let question = rest.firstIndex(of: "?") {
            return problem("has query parameters (\(rest[question...].prefix(40))), which mtxmon does not read")
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let n = Int(path), (0...1_000_000).contains(n) else {
                    return problem("names database '\(path)', which is not a number")
                }
                database = n
            }
        }
        var host = String(rest)
        var port = 6379
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return problem("has an IPv6 address without its ']'") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let n = Int(after.dropFirst()), (1...65_535).contains(n) else { return problem("has a bad port") }
                port = n
            } else if !after.isEmpty {
                return problem("has text after its IPv6 address")
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let n = Int(host[host.index(after: colon)...]), (1...65_535).contains(n) else {
                return problem("has a bad port")
            }
            port = n
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { return problem("has no host") }
        return .success(RedisURL(host: host, port: port, user: user.flatMap { $0.isEmpty ? nil : $0 },
                                 password: password.flatMap { $0.isEmpty ? nil : $0 }, database: database))
    }
}
