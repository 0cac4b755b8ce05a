import MTXMonCore

/// The parts of MediaMTX's list replies that mtxmon reads, tolerant of both API generations.
///
/// Every field is optional: v1.17 renamed `bytesReceived`/`bytesSent`/`ready` to
/// `inboundBytes`/`outboundBytes`/`online` and may drop the old names, older servers never send
/// the new ones, and SRT connections carry only the old names even on v1.20.
public struct ListPage<Item: Decodable & Sendable>: Decodable, Sendable {
    public var pageCount: Int?
    public var itemCount: Int?
    public var items: [Item]?
}

public struct WirePath: Decodable, Sendable {
    public struct Ref: Decodable, Sendable {
        public var type: String?
        public var id: String?
    }

    public var name: String?
    public var ready: Bool?
    public var online: Bool?
    public var available: Bool?
    public var source: Ref?
    public var readers: [Ref]?
    public var bytesReceived: Int64?
    public var bytesSent: Int64?
    public var inboundBytes: Int64?
    public var outboundBytes: Int64?
    public var inboundFramesInError: Int64?
}

/// SRT connections are read as any connection; the name stays for the path's SRT figures.
public typealias WireSRTConn = WireConnection

public struct WireInfo: Decodable, Sendable {
    public var version: String?
    public var started: String?
}

/// One item of any connection list (`srtconns`, `rtspsessions`, `rtmpconns`, `webrtcsessions`,
/// `hlssessions`, and their TLS twins): the union of their fields, in both API generations.
public struct WireConnection: Decodable, Sendable {
    public var id: String?
    /// RFC 3339 with nanoseconds, MediaMTX's clock.
    public var created: WireTime?
    public var state: String?
    public var path: String?
    public var remoteAddr: String?
    public var userAgent: String?
    public var inboundBytes: Int64?
    public var outboundBytes: Int64?
    public var bytesReceived: Int64?
    public var bytesSent: Int64?
    // SRT
    public var msRTT: Double?
    public var mbpsReceiveRate: Double?
    public var mbpsSendRate: Double?
    public var mbpsLinkCapacity: Double?
    public var msReceiveTsbPdDelay: Int64?
    public var msSendTsbPdDelay: Int64?
    public var packetsReceived: Int64?
    public var packetsReceivedLoss: Int64?
    public var packetsReceivedRetrans: Int64?
    public var packetsReceivedDrop: Int64?
    public var packetsReceivedBelated: Int64?
    public var packetsReceivedUndecrypt: Int64?
    public var packetsSent: Int64?
    public var packetsSendLoss: Int64?
    public var packetsRetrans: Int64?
    public var packetsSendDrop: Int64?
    // RTP (RTSP, WebRTC): v1.17+ names, then the older ones.
    public var inboundRTPPackets: Int64?
    public var inboundRTPPacketsLost: Int64?
    public var inboundRTPPacketsInError: Int64?
    public var inboundRTPPacketsJitter: Double?
    public var inboundRTCPPackets: Int64?
    public var inboundRTCPPacketsInError: Int64?
    public var outboundRTPPackets: Int64?
    public var outboundRTPPacketsReportedLost: Int64?
    public var outboundRTPPacketsDiscarded: Int64?
    public var rtpPacketsReceived: Int64?
    public var rtpPacketsLost: Int64?
    public var rtpPacketsInError: Int64?
    public var rtpPacketsJitter: Double?
    public var rtcpPacketsReceived: Int64?
    public var rtcpPacketsInError: Int64?
    public var rtpPacketsSent: Int64?
    public var outboundFramesDiscarded: Int64?
    // HLS
    public var isCDN: Bool?
}

/// An RFC 3339 time of MediaMTX's, kept as the unix milliseconds it names: read straight from
/// the reply's bytes, without a String for every connection of every poll. `ms` is `nil` for
/// text that is not such a time (MediaMTX's clock is only a hint, never a reason to fail).
public struct WireTime: Decodable, Sendable, Equatable {
    public var ms: Int64?

    public init(ms: Int64?) { self.ms = ms }

    public init(from decoder: any Decoder) throws {
        ms = TimeArgument.rfc3339(try decoder.singleValueContainer().decode(String.self))
    }
}
