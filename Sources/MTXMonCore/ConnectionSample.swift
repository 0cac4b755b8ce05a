/// The protocols whose connections MediaMTX lists, each with its list and the type names paths
/// use for their source and readers.
public enum ConnectionProtocol: String, Codable, Sendable, CaseIterable {
    case srt, rtsp, rtsps, rtmp, rtmps, webrtc, hls, moq

    /// MediaMTX's list of this protocol's connections, up to v1.20 (v1.21 still answers these
    /// names, as deprecated aliases).
    public var listPath: String {
        switch self {
        case .srt: "/v3/srtconns/list"
        case .rtsp: "/v3/rtspsessions/list"
        case .rtsps: "/v3/rtspssessions/list"
        case .rtmp: "/v3/rtmpconns/list"
        case .rtmps: "/v3/rtmpsconns/list"
        case .webrtc: "/v3/webrtcsessions/list"
        case .hls: "/v3/hlssessions/list"
        case .moq: "/v3/moqsessions/list"
        }
    }

    /// The same list under v1.21's names, which are the only ones once the aliases go.
    public var renamedListPath: String {
        switch self {
        case .srt: "/v3/srt/conns/list"
        case .rtsp: "/v3/rtsp/sessions/list"
        case .rtsps: "/v3/rtsps/sessions/list"
        case .rtmp: "/v3/rtmp/conns/list"
        case .rtmps: "/v3/rtmps/conns/list"
        case .webrtc: "/v3/webrtc/sessions/list"
        case .hls: "/v3/hls/sessions/list"
        case .moq: "/v3/moq/sessions/list"
        }
    }

    /// The list's path in one generation of names.
    public func listPath(renamed: Bool) -> String { renamed ? renamedListPath : listPath }

    /// The protocol of a path's source or reader type (`srtConn`, `rtspSession`, …); `nil` for
    /// types that are not connections (`hlsMuxer`, `rpiCameraSource`, MediaMTX's own `hidden`
    /// readers, …) and for whatever a newer MediaMTX adds, so that an unknown type costs a
    /// request nowhere and breaks nothing.
    ///
    /// v1.20 may name an RTSP reader by its connection (`rtspConn`, `rtspsConn`); its media
    /// figures are on the session list all the same (a connection counts only its control
    /// channel), so both map to the session list.
    public static func of(type: String) -> ConnectionProtocol? {
        switch type {
        case "srtConn": .srt
        case "rtspSession", "rtspConn": .rtsp
        case "rtspsSession", "rtspsConn": .rtsps
        case "rtmpConn": .rtmp
        case "rtmpsConn": .rtmps
        case "webRTCSession": .webrtc
        case "hlsSession": .hls
        case "moqSession": .moq
        default: nil
        }
    }
}

/// Whether a connection brings a path's stream in or takes it out.
public enum ConnectionRole: String, Codable, Sendable {
    case publisher, reader
    /// Connected but neither yet (MediaMTX's `idle`).
    case idle
}

/// Counters of one connection as MediaMTX reports them, cumulative for the connection; or, in
/// `ConnectionSample.deltas`, their increase since the previous poll. Absent where the protocol
/// has no such figure.
///
/// Held as nineteen integers and a bit per counter saying whether it is present: half the bytes
/// of nineteen optionals, and thousands of these are made, compared and copied every poll.
public struct ConnectionCounters: Sendable, Equatable, Codable {
    /// How many counters there are; `self[i]` reads the `i`th in the order of `all`.
    public static let count = 19
    // Nineteen plain fields rather than an `InlineArray`: reading one element of that copied
    // the whole array first, and counters are read millions of times a seal.
    @usableFromInline var s0: Int64 = 0, s1: Int64 = 0, s2: Int64 = 0, s3: Int64 = 0, s4: Int64 = 0
    @usableFromInline var s5: Int64 = 0, s6: Int64 = 0, s7: Int64 = 0, s8: Int64 = 0, s9: Int64 = 0
    @usableFromInline var s10: Int64 = 0, s11: Int64 = 0, s12: Int64 = 0, s13: Int64 = 0, s14: Int64 = 0
    @usableFromInline var s15: Int64 = 0, s16: Int64 = 0, s17: Int64 = 0, s18: Int64 = 0
    @usableFromInline var present: UInt32 = 0

