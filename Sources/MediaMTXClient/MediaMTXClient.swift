import AsyncHTTPClient
import Foundation
import Logging
import MTXMonCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// How to reach one MediaMTX control API.
public struct MediaMTXEndpoint: Sendable {
    public enum Credentials: Sendable, Equatable {
        case basic(user: String, password: String)
        case bearer(token: String)
    }

    /// Base URL without a trailing slash, e.g. `http://localhost:9997`.
    public var baseURL: String
    public var credentials: Credentials?
    /// Items asked for per page; MediaMTX's own default is 100.
    public var pageSize: Int
    /// Upper bound for one HTTP request, so a hung server cannot stall a poll past its slot.
    public var requestTimeout: Duration
    /// Largest body accepted from MediaMTX; a 1,000-path page is about 1 MB.
    public var maxBodyBytes: Int

    /// What HTTP basic auth sends for `user` and `password`: base64 of `user:password`.
    public static func basicToken(user: String, password: String) -> String {
        Data("\(user):\(password)".utf8).base64EncodedString()
    }

    public init(
        baseURL: String, credentials: Credentials? = nil, pageSize: Int = 100,
        requestTimeout: Duration = .seconds(5), maxBodyBytes: Int = 64 << 20
    ) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.credentials = credentials
        self.pageSize = pageSize
        self.requestTimeout = requestTimeout
        self.maxBodyBytes = maxBodyBytes
    }
}

/// What one poll read from MediaMTX, before normalisation.
public struct PollReply: Sendable {
    /// Unix ms at which MediaMTX answered the first page of the path list (the midpoint of that
    /// request's round trip): the instant the counters describe.
    public var ts: Int64
    public var paths: [WirePath]
    /// For each of `paths`, when its page was answered. Pages are read one after another, so on
    /// a big server the last page's counters are tens of ms younger than the first's; rates use
    /// these times so that this skew does not show as bitrate jitter.
    public var readAt: [Int64]
    public var srtConns: [WireSRTConn]
    /// When each SRT connection's page was answered.
    public var srtReadAt: [Int64] = []
    /// The other connection lists the paths referenced, by protocol.
    public var lists: [ConnectionList] = []
    /// Connection lists that were asked for and failed; their connections are missing from
    /// this poll, its paths are not.
    public var failedLists: [ConnectionListFailure] = []

    /// The connection lists this poll read whole (the SRT list unless it failed).
    public var readLists: [ConnectionProtocol] {
        lists.map(\.proto) + (failedLists.contains { $0.proto == .srt } ? [] : [.srt])
    }

    /// The read time of each path by name (the first occurrence wins, as in normalisation).
    public var readAtByName: [String: Int64] {
        var byName: [String: Int64] = [:]
        byName.reserveCapacity(paths.count)
        for (path, at) in zip(paths, readAt) {
            if let name = path.name, byName[name] == nil { byName[name] = at }
        }
        return byName
    }
}

/// One connection list as read: its items and when each item's page was answered.
public struct ConnectionList: Sendable {
    public var proto: ConnectionProtocol
    public var items: [WireConnection]
    public var readAt: [Int64]
}

/// A connection list that could not be read in one poll, and why.
public struct ConnectionListFailure: Sendable, Equatable, CustomStringConvertible {
    public var proto: ConnectionProtocol
    public var error: MediaMTXError

    public init(proto: ConnectionProtocol, error: MediaMTXError) {
        self.proto = proto
        self.error = error
    }

    public var description: String {
        "the \(proto.rawValue) connection list failed, so this poll has no \(proto.rawValue) connections "
            + "(its paths are kept): \(error)"
    }
}

/// Reads MediaMTX's control API: every page of every list a poll needs.
public struct MediaMTXClient: Sendable {
    public let endpoint: MediaMTXEndpoint
    let http: HTTPClient
    let roundTrips = RoundTripFloor()
    /// Unix ms now: the wall clock, or a capture's time when a recorded MediaMTX is replayed.
    public let clock: @Sendable () -> Int64

