import MTXMonCore

/// Which MediaMTX API generation the simulator speaks.
public enum APIGeneration: String, Sendable, CaseIterable {
    /// Up to v1.16: `bytesReceived`/`bytesSent`/`ready`, no `/v3/info`, no HLS session list.
    case v1_12 = "1.12"
    /// From v1.17: `inboundBytes`/`outboundBytes`/`online` beside the deprecated names.
    case v1_20 = "1.20"
    /// v1.21's list names only (`/v3/srt/conns/list`, …) and no deprecated field: what every
    /// server answers once the old names' aliases are gone.
    case v1_21 = "1.21"

    public var version: String {
        switch self {
        case .v1_12: "v1.12.0"
        case .v1_20: "v1.20.1"
        case .v1_21: "v1.21.1"
        }
    }

    /// v1.17 and later: the current field names, `/v3/info`, `status` in error bodies.
    var isModern: Bool { self != .v1_12 }

    /// Whether the deprecated fields are still sent beside the current ones.
    var sendsDeprecated: Bool { self != .v1_21 }
}

/// What the simulated server carries when it starts.
public struct SimulatorOptions: Sendable {
    public var paths: Int
    /// Each path's inbound rate, bit/s.
    public var bitrate: Double
    public var readers: Int
    /// Every K-th path (0, K, 2K, …) is published over SRT; 0 means none.
    public var srtEvery: Int
    /// Of the paths not published over SRT, every K-th is published over RTSPS (TLS); 0 means none.
    public var rtspsEvery: Int
    /// Of the paths published over neither SRT nor RTSPS, every K-th is published over RTMPS.
    public var rtmpsEvery: Int
    /// RTMP connections that have not yet said which path they publish: `state: "idle"` with
    /// `path: ""` and bytes already counting, as a real publisher shows for its first seconds.
    public var idleRTMP: Int
    public var generation: APIGeneration
    public var seed: UInt64
    public var namePrefix: String
    /// MediaMTX's own readers (type `hidden`: a recorder, a forwarder) on every path.
    public var hiddenReaders: Int = 0

    public init(paths: Int = 3, bitrate: Double = 2_000_000, readers: Int = 1, srtEvery: Int = 0,
                rtspsEvery: Int = 0, rtmpsEvery: Int = 0, idleRTMP: Int = 0,
                generation: APIGeneration = .v1_20, seed: UInt64 = 1, namePrefix: String = "sim/") {
        self.paths = paths
        self.bitrate = bitrate
        self.readers = readers
        self.srtEvery = srtEvery
        self.rtspsEvery = rtspsEvery
        self.rtmpsEvery = rtmpsEvery
        self.idleRTMP = idleRTMP
        self.generation = generation
        self.seed = seed
        self.namePrefix = namePrefix
    }
}

/// A switch a test flips to make the simulated API misbehave.
public enum SimulatorFault: Sendable, Equatable {
    case none
    /// Every API request answers HTTP 500 with MediaMTX's error body.
    case serverError
    /// Every API request answers 200 with a body that is not JSON.
    case garbage
    /// Every API request answers after this delay.
    case slow(Duration)
    /// Every API request answers 401 with MediaMTX's error body, as for a user without the
    /// permission the list needs.
    case unauthorized
    /// Lists answer a well-formed page whose one item has a field of the wrong type.
    case badItem
    /// Requests answer 404, as for an endpoint this server version lacks.
    case notFound
}

/// The protocols MediaMTX lists connections for.
public enum SimProtocol: String, Sendable, CaseIterable {
    case srt, rtsp, rtsps, rtmp, rtmps, webrtc, hls, moq

    /// MediaMTX's source type name for a publisher of this protocol.
    var sourceType: String {
        switch self {
        case .srt: "srtConn"
        case .rtsp: "rtspSession"
        case .rtsps: "rtspsSession"
        case .rtmp: "rtmpConn"
        case .rtmps: "rtmpsConn"
        case .webrtc: "webRTCSession"
        case .hls: "hlsSource"
        case .moq: "moqSession"
        }
    }

    /// The name of this protocol's connection list, `/v3/<name>/list`.
    public var listName: String {
        switch self {
        case .srt: "srtconns"
        case .rtsp: "rtspsessions"
        case .rtsps: "rtspssessions"
        case .rtmp: "rtmpconns"
        case .rtmps: "rtmpsconns"
        case .webrtc: "webrtcsessions"
        case .hls: "hlssessions"
        case .moq: "moqsessions"
        }
    }