    @inlinable public init() {}

    /// The `i`th slot, present or not (an absent one is kept 0).
    @inlinable func slot(_ i: Int) -> Int64 {
        switch i {
        case 0: s0
        case 1: s1
        case 2: s2
        case 3: s3
        case 4: s4
        case 5: s5
        case 6: s6
        case 7: s7
        case 8: s8
        case 9: s9
        case 10: s10
        case 11: s11
        case 12: s12
        case 13: s13
        case 14: s14
        case 15: s15
        case 16: s16
        case 17: s17
        default: s18
        }
    }

    @inlinable mutating func setSlot(_ i: Int, _ value: Int64) {
        switch i {
        case 0: s0 = value
        case 1: s1 = value
        case 2: s2 = value
        case 3: s3 = value
        case 4: s4 = value
        case 5: s5 = value
        case 6: s6 = value
        case 7: s7 = value
        case 8: s8 = value
        case 9: s9 = value
        case 10: s10 = value
        case 11: s11 = value
        case 12: s12 = value
        case 13: s13 = value
        case 14: s14 = value
        case 15: s15 = value
        case 16: s16 = value
        case 17: s17 = value
        default: s18 = value
        }
    }

    /// The `i`th counter in the order of `all`; an absent one's slot is kept 0, so equal
    /// counters are equal slot for slot.
    @inlinable public subscript(_ i: Int) -> Int64? {
        get { present & (1 << UInt32(i)) == 0 ? nil : slot(i) }
        set {
            if let newValue {
                setSlot(i, newValue)
                present |= 1 << UInt32(i)
            } else {
                setSlot(i, 0)
                present &= ~(1 << UInt32(i))
            }
        }
    }

    /// No counter present.
    public var isEmpty: Bool { present == 0 }

    // SRT, receiving side (publishers).
    @inlinable public var packetsReceived: Int64? { get { self[0] } set { self[0] = newValue } }
    @inlinable public var packetsReceivedLoss: Int64? { get { self[1] } set { self[1] = newValue } }
    @inlinable public var packetsReceivedRetrans: Int64? { get { self[2] } set { self[2] = newValue } }
    @inlinable public var packetsReceivedDrop: Int64? { get { self[3] } set { self[3] = newValue } }
    @inlinable public var packetsReceivedBelated: Int64? { get { self[4] } set { self[4] = newValue } }
    @inlinable public var packetsReceivedUndecrypt: Int64? { get { self[5] } set { self[5] = newValue } }
    // SRT, sending side (readers).
    @inlinable public var packetsSent: Int64? { get { self[6] } set { self[6] = newValue } }
    @inlinable public var packetsSendLoss: Int64? { get { self[7] } set { self[7] = newValue } }
    @inlinable public var packetsRetrans: Int64? { get { self[8] } set { self[8] = newValue } }
    @inlinable public var packetsSendDrop: Int64? { get { self[9] } set { self[9] = newValue } }
    // RTP over RTSP and WebRTC.
    @inlinable public var rtpPacketsReceived: Int64? { get { self[10] } set { self[10] = newValue } }
    @inlinable public var rtpPacketsLost: Int64? { get { self[11] } set { self[11] = newValue } }
    @inlinable public var rtpPacketsInError: Int64? { get { self[12] } set { self[12] = newValue } }
    @inlinable public var rtcpPacketsReceived: Int64? { get { self[13] } set { self[13] = newValue } }
    @inlinable public var rtcpPacketsInError: Int64? { get { self[14] } set { self[14] = newValue } }
    @inlinable public var rtpPacketsSent: Int64? { get { self[15] } set { self[15] = newValue } }
    @inlinable public var rtpPacketsReportedLost: Int64? { get { self[16] } set { self[16] = newValue } }
    @inlinable public var rtpPacketsDiscarded: Int64? { get { self[17] } set { self[17] = newValue } }
    /// Frames a reader could not be sent in time (RTMP, WebRTC, SRT readers).
    @inlinable public var framesDiscarded: Int64? { get { self[18] } set { self[18] = newValue } }

