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

public struct WireSRTConn: Decodable, Sendable {
    public var id: String?
    public var state: String?
    public var path: String?
    public var remoteAddr: String?
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
    public var bytesReceived: Int64?
    public var bytesSent: Int64?
}

public struct WireInfo: Decodable, Sendable {
    public var version: String?
    public var started: String?
}
