import MTXMonCore

/// What one HTTP connection may cost this server, so that malformed, oversized or slow clients
/// get an answer and are hung up on, rather than holding a socket (and, at the file limit, the
/// service) forever. Each is a setting (`MTXMON_HTTP_*`); the defaults fit the API, whose
/// requests are a line and a few headers.
public struct HTTPLimits: Sendable, Equatable {
    /// Request line and headers together, in bytes (`MTXMON_HTTP_MAX_HEAD`, 32 KiB): larger
    /// answers 431.
    public var maxHeadBytes: Int = 32 * 1_024
    /// Header fields in one request (`MTXMON_HTTP_MAX_HEADERS`, 100): more answers 431.
    public var maxHeaders: Int = 100
    /// A request's body, in bytes (`MTXMON_HTTP_MAX_BODY`, 64 KiB): larger answers 413.
    public var maxBodyBytes: Int = 64 * 1_024
    /// How long a client may take to send a whole request, from its first byte (or the connection's
    /// opening) to its end (`MTXMON_HTTP_READ_TIMEOUT`, 10 s): slower answers 408.
    public var readTimeout: Duration = .seconds(10)
    /// How long a kept-alive connection may wait for its next request (`MTXMON_HTTP_IDLE_TIMEOUT`,
    /// 60 s): it is then closed.
    public var idleTimeout: Duration = .seconds(60)

    public init() {}
}

/// Who may open the live feed (`/api/v1/ws`), decided before the upgrade so a refusal is a JSON
/// answer with its status, not an empty 400.
public struct LiveFeedGate: Sendable {
    /// `MTXMON_API_TOKEN`: with it, the feed needs `?token=` or `Authorization: Bearer`.
    public var token: String?
    /// `MTXMON_CORS_ORIGINS`: pages of these origins may open the feed (`*`: any).
    public var allowedOrigins: Set<String>

    public init(token: String?, allowedOrigins: [String]) {
        self.token = token
        self.allowedOrigins = Set(allowedOrigins)
    }

    /// Why a WebSocket upgrade to `path` (with `query`) is refused, as (status, code, message), or
    /// `nil` to let it through. Without a token, a browser page may open the feed only from the
    /// dashboard's own origin (or one listed): another site's page in the operator's browser
    /// must not read it. Clients that send no `Origin`, or one no browser sends, are not browsers.
    public func refusal(path: String, query: String?, authorization: String?, origin: String?,
                        host: String?) -> (status: Int, code: String, message: String)? {
        guard path == "/api/v1/ws" else { return nil }
        if let token {
            let expected = Array(token.utf8)
            let fromQuery = Self.queryValue("token", in: query)
            let fromHeader = authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            let given = fromQuery ?? fromHeader
            guard let given, BearerTokenMiddleware<APIRequestContext>.constantTimeEqual(Array(given.utf8), expected) else {
                return (401, "unauthorized", given == nil
                    ? "this mtxmon needs a token: open ws://HOST/api/v1/ws?token=<MTXMON_API_TOKEN> or send "
                        + "Authorization: Bearer <MTXMON_API_TOKEN>"
                    : "the token is wrong: use the value of MTXMON_API_TOKEN")
            }
            return nil
        }
        guard let origin else { return nil }
        // A browser names the page's origin: http(s)://… or `null` (a sandboxed or file page).
        // Other clients may send their own (`ws://host`, as Swift's WebSocket client does).
        let lower = origin.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower == "null" else { return nil }
        if allowedOrigins.contains("*") || allowedOrigins.contains(origin) { return nil }
        if let host, origin == "http://\(host)" || origin == "https://\(host)" { return nil }
        return (403, "forbidden_origin", "a page from \(origin.prefix(200)) may not open this live feed: only the "
            + "dashboard's own pages may, unless MTXMON_CORS_ORIGINS lists the origin or MTXMON_API_TOKEN is set")
    }

    static func queryValue(_ name: String, in query: String?) -> String? {
        guard let query else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.first == Substring(name) {
                return parts.count > 1 ? Redaction.percentDecoded(String(parts[1])) : ""
            }
        }
        return nil
    }
}