    public static func == (a: ConnectionCounters, b: ConnectionCounters) -> Bool {
        guard a.present == b.present else { return false }
        for i in 0..<count where a.slot(i) != b.slot(i) { return false }
        return true
    }

    /// The names the synthesised form used, so stored and sent JSON keeps its keys.
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case packetsReceived
        case packetsReceivedLoss
        case packetsReceivedRetrans
        case packetsReceivedDrop
        case packetsReceivedBelated
        case packetsReceivedUndecrypt
        case packetsSent
        case packetsSendLoss
        case packetsRetrans
        case packetsSendDrop
        case rtpPacketsReceived
        case rtpPacketsLost
        case rtpPacketsInError
        case rtcpPacketsReceived
        case rtcpPacketsInError
        case rtpPacketsSent
        case rtpPacketsReportedLost
        case rtpPacketsDiscarded
        case framesDiscarded
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for (i, key) in CodingKeys.allCases.enumerated() { self[i] = try c.decodeIfPresent(Int64.self, forKey: key) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        for (i, key) in CodingKeys.allCases.enumerated() { try c.encodeIfPresent(self[i], forKey: key) }
    }

    // Key paths are immutable values; the array is never written after it is made.
    nonisolated(unsafe) public static let all: [WritableKeyPath<ConnectionCounters, Int64?>] = [
        \.packetsReceived, \.packetsReceivedLoss, \.packetsReceivedRetrans, \.packetsReceivedDrop,
        \.packetsReceivedBelated, \.packetsReceivedUndecrypt, \.packetsSent, \.packetsSendLoss, \.packetsRetrans,
        \.packetsSendDrop, \.rtpPacketsReceived, \.rtpPacketsLost, \.rtpPacketsInError, \.rtcpPacketsReceived,
        \.rtcpPacketsInError, \.rtpPacketsSent, \.rtpPacketsReportedLost, \.rtpPacketsDiscarded, \.framesDiscarded,
    ]

    /// The counters in the order of `all`.
    public var values: [Int64?] { (0..<Self.count).map { self[$0] } }

    /// Counters from `values` in the order of `all`; missing ones are absent, extra ones ignored.
    public init(values v: [Int64?]) {
        for i in 0..<min(v.count, Self.count) { self[i] = v[i] }
    }

    /// The increase from `previous` to `self`, counter by counter: the difference, or the new
    /// value where a counter went down (the connection's own counters restarted).
    public func delta(since previous: ConnectionCounters) -> ConnectionCounters {
        var result = ConnectionCounters()
        let both = present & previous.present
        guard both != 0 else { return result }
        for i in 0..<Self.count where both & (1 << UInt32(i)) != 0 {
            result[i] = CounterRule.increase(previous.slot(i), slot(i))
        }
        return result
    }

    /// The counters of a connection created since the previous poll: all of each is its increase.
    public var sinceCreation: ConnectionCounters {
        var result = self
        for i in 0..<Self.count where present & (1 << UInt32(i)) != 0 { result.setSlot(i, max(0, slot(i))) }
        return result
    }

    /// Packets the link lost (recovered by retransmission or not), for the connection's role.
    public func lost(_ role: ConnectionRole) -> Int64? {
        role == .reader ? (packetsSendLoss ?? rtpPacketsReportedLost) : (packetsReceivedLoss ?? rtpPacketsLost)
    }

    /// Packets or frames given up: too late to play, or never sent.
    public func dropped(_ role: ConnectionRole) -> Int64? {
        role == .reader ? (packetsSendDrop ?? rtpPacketsDiscarded ?? framesDiscarded) : packetsReceivedDrop
    }

    public func retransmitted(_ role: ConnectionRole) -> Int64? {
        role == .reader ? packetsRetrans : packetsReceivedRetrans
    }
}

