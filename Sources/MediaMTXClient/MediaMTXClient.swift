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
    /// Forward destinations read this poll, by path, with when each path's list was answered.
    public var forwards: [String: (items: [WireForwardDest], readAt: Int64)] = [:]
    /// Where the turn of paths asked for destinations goes next; `nil` when none were asked.
    public var forwardCursor: Int?
    /// The HLS muxers, when a path has HLS readers; `nil` when not asked or the list failed.
    public var hlsMuxers: (items: [WireHLSMuxer], readAt: Int64)?
    /// Set on the poll at which the server turned out to answer the other generation's list
    /// names (see `ListNaming`), for the collector to log once.
    public var namingChange: String?

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

    public var description: String { text(error.description) }

    /// The description for a server of a fleet, whose advice names its `MTXMON_SERVERS` entry.
    public func description(server: String) -> String { text(error.description(server: server)) }

    private func text(_ cause: String) -> String {
        "the \(proto.rawValue) connection list failed, so this poll has no \(proto.rawValue) connections "
            + "(its paths are kept): \(cause)"
    }
}

/// Reads MediaMTX's control API: every page of every list a poll needs.
public struct MediaMTXClient: Sendable {
    public let endpoint: MediaMTXEndpoint
    let http: HTTPClient
    let roundTrips = RoundTripFloor()
    /// Which generation of list names this server answers, learnt from its version and its 404s.
    public let naming = ListNaming()
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
        async let srt = optionalList(WireSRTConn.self, .srt, deadline: deadline)
        let (paths, ts, readAt) = try await list(WirePath.self, "/v3/paths/list")
        let wanted = Self.protocols(referencedBy: paths).subtracting([.srt])
        async let muxers = Self.readByHLS(paths) ? hlsMuxers(deadline: deadline) : nil
        let results = await withTaskGroup(of: (ConnectionProtocol, ListResult).self) { group in
            for proto in wanted.sorted(by: { $0.rawValue < $1.rawValue }) {
                group.addTask {
                    (proto, await optionalList(WireConnection.self, proto, deadline: deadline))
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
        reply.hlsMuxers = await muxers
        reply.namingChange = naming.takeSwitch()
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
            let answer = try Self.decode(WireInfo.self, body, url: url)
            naming.learn(version: answer.version)
            return answer
        } catch .notFound {
            return nil
        }
    }

    /// A connection list as a result: empty where the server lacks it under either generation's
    /// name (404 for both), the failure otherwise, so that the caller decides what a failed list
    /// costs. The name the server is believed to answer is asked first; on a 404 the other once,
    /// and when that answers it becomes the one believed.
    func optionalList(_ type: WireConnection.Type, _ proto: ConnectionProtocol,
                      deadline: NIODeadline?) async -> ListResult {
        switch await eitherName(type, proto.listPath(renamed:), deadline: deadline) {
        case let .success(reply): .success((reply?.items ?? [], reply?.readAt ?? []))
        case let .failure(error): .failure(error)
        }
    }

    /// A list under the name the server is believed to answer, then, on a 404, the other
    /// generation's name once (which is believed from then on when it answers); `nil` when
    /// neither exists.
    func eitherName<Item: Decodable & Sendable>(
        _ type: Item.Type, _ path: (Bool) -> String, deadline: NIODeadline?
    ) async -> Result<(items: [Item], firstPageAt: Int64, readAt: [Int64])?, MediaMTXError> {
        let renamed = naming.renamed ?? false
        for attempt in [renamed, !renamed] {
            do throws(MediaMTXError) {
                let reply = try await list(type, path(attempt), deadline: deadline)
                if attempt != renamed { naming.answered(renamed: attempt) }
                return .success(reply)
            } catch .notFound {
                continue
            } catch {
                return .failure(error)
            }
        }
        return .success(nil)
    }

    /// Whether a path is read over HLS (a session, or v1.12's muxer as its reader type).
    static func readByHLS(_ paths: [WirePath]) -> Bool {
        paths.contains { path in (path.readers ?? []).contains { $0.type == "hlsSession" || $0.type == "hlsMuxer" } }
    }

    /// The HLS muxers under the name the server answers; `nil` when it has none (404 under both
    /// names) or the list fails: a muxer's figures are extras, never a reason to fail a poll.
    func hlsMuxers(deadline: NIODeadline?) async -> (items: [WireHLSMuxer], readAt: Int64)? {
        let answer = await eitherName(WireHLSMuxer.self, { $0 ? "/v3/hls/muxers/list" : "/v3/hlsmuxers/list" },
                                      deadline: deadline)
        guard case let .success(reply?) = answer else { return nil }
        return (reply.items, reply.firstPageAt)
    }

    /// The forward destinations of each of `paths` (v1.20+: one request per path), read
    /// concurrently. A path whose list fails (it vanished: 404; or any error) is left out: its
    /// destinations stay as last read. Only asked where the server's version is known to have
    /// them (`ListNaming.forwardsListed`).
    public func forwardDests(paths: [String], deadline: ContinuousClock.Instant? = nil) async
        -> [String: (items: [WireForwardDest], readAt: Int64)] {
        guard !paths.isEmpty else { return [:] }
        let nio = deadline.map(Self.nioDeadline)
        let base = naming.renamed == true ? "/v3/paths/forward-dests/list" : "/v3/paths/forward/list"
        return await withTaskGroup(of: (String, [WireForwardDest], Int64)?.self) { group in
            for path in paths {
                group.addTask {
                    let query = "?path=" + Self.queryValue(path)
                    do throws(MediaMTXError) {
                        let reply = try await list(WireForwardDest.self, base + query, deadline: nio)
                        return (path, reply.items, reply.firstPageAt)
                    } catch {
                        return nil
                    }
                }
            }
            var result: [String: (items: [WireForwardDest], readAt: Int64)] = [:]
            for await answer in group { if let (path, items, at) = answer { result[path] = (items, at) } }
            return result
        }
    }

    /// A path name as a query value: everything but unreserved characters and `/` escaped.
    static func queryValue(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            }
        }
        return out
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
            let url = "\(endpoint.baseURL)\(path)\(path.contains("?") ? "&" : "?")page=\(page)&itemsPerPage=\(endpoint.pageSize)"
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
    ///
    /// A pooled keep-alive connection the server closed while it sat idle fails the request
    /// sent on it ("I/O on closed channel") although the server is fine; the request is sent
    /// again while time is left. Each such failure takes its connection out of the pool, so
    /// the pool's idle connections (all of them stale when the server closed them together)
    /// are used up within `closedRetries`, and then a new connection answers. Idempotent GETs.
    func get(_ url: String, deadline: NIODeadline? = nil) async throws(MediaMTXError) -> (ByteBuffer, Int64) {
        var tries = 0
        while true {
            do {
                return try await getOnce(url, deadline: deadline)
            } catch let .closedConnection(url, reason) {
                tries += 1
                guard tries <= Self.closedRetries else { throw .closedConnection(url: url, reason: reason) }
                guard NIODeadline.now() < (deadline ?? .distantFuture) else { throw .timedOut(url: url) }
            }
        }
    }