    public init(endpoint: MediaMTXEndpoint, http: HTTPClient = MediaMTXClient.http,
                clock: @escaping @Sendable () -> Int64 = WallClock.nowMs) {
        self.endpoint = endpoint
        self.http = http
        self.clock = clock
    }

    /// One HTTP client for the process, like `HTTPClient.shared`, but one that does not retry a
    /// failed connect: AsyncHTTPClient's default retries with backoff until the request's
    /// deadline, so a MediaMTX that refuses connections within a millisecond looked like one
    /// that answers too slowly, and every failed poll took the whole deadline.
    public static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(2)
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// The path list and the SRT connection list, read concurrently so their figures describe
    /// nearly the same instant, then the connection lists of the other protocols the paths'
    /// sources and readers use, concurrently.
    ///
    /// Only the path list can fail the poll. A list the server lacks (404) yields nothing; any
    /// other failure of a connection list (timeout, 500, 401, a body or item that does not
    /// decode) is reported in `PollReply.failedLists` and the rest of the poll is kept, so a
    /// broken secondary list costs its own figures, never the paths' history. Connection lists
    /// must be answered by `listsDeadline` (when given): a hung list then gives up before the
    /// caller abandons the whole poll.
    public func poll(listsDeadline: ContinuousClock.Instant? = nil) async throws(MediaMTXError) -> PollReply {
        let deadline = listsDeadline.map(Self.nioDeadline)
        async let srt = optionalList(WireSRTConn.self, ConnectionProtocol.srt.listPath, deadline: deadline)
        let (paths, ts, readAt) = try await list(WirePath.self, "/v3/paths/list")
        let wanted = Self.protocols(referencedBy: paths).subtracting([.srt])
        let results = await withTaskGroup(of: (ConnectionProtocol, ListResult).self) { group in
            for proto in wanted.sorted(by: { $0.rawValue < $1.rawValue }) {
                group.addTask {
                    (proto, await optionalList(WireConnection.self, proto.listPath, deadline: deadline))
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        var lists: [ConnectionList] = []
        var failed: [ConnectionListFailure] = []
        for (proto, result) in results {
            switch result {
            case let .success((items, readAt)): lists.append(ConnectionList(proto: proto, items: items, readAt: readAt))
            case let .failure(error): failed.append(ConnectionListFailure(proto: proto, error: error))
            }
        }
        var reply = PollReply(ts: ts, paths: paths, readAt: readAt, srtConns: [],
                              lists: lists.sorted { $0.proto.rawValue < $1.proto.rawValue })
        switch await srt {
        case let .success((items, readAt)):
            reply.srtConns = items
            reply.srtReadAt = readAt
        case let .failure(error):
            failed.append(ConnectionListFailure(proto: .srt, error: error))
        }
        reply.failedLists = failed.sorted { $0.proto.rawValue < $1.proto.rawValue }
        return reply
    }

    typealias ListResult = Result<([WireConnection], [Int64]), MediaMTXError>

    static func nioDeadline(_ instant: ContinuousClock.Instant) -> NIODeadline {
        .now() + .nanoseconds(max(0, nanoseconds(ContinuousClock.now.duration(to: instant))))
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    /// `/v3/info`, or `nil` on servers older than v1.13 that do not have it.
    public func info() async throws(MediaMTXError) -> WireInfo? {
        let url = endpoint.baseURL + "/v3/info"
        do {
            let (body, _) = try await get(url)
            return try Self.decode(WireInfo.self, body, url: url)
        } catch .notFound {
            return nil
        }
    }

    /// A connection list as a result: empty where the server version lacks it (404), the
    /// failure otherwise, so that the caller decides what a failed list costs.
    func optionalList(_ type: WireConnection.Type, _ path: String, deadline: NIODeadline?) async -> ListResult {
        do throws(MediaMTXError) {
            let reply = try await list(type, path, deadline: deadline)
            return .success((reply.items, reply.readAt))
        } catch .notFound {
            return .success(([], []))
        } catch {
            return .failure(error)
        }
    }

    /// The connection protocols of the paths' sources and readers.
    static func protocols(referencedBy paths: [WirePath]) -> Set<ConnectionProtocol> {
        var result = Set<ConnectionProtocol>()
        for path in paths {
            if let type = path.source?.type, let proto = ConnectionProtocol.of(type: type) { result.insert(proto) }
            for reader in path.readers ?? [] {
                if let type = reader.type, let proto = ConnectionProtocol.of(type: type) { result.insert(proto) }
            }
        }
        return result
    }

    /// Every item of a paged list, following `pageCount` as it is reported on each page.
    public func list<Item: Decodable & Sendable>(
        _ type: Item.Type, _ path: String, deadline: NIODeadline? = nil
    ) async throws(MediaMTXError) -> (items: [Item], firstPageAt: Int64, readAt: [Int64]) {
        var items: [Item] = []
        var readAt: [Int64] = []
        var firstPageAt: Int64 = 0
        var page = 0
        let maxPages = 100_000
        while true {
            let url = "\(endpoint.baseURL)\(path)?page=\(page)&itemsPerPage=\(endpoint.pageSize)"
            let (body, arrivedAt) = try await get(url, deadline: deadline)
            if page == 0 { firstPageAt = arrivedAt }
            let reply = try Self.decode(ListPage<Item>.self, body, url: url)
            let pageItems = reply.items ?? []
            items.append(contentsOf: pageItems)
            readAt.append(contentsOf: repeatElement(arrivedAt, count: pageItems.count))
            page += 1
            guard let pageCount = reply.pageCount, page < pageCount, !pageItems.isEmpty else { break }
            guard page < maxPages else { throw .tooManyPages(url: endpoint.baseURL + path, pages: page) }
        }
        return (items, firstPageAt, readAt)
    }

    /// One reply as a poll reads it: the one-pass reader for the wire types, `JSONDecoder` for any
    /// other type. Public so that `mtxmon-bench --decode` times exactly what a poll does.
    public static func decode<T: Decodable>(_ type: T.Type, _ body: ByteBuffer,
                                            url: String) throws(MediaMTXError) -> T {
        do throws(WireReader.Failure) {
            if let value = try WireReader.decode(type, body) { return value }
        } catch {
            throw .badJSON(url: url, detail: error.description)
        }
        do {
            return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let at = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw .badJSON(url: url, detail: "\(context.debugDescription) at '\(at)'")
        } catch let DecodingError.dataCorrupted(context) {
            throw .badJSON(url: url, detail: context.debugDescription)
        } catch {
            throw .badJSON(url: url, detail: String(describing: error))
        }
    }

    /// One GET, bounded by the endpoint's request timeout and, when given, by `deadline`.
    func get(_ url: String, deadline: NIODeadline? = nil) async throws(MediaMTXError) -> (ByteBuffer, Int64) {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: BuildInfo.userAgent)
        switch endpoint.credentials {
        case let .basic(user, password):
            request.headers.add(name: "Authorization", value: "Basic \(MediaMTXEndpoint.basicToken(user: user, password: password))")
        case let .bearer(token):
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        case nil:
            break
        }
        let timeout = TimeAmount.nanoseconds(Self.nanoseconds(endpoint.requestTimeout))
        let until = min(NIODeadline.now() + timeout, deadline ?? .distantFuture)
        let response: HTTPClientResponse
        let arrivedAt: Int64
        let body: ByteBuffer
        do {
            let sentAt = clock()
            response = try await http.execute(request, deadline: until)
            arrivedAt = roundTrips.readingTime(sentAt: sentAt, answeredAt: clock())
            body = try await response.body.collect(upTo: endpoint.maxBodyBytes)
        } catch is CancellationError {
            throw .timedOut(url: url)
        } catch is NIOTooManyBytesError {
            throw .tooLarge(url: url, limit: endpoint.maxBodyBytes)
        } catch {
            throw Self.classify(error, url: url)
        }
        switch response.status.code {
        case 200:
            return (body, arrivedAt)
        case 401, 403:
            throw .unauthorized(url: url)
        case 404:
            throw .notFound(url: url)
        default:
            throw .status(url: url, code: Int(response.status.code), body: Self.message(body))
        }
    }

    /// MediaMTX's own words from an error body (`{"status":"error","error":"…"}`), else the start
    /// of the body as text.
    static func message(_ body: ByteBuffer) -> String {
        struct ErrorBody: Decodable { var error: String? }
        if let decoded = try? JSONDecoder().decode(ErrorBody.self, from: Data(body.readableBytesView)),
           let text = decoded.error {
            return String(text.prefix(200))
        }
        return String(String(buffer: body).prefix(200)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Names the cause of a failed request. NIO reports a connect through its happy-eyeballs
    /// resolver as `NIOConnectionError`, whose parts say whether the name failed to resolve or
    /// each address refused; TLS errors come from NIOSSL, named here by type so that this module
    /// need not link it.
    static func classify(_ error: any Error, url: String) -> MediaMTXError {
        if let http = error as? HTTPClientError {
            if http == .deadlineExceeded || http == .readTimeout || http == .connectTimeout
                || http == .getConnectionFromPoolTimeout {
                return .timedOut(url: url)
            }
            if http == .tlsHandshakeTimeout { return .tls(url: url, reason: "the TLS handshake timed out") }
        }
        if let connect = error as? NIOConnectionError {
            let failures = connect.connectionErrors.map(\.error)
            if failures.isEmpty, connect.dnsAError != nil || connect.dnsAAAAError != nil {
                let reason = connect.dnsAError ?? connect.dnsAAAAError
                return .dns(url: url, reason: reason.map { String(describing: $0) } ?? "no address")
            }
            if !failures.isEmpty, failures.allSatisfy(isRefusal) { return .refused(url: url) }
            if let first = failures.first { return classify(first, url: url) }
            return .dns(url: url, reason: "the name has no address")
        }
        if isRefusal(error) { return .refused(url: url) }
        if error is SocketAddressError { return .dns(url: url, reason: String(describing: error)) }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return .timedOut(url: url) }
        let type = String(reflecting: Swift.type(of: error))
        if type.contains("NIOSSL") || type.contains("BoringSSL") {
            return .tls(url: url, reason: String(describing: error))
        }
        return .unreachable(url: url, reason: String(describing: error))
    }

    static func isRefusal(_ error: any Error) -> Bool {
        if let io = error as? IOError { return io.errnoCode == ECONNREFUSED }
        return false
    }
}

/// The network's share of a request's round trip, to stamp each reading at the time MediaMTX read
/// its counters. On a quick answer that is the midpoint of the round trip; on a slow one (a
/// MediaMTX just started, a new connection) the server answered near the end of it, not in the
/// middle: its counters proved it, read 0.6 s after a midpoint stamp. The smallest round trip of
/// the recent requests is the network floor; a round trip up to 100 ms past it is stamped at its
/// midpoint as before (scheduling jitter on either side), and what is longer than that is taken
/// as the server's delay, before it read its counters.
final class RoundTripFloor: Sendable {
    private let recent = Mutex<[Int64]>([])
    static let kept = 32

    func readingTime(sentAt: Int64, answeredAt: Int64) -> Int64 {
        let roundTrip = max(0, answeredAt - sentAt)
        let floor = recent.withLock { trips -> Int64 in
            trips.append(roundTrip)
            if trips.count > Self.kept { trips.removeFirst(trips.count - Self.kept) }
            return trips.min() ?? roundTrip
        }
        return answeredAt - (floor + min(roundTrip - floor, Self.jitterMs)) / 2
    }

    static let jitterMs: Int64 = 100
}
