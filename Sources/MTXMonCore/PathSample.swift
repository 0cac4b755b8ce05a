/// One path as seen by one poll, normalised from either MediaMTX API generation.
///
/// Counters are kept exactly as MediaMTX reported them so that any later calculation (rates over
/// a window, reset-aware increases) can be redone from the stored rows; the bitrates are the
/// collector's own derivation and are `nil` where no honest value exists (first sample of a run).
public struct PathSample: Codable, Sendable, Equatable {
    /// The MediaMTX server that has the path; `nil` in snapshots from before fleets (`default`).
    public var server: String?
    public var name: String
    /// `online` from v1.17 on, `ready` before.
    public var online: Bool
    /// MediaMTX's source type (`rtspSession`, `srtConn`, …); `nil` while no publisher is attached.
    public var sourceType: String?
    /// MediaMTX's id of the publishing session or connection; a new id means a new publisher.
    public var sourceID: String?
    /// `inboundBytes` from v1.17 on, `bytesReceived` before.
    public var inboundBytes: Int64
    /// `outboundBytes` from v1.17 on, `bytesSent` before; the sum over every reader.
    public var outboundBytes: Int64
    /// Inbound bit/s over the interval since the previous sample of the same run.
    public var bitrateIn: Double?
    /// Outbound bit/s over the interval since the previous sample of the same run.
    public var bitrateOut: Double?
    /// Viewers attached to the path: MediaMTX's readers but its own (`hidden`, see `hiddenReaders`).
    public var readers: Int
    /// Reader count per MediaMTX reader type (`rtspSession`, `srtConn`, `hlsMuxer`, `hidden`, …),
    /// MediaMTX's own readers included under `hidden`.
    public var readersByType: [String: Int]
    /// MediaMTX's own readers of the path (type `hidden`: its recorder, forwarder, HLS muxer on
    /// newer versions), counted apart from `readers`; `nil` when there are none.
    public var hiddenReaders: Int?
    /// MediaMTX's `available` (v1.19.3+): a reader can play the path now. It differs from `online`
    /// (a publisher is attached) for a path with `alwaysAvailable` tracks, which is available
    /// while offline; `nil` from servers that do not report it.
    public var available: Bool?
    /// The path's forward destinations as last read (see `ForwardWatch`); `nil` when it has none
    /// or they were not asked for.
    public var forwards: [ForwardDest]?
    /// The path's HLS muxer, while it is read over HLS; `nil` otherwise.
    public var hls: HLSMuxerFigures?
    /// The stream's health verdict at this poll (see `StreamHealth`); `nil` where mtxmon did
    /// not judge it (snapshots from before verdicts, paths of a server that did not answer).
    public var health: StreamHealth?
    /// Frames the path could not decode (v1.17+); a path-level figure, not any connection's fault.
    public var inboundFramesInError: Int64?
    /// True when a counter of this path went down since the previous sample: a new run began.
    public var reset: Bool
    /// Link statistics of the SRT publisher, when the path is published over SRT.
    public var srt: SRTLink?
    /// What mtxmon makes of the path at this poll; `nil` in snapshots of an mtxmon that did not
    /// track it, where `online` tells.
    public var state: PathState?
    /// When the path entered `state` (unix ms), as far as mtxmon saw it.
    public var since: Int64?
    /// The last poll at which the path was online, and its figures then: what an offline or
    /// unknown path last carried, named as such rather than shown as current.
    public var lastSeen: LastSeen?
    /// `false` when MediaMTX did not list the path at this poll and mtxmon remembers it
    /// (a dynamic path whose publisher left vanishes from MediaMTX); `nil` means listed.
    public var listed: Bool?
    /// Why MediaMTX's figures for the path at this poll cannot be taken (a counter below 0 or
    /// past `CounterRule.maximum`): its counters are then the last plausible ones, it has no
    /// bitrate, and it is not stored. `nil` for every sample MediaMTX reported sanely.
    public var invalid: String?

    /// The reader type MediaMTX gives its own readers.
    public static let hiddenReaderType = "hidden"

    /// The server's name, `default` for snapshots that name none.
    public var serverName: String { server ?? ServerName.default }

    /// The state, for snapshots written before states were tracked too.
    public var currentState: PathState { state ?? (online ? .online : .offline) }

    public init(
        name: String, online: Bool, sourceType: String? = nil, sourceID: String? = nil,
        inboundBytes: Int64 = 0, outboundBytes: Int64 = 0, bitrateIn: Double? = nil, bitrateOut: Double? = nil,
        readers: Int = 0, readersByType: [String: Int] = [:], inboundFramesInError: Int64? = nil,
        reset: Bool = false, srt: SRTLink? = nil
    ) {
        self.name = name
        self.online = online
        self.sourceType = sourceType
        self.sourceID = sourceID
        self.inboundBytes = inboundBytes
        self.outboundBytes = outboundBytes
        self.bitrateIn = bitrateIn
        self.bitrateOut = bitrateOut
        self.readers = readers
        self.readersByType = readersByType
        self.inboundFramesInError = inboundFramesInError
        self.reset = reset
        self.srt = srt
    }
}

/// Whether a path is publishing, known to be without a publisher, or unknown because mtxmon
/// could not ask MediaMTX (or its latest answer is too old to vouch for).
public enum PathState: String, Codable, Sendable, CaseIterable {
    case online, offline, unknown
}

/// A path's figures at the last poll at which it was online.
public struct LastSeen: Codable, Sendable, Equatable {
    public var ts: Int64
    public var bitrateIn: Double?
    public var bitrateOut: Double?
    public var readers: Int

    public init(ts: Int64, bitrateIn: Double?, bitrateOut: Double?, readers: Int) {
        self.ts = ts
        self.bitrateIn = bitrateIn
        self.bitrateOut = bitrateOut
        self.readers = readers
    }
}

/// The SRT publisher's view of its link, taken from `/v3/srtconns/list`.
///
/// Packet counters are cumulative for the connection, as SRT reports them; per-interval figures
/// are derived later from consecutive rows, never stored twice.
public struct SRTLink: Codable, Sendable, Equatable {
    public var connectionID: String
    /// Smoothed round-trip time, ms.
    public var rttMs: Double?
    /// Receive rate as SRT measures it, Mbit/s.
    public var recvRateMbps: Double?
    /// SRT's estimate of the link capacity, Mbit/s.
    public var linkCapacityMbps: Double?
    /// The receiver's TSBPD latency, ms: the budget retransmissions must fit in.
    public var tsbpdDelayMs: Int64?
    public var packetsReceived: Int64?
    public var packetsReceivedLoss: Int64?
    public var packetsReceivedRetrans: Int64?
    public var packetsReceivedDrop: Int64?

    public init(
        connectionID: String, rttMs: Double? = nil, recvRateMbps: Double? = nil, linkCapacityMbps: Double? = nil,
        tsbpdDelayMs: Int64? = nil, packetsReceived: Int64? = nil, packetsReceivedLoss: Int64? = nil,
        packetsReceivedRetrans: Int64? = nil, packetsReceivedDrop: Int64? = nil
    ) {
        self.connectionID = connectionID
        self.rttMs = rttMs
        self.recvRateMbps = recvRateMbps
        self.linkCapacityMbps = linkCapacityMbps
        self.tsbpdDelayMs = tsbpdDelayMs
        self.packetsReceived = packetsReceived
        self.packetsReceivedLoss = packetsReceivedLoss
        self.packetsReceivedRetrans = packetsReceivedRetrans
        self.packetsReceivedDrop = packetsReceivedDrop
    }
}