/// One connection as seen by one poll: a publisher or a reader of one path.
///
/// MediaMTX's id identifies it: a new id is a new connection, whatever its address. Bitrates
/// and deltas are worked out from the previous poll of the same id only.
public struct ConnectionSample: Codable, Sendable, Equatable {
    /// The MediaMTX server the connection is on; `nil` in snapshots from before fleets.
    public var server: String?
    public var id: String
    public var proto: ConnectionProtocol
    public var role: ConnectionRole
    public var path: String?
    public var remoteAddr: String?
    /// MediaMTX's state: `publish`, `read`, `idle`.
    public var state: String?
    public var userAgent: String?
    public var inboundBytes: Int64
    public var outboundBytes: Int64
    public var bitrateIn: Double?
    public var bitrateOut: Double?
    /// A counter of this connection went down since the previous poll.
    public var reset: Bool
    public var counters: ConnectionCounters
    /// Increases since the previous poll of this id; `nil` on its first.
    public var deltas: ConnectionCounters?
    // Gauges.
    public var rttMs: Double?
    public var recvRateMbps: Double?
    public var sendRateMbps: Double?
    public var linkCapacityMbps: Double?
    /// SRT's TSBPD latency on this connection's side: the receiver's for a publisher, the
    /// sender's for a reader.
    public var latencyMs: Int64?
    /// RTP interarrival jitter as MediaMTX reports it: a gauge, never summed.
    public var jitter: Double?
    /// HLS: the reader is a CDN.
    public var isCDN: Bool?
    /// MediaMTX's `created`, unix ms by MediaMTX's clock.
    public var createdMs: Int64?

    enum CodingKeys: String, CodingKey {
        case server, id, proto = "protocol", role, path, remoteAddr, state, userAgent, inboundBytes, outboundBytes, bitrateIn,
             bitrateOut, reset, counters, deltas, rttMs, recvRateMbps, sendRateMbps, linkCapacityMbps, latencyMs,
             jitter, isCDN, createdMs
    }

    public init(id: String, proto: ConnectionProtocol, role: ConnectionRole, path: String? = nil,
                remoteAddr: String? = nil, state: String? = nil, userAgent: String? = nil, inboundBytes: Int64 = 0,
                outboundBytes: Int64 = 0, counters: ConnectionCounters = ConnectionCounters()) {
        self.id = id
        self.proto = proto
        self.role = role
        self.path = path
        self.remoteAddr = remoteAddr
        self.state = state
        self.userAgent = userAgent
        self.inboundBytes = inboundBytes
        self.outboundBytes = outboundBytes
        self.reset = false
        self.counters = counters
    }
}

/// Derives each connection's bitrates and counter deltas from its previous poll.
///
/// A connection's counters start at 0 when MediaMTX creates it, so at its first poll they are
/// increases, provided it was created after mtxmon's previous poll: its list was read whole
/// then and did not have it, or MediaMTX's `created` says so. Losses an SRT publisher suffered
/// before its first poll are counted that way. A connection already running when mtxmon first
/// looks (at start, or a list not read before) has no deltas at its first poll: what it did
/// before is not known. The first interval after a change of state or role (`idle` → `publish`)
/// has no bitrate: MediaMTX's idle SRT connection reports 0 bytes while data arrives, so the
/// next reading holds bytes from before the interval.
public struct ConnectionTracker: Sendable {
    struct Reading: Sendable {
        var ts: Int64
        var inbound: Int64
        var outbound: Int64
        var counters: ConnectionCounters
        var state: String?
        var role: ConnectionRole
    }

    private var last: [String: Reading] = [:]
    private var previousPollTs: Int64?
    private var previousListsRead: Set<ConnectionProtocol> = []
    public let maxGapMs: Int64

    public init(maxGapMs: Int64) {
        self.maxGapMs = maxGapMs
    }

