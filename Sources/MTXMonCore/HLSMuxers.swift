/// What a path's HLS muxer sends: one muxer serves every HLS viewer of the path, so its bytes
/// are the path's HLS egress, and frames it discards reach no HLS viewer.
public struct HLSMuxerFigures: Codable, Sendable, Equatable {
    public var outboundBytes: Int64
    /// Bit/s since the previous reading of the muxer; `nil` on its first and after a restart.
    public var bitrateOut: Double?
    /// Frames the muxer discarded (v1.17+), as MediaMTX counts them.
    public var framesDiscarded: Int64?

    public init(outboundBytes: Int64, bitrateOut: Double? = nil, framesDiscarded: Int64? = nil) {
        self.outboundBytes = outboundBytes
        self.bitrateOut = bitrateOut
        self.framesDiscarded = framesDiscarded
    }
}

/// Follows each path's HLS muxer from poll to poll for its bitrate.
public struct HLSMuxerWatch: Sendable {
    private var last: [String: (bytes: Int64, ts: Int64)] = [:]

    public init() {}

    /// The muxers of one poll (by path: bytes, discarded frames) read at `ts`; fills the paths'
    /// `hls`. A counter that went down is a new muxer: no bitrate at that reading.
    public mutating func take(_ muxers: [String: (bytes: Int64, discarded: Int64?)], at ts: Int64,
                              into snapshot: inout Snapshot) {
        var next: [String: (bytes: Int64, ts: Int64)] = [:]
        for i in snapshot.paths.indices {
            guard let muxer = muxers[snapshot.paths[i].name] else { continue }
            var figures = HLSMuxerFigures(outboundBytes: muxer.bytes, framesDiscarded: muxer.discarded)
            if let before = last[snapshot.paths[i].name], muxer.bytes >= before.bytes, ts > before.ts {
                figures.bitrateOut = CounterRule.bitrate(previous: before.bytes, current: muxer.bytes,
                                                         elapsedMs: ts - before.ts)
            }
            snapshot.paths[i].hls = figures
            next[snapshot.paths[i].name] = (muxer.bytes, ts)
        }
        last = next
    }
}
