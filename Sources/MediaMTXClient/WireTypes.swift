import MTXMonCore

// The parts of MediaMTX's replies that mtxmon reads, tolerant of both API generations.
//
// Every field is optional: v1.17 renamed `bytesReceived`/`bytesSent`/`ready` to
// `inboundBytes`/`outboundBytes`/`online` and may drop the old names, older servers never send
// the new ones, and SRT connections carry only the old names even on v1.20.
//
// Each type's `fields` is the one list of the keys it reads, each beside the property it fills
// and the way its value is read; the one-pass reader and `Decodable` both read through it
// (`WireFields.swift`). A property is named as its key: `WireFieldTests` checks that every
// property has its field and every field fills the property of its name.

/// One page of a list reply. Not a `WireObject`: a generic type cannot hold a static list, and
/// its three keys are read by name (`ListPage.read`) as the synthesized `Decodable` reads them.
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

extension WirePath.Ref: WireObject {
    static let fields = WireFields<Self>(order: 0, [
        .string("type", \.type),
        .identifier("id", \.id),
    ])

    public init(from decoder: any Decoder) throws { try self.init(fieldsFrom: decoder) }
}

extension WirePath: WireObject {
    static let fields = WireFields<Self>(order: 1, [
        .identifier("name", \.name),
        .bool("ready", \.ready),
        .bool("online", \.online),
        .bool("available", \.available),
        .object("source", \.source),
        .array("readers", \.readers),
        .int("bytesReceived", \.bytesReceived),
        .int("bytesSent", \.bytesSent),
        .int("inboundBytes", \.inboundBytes),
        .int("outboundBytes", \.outboundBytes),
        .int("inboundFramesInError", \.inboundFramesInError),
    ])

    public init(from decoder: any Decoder) throws { try self.init(fieldsFrom: decoder) }
}

/// SRT connections are read as any connection; the name stays for the path's SRT figures.
public typealias WireSRTConn = WireConnection

public struct WireInfo: Decodable, Sendable {
    public var version: String?
    public var started: String?
}

extension WireInfo: WireObject {
    static let fields = WireFields<Self>(order: 3, [
        .string("version", \.version),
        .string("started", \.started),
    ])

    public init(from decoder: any Decoder) throws { try self.init(fieldsFrom: decoder) }
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

extension WireConnection: WireObject {
    static let fields = WireFields<Self>(order: 2, [
        .identifier("id", \.id),
        .time("created", \.created),
        .string("state", \.state),
        .identifier("path", \.path),
        .string("remoteAddr", \.remoteAddr),
        .string("userAgent", \.userAgent),
        .int("inboundBytes", \.inboundBytes),
        .int("outboundBytes", \.outboundBytes),
        .int("bytesReceived", \.bytesReceived),
        .int("bytesSent", \.bytesSent),
        // SRT
        .double("msRTT", \.msRTT),
        .double("mbpsReceiveRate", \.mbpsReceiveRate),
        .double("mbpsSendRate", \.mbpsSendRate),
        .double("mbpsLinkCapacity", \.mbpsLinkCapacity),
        .int("msReceiveTsbPdDelay", \.msReceiveTsbPdDelay),
        .int("msSendTsbPdDelay", \.msSendTsbPdDelay),
        .int("packetsReceived", \.packetsReceived),
        .int("packetsReceivedLoss", \.packetsReceivedLoss),
        .int("packetsReceivedRetrans", \.packetsReceivedRetrans),
        .int("packetsReceivedDrop", \.packetsReceivedDrop),
        .int("packetsReceivedBelated", \.packetsReceivedBelated),
        .int("packetsReceivedUndecrypt", \.packetsReceivedUndecrypt),
        .int("packetsSent", \.packetsSent),
        .int("packetsSendLoss", \.packetsSendLoss),
        .int("packetsRetrans", \.packetsRetrans),
        .int("packetsSendDrop", \.packetsSendDrop),
        // RTP (RTSP, WebRTC)
        .int("inboundRTPPackets", \.inboundRTPPackets),
        .int("inboundRTPPacketsLost", \.inboundRTPPacketsLost),
        .int("inboundRTPPacketsInError", \.inboundRTPPacketsInError),
        .double("inboundRTPPacketsJitter", \.inboundRTPPacketsJitter),
        .int("inboundRTCPPackets", \.inboundRTCPPackets),
        .int("inboundRTCPPacketsInError", \.inboundRTCPPacketsInError),
        .int("outboundRTPPackets", \.outboundRTPPackets),
        .int("outboundRTPPacketsReportedLost", \.outboundRTPPacketsReportedLost),
        .int("outboundRTPPacketsDiscarded", \.outboundRTPPacketsDiscarded),
        .int("rtpPacketsReceived", \.rtpPacketsReceived),
        .int("rtpPacketsLost", \.rtpPacketsLost),
        .int("rtpPacketsInError", \.rtpPacketsInError),
        .double("rtpPacketsJitter", \.rtpPacketsJitter),
        .int("rtcpPacketsReceived", \.rtcpPacketsReceived),
        .int("rtcpPacketsInError", \.rtcpPacketsInError),
        .int("rtpPacketsSent", \.rtpPacketsSent),
        .int("outboundFramesDiscarded", \.outboundFramesDiscarded),
        // HLS
        .bool("isCDN", \.isCDN),
    ])

    public init(from decoder: any Decoder) throws { try self.init(fieldsFrom: decoder) }
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

/// One forward destination of a path (`/v3/paths/forward/list`, v1.21 `/v3/paths/forward-dests/list`).
/// Its `conf` (the destination URL, with whatever credentials or stream key it holds) is never
/// read; `lastError` is kept only as `Redaction.freeText` leaves it.
public struct WireForwardDest: Decodable, Sendable {
    public var id: String?
    public var created: WireTime?
    /// v1.21's name for what v1.20 called `protocol` (`rtmp`, `srt`, `whip`, …).
    public var type: String?
    public var `protocol`: String?
    public var state: String?
    public var outboundBytes: Int64?
    public var pos: Int64?
    public var lastError: String?
}

extension WireForwardDest: WireObject {
    static let fields = WireFields<Self>(order: 4, [
        .identifier("id", \.id),
        .time("created", \.created),
        .string("type", \.type),
        .string("protocol", \.protocol),
        .string("state", \.state),
        .int("outboundBytes", \.outboundBytes),
        .int("pos", \.pos),
        .string("lastError", \.lastError),
    ])

    public init(from decoder: any Decoder) throws { try self.init(fieldsFrom: decoder) }
}

/// One HLS muxer (`/v3/hlsmuxers/list`, v1.21 `/v3/hls/muxers/list`): MediaMTX's own reader that
/// turns a path into HLS segments for every HLS viewer of it.
public struct WireHLSMuxer: Decodable, Sendable {
    public var path: String?
    public var outboundBytes: Int64?
    public var bytesSent: Int64?
    public var outboundFramesDiscarded: Int64?
}

extension WireHLSMuxer: WireObject {
    static let fields = WireFields<Self>(order: 5, [
        .identifier("path", \.path),
        .int("outboundBytes", \.outboundBytes),
        .int("bytesSent", \.bytesSent),
        .int("outboundFramesDiscarded", \.outboundFramesDiscarded),
    ])

    public init(from decoder: any Decoder) throws { try self.init(fieldsFrom: decoder) }
}