    /// `readAt` gives, by connection id, when its counters were read (its page's time);
    /// `listsRead` the protocols whose lists this poll read whole.
    public mutating func derive(_ samples: consuming [ConnectionSample], at ts: Int64, readAt: [String: Int64] = [:],
                                listsRead: Set<ConnectionProtocol>? = nil) -> [ConnectionSample] {
        var next: [String: Reading] = [:]
        next.reserveCapacity(samples.count)
        let previousPoll = previousPollTs
        // Changed where they lie: a connection sample is some five hundred bytes, thousands a poll.
        problems = []
        for i in samples.indices {
            let id = samples[i].id
            if let problem = Self.sanitise(&samples[i], previous: last[id]) {
                problems.append("connection '\(id)': \(problem)")
                // Not a reading: the next poll is judged against the last plausible one.
                if let previous = last[id] { next[id] = previous }
                continue
            }
            let reading = Reading(ts: readAt[id] ?? ts, inbound: samples[i].inboundBytes,
                                  outbound: samples[i].outboundBytes, counters: samples[i].counters,
                                  state: samples[i].state, role: samples[i].role)
            next[id] = reading
            guard let previous = last[id] else {
                if let previousPoll, isNew(samples[i], previousPoll: previousPoll) {
                    samples[i].deltas = samples[i].counters.sinceCreation
                }
                continue
            }
            samples[i].deltas = reading.counters.delta(since: previous.counters)
            let elapsed = reading.ts.subtractingSaturating(previous.ts)
            let reset = CounterRule.restarted(previousSource: nil, source: nil,
                                              previous: (previous.inbound, previous.outbound),
                                              current: (reading.inbound, reading.outbound))
                || CounterRule.jumpedBeyondReason(previous: previous.inbound, current: reading.inbound, elapsedMs: elapsed)
                || CounterRule.jumpedBeyondReason(previous: previous.outbound, current: reading.outbound,
                                                  elapsedMs: elapsed)
            samples[i].reset = reset
            let changed = previous.state != reading.state || previous.role != reading.role
            guard elapsed <= maxGapMs, !reset, !changed else { continue }
            samples[i].bitrateIn = CounterRule.bitrate(previous: previous.inbound, current: reading.inbound,
                                                       elapsedMs: elapsed)
            samples[i].bitrateOut = CounterRule.bitrate(previous: previous.outbound, current: reading.outbound,
                                                        elapsedMs: elapsed)
        }
        last = next
        previousPollTs = ts
        previousListsRead = listsRead ?? Set(samples.lazy.map { $0.proto })
        return samples
    }

    /// Figures of the last `derive` that could not be taken as readings, named for the poll's record.
    public private(set) var problems: [String] = []

    /// Drops counters no MediaMTX reports (below 0, past `CounterRule.maximum`). Implausible byte
    /// counters make the sample no reading at all: it keeps the last plausible ones (or 0) and has
    /// no bitrate. Returns what was wrong with the bytes, or `nil` when they are a reading.
    static func sanitise(_ sample: inout ConnectionSample, previous: Reading?) -> String? {
        for k in 0..<ConnectionCounters.count {
            if let value = sample.counters[k], !CounterRule.isPlausible(value) { sample.counters[k] = nil }
        }
        var problems: [String] = []
        if !CounterRule.isPlausible(sample.inboundBytes) { problems.append("inbound bytes \(sample.inboundBytes)") }
        if !CounterRule.isPlausible(sample.outboundBytes) { problems.append("outbound bytes \(sample.outboundBytes)") }
        guard !problems.isEmpty else { return nil }
        sample.inboundBytes = previous?.inbound ?? 0
        sample.outboundBytes = previous?.outbound ?? 0
        sample.counters = previous?.counters ?? ConnectionCounters()
        sample.deltas = nil
        sample.bitrateIn = nil
        sample.bitrateOut = nil
        return problems.joined(separator: " and ") + (problems.count == 1 ? " is" : " are")
            + " not a byte count (0 to 2^53)"
    }

    /// Created after the previous poll: absent from a list that poll read whole, or so dated by
    /// MediaMTX (its clock, so only trusted when the list gives no answer).
    func isNew(_ sample: borrowing ConnectionSample, previousPoll: Int64) -> Bool {
        if previousListsRead.contains(sample.proto) { return true }
        if let created = sample.createdMs { return created > previousPoll }
        return false
    }
}
