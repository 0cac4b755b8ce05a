/// One forward destination of a path (MediaMTX re-publishes the stream to another server): its
/// state and outbound bitrate. Never its URL: that holds the far server's credentials or
/// stream key; `error` is MediaMTX's last error with URLs and secrets taken out.
public struct ForwardDest: Codable, Sendable, Equatable {
    /// MediaMTX's id of the destination.
    public var id: String
    /// Its place in the path's `forward` list, from 0.
    public var pos: Int64?
    /// `rtmp`, `rtmps`, `rtsp`, `rtsps`, `srt`, `whip`, `whips`.
    public var type: String?
    /// `idle`, `forwarding` or `error`.
    public var state: String?
    public var outboundBytes: Int64
    /// Bit/s since the previous reading of this destination; `nil` on its first.
    public var bitrateOut: Double?
    /// When this reading was taken (unix ms): destinations are asked for in turns (see
    /// `ForwardWatch`), so a path's may be older than its poll.
    public var readAt: Int64
    public var error: String?

    public init(id: String, pos: Int64? = nil, type: String? = nil, state: String? = nil, outboundBytes: Int64 = 0,
                readAt: Int64, error: String? = nil) {
        self.id = id
        self.pos = pos
        self.type = type
        self.state = state
        self.outboundBytes = outboundBytes
        self.readAt = readAt
        self.error = error
    }

    /// How an operator names it: `srt destination #1`.
    public var label: String { "\(type ?? "forward") destination #\(pos.map { String($0 + 1) } ?? id.prefix(8).description)" }
}

/// Which paths' forward destinations a poll asks for, and what they were: MediaMTX lists them one
/// path at a time, so asking for every path each poll would cost a request per path. Paths known
/// to forward are asked every poll; the others in turns, `slice` a poll, so a destination added
/// anywhere is found within `paths ÷ slice` polls.
public struct ForwardWatch: Sendable {
    public var slice: Int
    private var cursor = 0
    private var known: [String: [ForwardDest]] = [:]
    public let server: String

    public init(server: String = ServerName.default, slice: Int = 8) {
        self.server = server
        self.slice = slice
    }

    /// The paths to ask this poll, from the online ones (sorted), and where the turn goes next.
    public func plan(online: [String]) -> (paths: [String], cursor: Int) {
        var chosen = online.filter { !(known[$0]?.isEmpty ?? true) }
        let others = online.filter { known[$0]?.isEmpty ?? true }
        guard !others.isEmpty, slice > 0 else { return (chosen, 0) }
        let start = cursor % others.count
        for k in 0..<min(slice, others.count) { chosen.append(others[(start + k) % others.count]) }
        return (chosen, (start + slice) % others.count)
    }

    /// Takes the destinations read this poll (by path; a path asked whose list failed is absent)
    /// and returns the events of destinations that failed or recovered. Bitrates come from the
    /// previous reading of the same id.
    public mutating func take(_ read: [String: [ForwardDest]], cursor next: Int, online: Set<String>,
                              at ts: Int64) -> [MonitorEvent] {
        cursor = next
        var events: [MonitorEvent] = []
        for (path, dests) in read {
            let before = Dictionary((known[path] ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            var derived: [ForwardDest] = []
            for var dest in dests {
                if let was = before[dest.id], dest.readAt > was.readAt, dest.outboundBytes >= was.outboundBytes {
                    dest.bitrateOut = CounterRule.bitrate(previous: was.outboundBytes, current: dest.outboundBytes,
                                                          elapsedMs: dest.readAt - was.readAt)
                }
                if dest.state == "error", before[dest.id]?.state != "error" {
                    events.append(MonitorEvent(.forwardError, severity: .warning, ts: ts, server: server, path: path,
                                               message: "\(path)'s \(dest.label) fails: \(dest.error ?? "no reason given")",
                                               figures: ["type": dest.type.map(MonitorEvent.Figure.text) ?? "unknown",
                                                         "destination": .text(dest.id)]))
                } else if dest.state == "forwarding", before[dest.id]?.state == "error" {
                    events.append(MonitorEvent(.forwardBack, severity: .info, ts: ts, server: server, path: path,
                                               message: "\(path)'s \(dest.label) forwards again",
                                               figures: ["type": dest.type.map(MonitorEvent.Figure.text) ?? "unknown",
                                                         "destination": .text(dest.id)]))
                }
                derived.append(dest)
            }
            known[path] = derived.sorted { ($0.pos ?? .max, $0.id) < ($1.pos ?? .max, $1.id) }
        }
        // A path that is gone forwards nothing.
        for path in known.keys where !online.contains(path) { known[path] = nil }
        return events
    }

    /// Each path's destinations as last read.
    public func attach(to snapshot: inout Snapshot) {
        for i in snapshot.paths.indices {
            if let dests = known[snapshot.paths[i].name], !dests.isEmpty { snapshot.paths[i].forwards = dests }
        }
    }
}
