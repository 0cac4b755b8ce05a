/// One element of the JSON array stored under `REDIS_KEY`, readable by clients written for the
/// original collector.
///
/// The first seven fields are that collector's contract and never change; later fields are
/// additions. `readers` is a count, as it always was.
public struct SeedElement: Codable, Sendable, Equatable {
    public var name: String
    public var sourceType: String?
    public var bytesReceived: Int64
    public var readers: Int
    public var rtt: Double?
    public var recvRateMbps: Double?
    public var linkCapacityMbps: Double?
    // Additions.
    public var online: Bool
    public var bitrateIn: Double?
    public var bitrateOut: Double?
    public var outboundBytes: Int64
    public var ts: Int64

    public init(_ sample: PathSample, ts: Int64) {
        name = sample.name
        sourceType = sample.sourceType
        bytesReceived = sample.inboundBytes
        readers = sample.readers
        rtt = sample.srt?.rttMs
        recvRateMbps = sample.srt?.recvRateMbps
        linkCapacityMbps = sample.srt?.linkCapacityMbps
        online = sample.online
        bitrateIn = sample.bitrateIn
        bitrateOut = sample.bitrateOut
        outboundBytes = sample.outboundBytes
        self.ts = ts
    }

    /// Encodes absent optionals as absent keys except `sourceType` and the bitrates, which old
    /// and new clients expect to find (as `null`) on every element.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(sourceType, forKey: .sourceType)
        try c.encode(bytesReceived, forKey: .bytesReceived)
        try c.encode(readers, forKey: .readers)
        try c.encodeIfPresent(rtt, forKey: .rtt)
        try c.encodeIfPresent(recvRateMbps, forKey: .recvRateMbps)
        try c.encodeIfPresent(linkCapacityMbps, forKey: .linkCapacityMbps)
        try c.encode(online, forKey: .online)
        try c.encode(bitrateIn, forKey: .bitrateIn)
        try c.encode(bitrateOut, forKey: .bitrateOut)
        try c.encode(outboundBytes, forKey: .outboundBytes)
        try c.encode(ts, forKey: .ts)
    }
}

extension Snapshot {
    /// The snapshot in the shape kept under `REDIS_KEY`.
    public var seedElements: [SeedElement] {
        paths.map { SeedElement($0, ts: ts) }
    }
}