    /// The list's path under v1.21's names: the collector's own table, which
    /// `scripts/check-simulator-spec` holds to the names v1.21 serves.
    public var renamedListPath: String { ConnectionProtocol(rawValue: rawValue)!.renamedListPath }

    /// The list's path as `generation` serves it.
    public func listPath(_ generation: APIGeneration) -> String {
        generation == .v1_21 ? renamedListPath : "/v3/\(listName)/list"
    }

    /// MediaMTX's reader type name for a reader of this protocol in `generation`.
    func readerType(_ generation: APIGeneration) -> String {
        switch self {
        case .hls: generation == .v1_12 ? "hlsMuxer" : "hlsSession"
        default: sourceType
        }
    }
}

/// One simulated publisher or reader connection.
struct SimConn: Sendable {
    var id: String
    var proto: SimProtocol
    var publishing: Bool
    var remoteAddr: String
    var createdMs: Int64
    /// Counters count from here; moved forward by a reset.
    var counterStartMs: Int64
    var rttMs: Double
    /// Connected without a path yet (MediaMTX's `idle`, `path: ""`).
    var idle = false
    /// A publisher's scripted RTP loss, % of its packets, from `lossSinceMs` on; `lossBase` the
    /// packets lost before, so the counter only grows.
    var lossPercent = 0.0
    var lossBase: Int64 = 0
    var lossSinceMs: Int64 = 0
    /// A reader too slow for its stream since then: its discards (and reported loss) grow.
    var slowSinceMs: Int64?

    /// RTP packets scripted lost by `nowMs`, on top of the rate's own.
    func scriptedLoss(packetsAt: (Int64) -> Int64, nowMs: Int64) -> Int64 {
        guard lossPercent > 0 else { return lossBase }
        let packets = max(0, packetsAt(nowMs) - packetsAt(lossSinceMs))
        return lossBase + Int64(Double(packets) * lossPercent / 100)
    }

    /// Frames discarded for a slow reader by `nowMs`: 5 a second since it became slow.
    func discards(nowMs: Int64) -> Int64 {
        slowSinceMs.map { max(0, nowMs - $0) * 5 / 1_000 } ?? 0
    }
}

/// One simulated path with its publisher and readers.
struct SimPath: Sendable {
    var name: String
    var bitrate: Double
    var publisher: SimConn
    var readers: [SimConn]
    /// False while the publisher is away: a dynamic path then vanishes from the lists.
    var present = true
    /// MediaMTX's own readers (`hidden`), listed among the readers, with no connection.
    var hiddenReaders = 0
    /// Where MediaMTX re-publishes the stream (`forward` in its configuration).
    var forwards: [SimForward] = []

    /// Inbound bytes at `nowMs`: the rate times the time since the counter (re)started.
    func inboundBytes(at nowMs: Int64) -> Int64 {
        Int64(bitrate / 8 * Double(max(0, nowMs - publisher.counterStartMs)) / 1_000)
    }

    func outboundBytes(at nowMs: Int64) -> Int64 {
        readers.reduce(0) { $0 + Int64(bitrate / 8 * Double(max(0, nowMs - $1.counterStartMs)) / 1_000) }
    }
}

/// SplitMix64: a tiny seeded generator, so `--seed` gives the same ids and figures every run.
struct SeededRandom: RandomNumberGenerator, Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func uuid() -> String {
        let hex = Array("0123456789abcdef")
        var chars: [Character] = []
        for index in 0..<32 {
            var nibble = Int(next() & 0xF)
            if index == 12 { nibble = 4 }
            if index == 16 { nibble = 8 | (nibble & 3) }
            chars.append(hex[nibble])
            if [7, 11, 15, 19].contains(index) { chars.append("-") }
        }
        return String(chars)
    }
}

/// A forward destination of a simulated path; `dest` holds credentials as real ones do.
struct SimForward: Sendable {
    var id: String
    var type: String
    var dest: String
    var state: String
    var error: String
    var createdMs: Int64
    /// Bytes sent before the current stretch of forwarding, and when it began.
    var sentBefore: Int64 = 0
    var forwardingSinceMs: Int64?

    func outboundBytes(at nowMs: Int64, bitrate: Double) -> Int64 {
        sentBefore + (forwardingSinceMs.map { Int64(bitrate / 8 * Double(max(0, nowMs - $0)) / 1_000) } ?? 0)
    }
}