    /// One more than the idle connections AsyncHTTPClient keeps per host by default (8).
    static let closedRetries = 9

    func getOnce(_ url: String, deadline: NIODeadline?) async throws(MediaMTXError) -> (ByteBuffer, Int64) {
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
        if isClosedConnection(error) {
            return .closedConnection(url: url, reason: String(describing: error))
        }
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

    /// The server closed (or reset) a connection before answering on it: what a keep-alive
    /// connection closed while idle in the pool shows when it is used.
    static func isClosedConnection(_ error: any Error) -> Bool {
        if let http = error as? HTTPClientError, http == .remoteConnectionClosed { return true }
        if let channel = error as? ChannelError {
            switch channel {
            case .ioOnClosedChannel, .eof, .outputClosed, .alreadyClosed: return true
            default: return false
            }
        }
        if let io = error as? IOError { return io.errnoCode == ECONNRESET || io.errnoCode == EPIPE }
        return false
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

/// Which generation of list names a server answers: v1.21 renamed every connection list
/// (`/v3/srtconns/list` became `/v3/srt/conns/list`) and answers the old names only as
/// deprecated aliases, which will go; older servers know only the old names. Learnt from
/// `/v3/info`'s version and corrected by a 404 that the other name answers, per server.
public final class ListNaming: Sendable {
    private let state = Mutex<(renamed: Bool?, switched: String?)>((nil, nil))

    public init() {}

    /// `true` for v1.21's names, `false` for the older ones, `nil` before anything is known
    /// (the older names are asked first then: every server up to v1.21.1 answers them).
    public var renamed: Bool? { state.withLock { $0.renamed } }

    func learn(version: String?) {
        guard let version, let renamed = Self.renamesLists(version: version) else { return }
        state.withLock { $0.renamed = renamed }
    }

    /// The other generation's name answered where the believed one was a 404: it is believed
    /// from now on, and the switch is told once (`takeSwitch`).
    func answered(renamed: Bool) {
        state.withLock { s in
            guard s.renamed != renamed else { return }
            s.renamed = renamed
            s.switched = renamed
                ? "this MediaMTX answers v1.21's list names (/v3/srt/conns/list, …): they are used from now on"
                : "this MediaMTX answers only the list names before v1.21 (/v3/srtconns/list, …): they are used from now on"
        }
    }

    /// The switch made since the last call, if any.
    func takeSwitch() -> String? {
        state.withLock { s in
            defer { s.switched = nil }
            return s.switched
        }
    }

    /// Whether `version` lists forward destinations (v1.20 and later); `nil` when it is not a version.
    public static func forwardsListed(version: String) -> Bool? {
        guard let (major, minor) = parse(version) else { return nil }
        return major > 1 || (major == 1 && minor >= 20)
    }

    static func parse(_ version: String) -> (Int, Int)? {
        var text = Substring(version)
        if text.hasPrefix("v") { text = text.dropFirst() }
        let parts = text.split(separator: ".", maxSplits: 2).map { $0.prefix { $0.isNumber } }
        guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        return (major, minor)
    }


    /// Whether `version` (`v1.21.1`, `1.20.0`, `v1.22.0-rc1`) is v1.21 or later; `nil` when it is
    /// not a version (a development build says so in words).
    public static func renamesLists(version: String) -> Bool? {
        guard let (major, minor) = parse(version) else { return nil }
        return major > 1 || (major == 1 && minor >= 21)
    }
}
