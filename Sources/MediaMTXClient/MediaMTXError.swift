import MTXMonCore

/// Why a request to MediaMTX's control API failed, worded for the operator who must fix it.
///
/// Each cause is its own case because each has its own fix: a refused connection means MediaMTX
/// is not running (or not on that port), a name that does not resolve is a typo or DNS, a TLS
/// failure is a scheme or certificate mismatch, a timeout is load or a black hole.
public enum MediaMTXError: Error, CustomStringConvertible, Sendable, Equatable {
    case refused(url: String)
    case dns(url: String, reason: String)
    case tls(url: String, reason: String)
    case unreachable(url: String, reason: String)
    case timedOut(url: String)
    case unauthorized(url: String)
    case notFound(url: String)
    case status(url: String, code: Int, body: String)
    case badJSON(url: String, detail: String)
    case tooManyPages(url: String, pages: Int)
    case tooLarge(url: String, limit: Int)
    /// The server closed the connection before answering, on a fresh connection too.
    case closedConnection(url: String, reason: String)

    public var description: String {
        text(url: "MEDIA_MTX_API_URL",
             credentials: "MEDIA_MTX_API_USER and MEDIA_MTX_API_PASS (or MEDIA_MTX_API_TOKEN)")
    }

    /// The description for a server of a fleet, whose settings are its entry in `MTXMON_SERVERS`
    /// or `MTXMON_SERVERS_FILE`, not the single-server variables.
    public func description(server: String) -> String {
        text(url: "the url of server '\(server)' (MTXMON_SERVERS or MTXMON_SERVERS_FILE)",
             credentials: "user and pass (or token) of server '\(server)' in MTXMON_SERVERS_FILE")
    }

    private func text(url setting: String, credentials: String) -> String {
        switch self {
        case let .refused(url):
            "MediaMTX refuses connections at \(url): it is not running, or not with `api: yes` on that port "
                + "(\(setting))"
        case let .dns(url, reason):
            "the host name of \(url) does not resolve (\(reason)): check \(setting) and DNS"
        case let .tls(url, reason):
            "TLS with MediaMTX at \(url) failed (\(reason)): use http:// unless MediaMTX has `apiEncryption: yes`, "
                + "and check its certificate"
        case let .unreachable(url, reason):
            "MediaMTX is unreachable at \(url) (\(reason)): check that MediaMTX runs with `api: yes` and that "
                + "\(setting) points at its API address (default http://localhost:9997)"
        case let .closedConnection(url, reason):
            "MediaMTX closed the connection before answering \(url) (\(reason)), on a new connection too: "
                + "check that \(setting) is MediaMTX's API address and that no proxy in between drops requests"
        case let .timedOut(url):
            "MediaMTX did not answer \(url) in time: the server is overloaded or the address is wrong"
        case let .unauthorized(url):
            "MediaMTX refused \(url) with 401/403: set \(credentials) to a user that has the `api` permission "
                + "in mediamtx.yml"
        case let .notFound(url):
            "MediaMTX has no \(url): this server version lacks that list"
        case let .status(url, code, body):
            "MediaMTX answered \(url) with HTTP \(code)" + (body.isEmpty ? "" : ": \(body)")
        case let .badJSON(url, detail):
            "MediaMTX answered \(url) with a body that is not the expected JSON (\(detail)): is "
                + "\(setting) the control API (:9997) and not another port?"
        case let .tooManyPages(url, pages):
            "MediaMTX kept reporting more pages of \(url) after \(pages) requests: giving up on this poll"
        case let .tooLarge(url, limit):
            "MediaMTX answered \(url) with more than \(limit >> 20) MiB, more than mtxmon reads in one answer: "
                + "lower MTXMON_PAGE_SIZE so each page is smaller"
        }
    }

    /// The cause as a short word, for the `reason` label of `mtxmon_poll_failures_total`, the poll
    /// row and `/healthz`.
    public var reason: FailureReason {
        switch self {
        case .refused: .refused
        case .dns: .dns
        case .tls: .tls
        case .unreachable, .closedConnection: .network
        case .timedOut: .timeout
        case .unauthorized: .auth
        case .notFound, .status: .status
        case .badJSON, .tooManyPages, .tooLarge: .body
        }
    }
}

