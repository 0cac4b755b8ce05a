import MTXMonCore
import Synchronization

/// The stream figures mtxmon works out, as Prometheus gauges on `/metrics`, so a Grafana that
/// already scrapes the host can chart them beside everything else.
///
/// Fed by the live hub with every snapshot this process hears of, and kept in memory with the
/// past minute of each SRT connection's link samples: a scrape renders from memory and never
/// waits on the history file. The minute restarts with the process, so an SRT link's margin
/// and loss verdicts are `unknown` (left out) until it has been watched long enough, as the
/// API's are for a new connection.
public final class StreamGauges: Sendable {
    /// At most this many series are written per scrape; whole paths are left out (by name, last
    /// first) beyond it, and counted.
    public let maxSeries: Int
    private let state = Mutex(State())

    struct State {
        /// Each server's newest snapshot.
        var snapshots: [String: Snapshot] = [:]
        /// By server, then connection id.
        var links: [String: [String: (firstTs: Int64, samples: [LinkSample])]] = [:]
        var omittedTotal = 0
    }

    public init(maxSeries: Int) {
        self.maxSeries = maxSeries
    }

    /// Whether a snapshot has been heard yet.
    public var isEmpty: Bool { state.withLock { $0.snapshots.isEmpty } }

    /// Takes one server's snapshot: its newest wins, and each of its SRT connections' minute of
    /// samples grows.
    public func record(_ snapshot: Snapshot) {
        let server = snapshot.serverName
        state.withLock { state in
            if let current = state.snapshots[server], current.ts >= snapshot.ts { return }
            state.snapshots[server] = snapshot
            guard snapshot.answered else { return }
            let known = state.links[server] ?? [:]
            var links: [String: (firstTs: Int64, samples: [LinkSample])] = [:]
            // By index: copying out each of thousands of connections to look at its protocol
            // costs more than the SRT ones' work.
            for i in snapshot.connections.indices where snapshot.connections[i].proto == .srt {
                let c = snapshot.connections[i]
                var link = known[c.id] ?? (snapshot.ts, [])
                link.samples.removeAll { $0.ts <= snapshot.ts - 60_000 }
                link.samples.append(LinkSample(ts: snapshot.ts, rttMs: c.rttMs, latencyMs: c.latencyMs,
                                               lost: c.deltas?.lost(c.role), retransmitted: c.deltas?.retransmitted(c.role),
                                               dropped: c.deltas?.dropped(c.role)))
                links[c.id] = link
            }
            state.links[server] = links
        }
    }

    /// A verdict as a number for alert rules: `unknown` has none and is left out.
    static func number(_ level: LinkHealth.Level) -> Int? {
        switch level {
        case .ok: 0
        case .recent: 1
        case .warn: 2
        case .critical: 3
        case .unknown: nil
        }
    }

    struct Family {
        let name: String
        let help: String
        var lines: [String] = []
    }

    /// The exposition text of every stream gauge, `fallback` standing in before the first snapshot.
    public func render(fallback: Snapshot? = nil) -> String {
        let (snapshots, allLinks) = state.withLock { ($0.snapshots, $0.links) }
        let parts = snapshots.isEmpty ? fallback.map { $0.servers == nil ? [$0] : $0.split() } ?? [] : Array(snapshots.values)
        var families = [
            Family(name: "mtxmon_path_online", help: "1 while the path has a ready publisher, else 0."),
            Family(name: "mtxmon_path_inbound_bytes_per_second",
                   help: "Bytes a second into MediaMTX over the last poll interval (the bitrate / 8)."),
            Family(name: "mtxmon_path_outbound_bytes_per_second",
                   help: "Bytes a second out to all readers over the last poll interval (the bitrate / 8)."),
            Family(name: "mtxmon_path_readers", help: "Readers of the path at the last poll."),
            Family(name: "mtxmon_path_srt_rtt_seconds", help: "Round-trip time of the path's SRT publisher at the last poll."),
            Family(name: "mtxmon_path_srt_margin_ratio",
                   help: "SRT latency divided by the 95th percentile RTT of the past 10 s (60 s when 10 s had none)."),
            Family(name: "mtxmon_path_srt_margin_verdict",
                   help: "The margin verdict of the path's SRT publisher: 0 ok, 2 warn, 3 critical; absent while unknown."),
            Family(name: "mtxmon_path_srt_loss_verdict",
                   help: "The loss verdict of the path's SRT publisher: 0 ok, 1 recent, 2 warn, 3 critical; absent while unknown."),
            Family(name: "mtxmon_path_hidden_readers",
                   help: "MediaMTX's own readers of the path (type hidden), not counted in mtxmon_path_readers."),
            Family(name: "mtxmon_path_health",
                   help: "The stream's health verdict: 0 good, 1 degraded, 2 bad; absent while offline or unknown."),
            Family(name: "mtxmon_path_rtp_loss_ratio",
                   help: "Share of the publisher's RTP packets lost over the health window (RTSP, RTSPS, WebRTC)."),
            Family(name: "mtxmon_path_rtp_error_ratio",
                   help: "Share of the publisher's RTP packets in error over the health window."),
            Family(name: "mtxmon_path_frames_in_error_per_second",
                   help: "Frames MediaMTX could not decode, a second, over the health window."),
            Family(name: "mtxmon_path_forward_state",
                   help: "Each forward destination's state (label pos): 0 idle, 1 forwarding, 2 error."),
            Family(name: "mtxmon_path_forward_outbound_bytes_per_second",
                   help: "Bytes a second each forward destination sends (label pos), between its last two readings."),
            Family(name: "mtxmon_path_hls_outbound_bytes_per_second",
                   help: "Bytes a second the path's HLS muxer sends to all its HLS viewers."),
            Family(name: "mtxmon_path_hls_frames_discarded",
                   help: "Frames the path's HLS muxer discarded, as MediaMTX counts them (restarts with the muxer)."),
        ]
        var written = 0
        var omitted = 0
        var full = false
        for snapshot in parts.sorted(by: { $0.serverName < $1.serverName }) {
            let server = snapshot.serverName
            let links = allLinks[server] ?? [:]
            let publishers = Dictionary(
                snapshot.connections.filter { $0.proto == .srt && $0.role == .publisher && $0.path != nil }
                    .map { ($0.path!, $0) }, uniquingKeysWith: { first, _ in first })
            for path in snapshot.paths.sorted(by: { $0.name < $1.name }) {
                var values: [(Int, Double)] = [(0, path.currentState == .online ? 1 : 0)]
                // Prometheus names base units: bytes. Grafana shows bits with `* 8` or its unit.
                if let v = path.bitrateIn { values.append((1, v / 8)) }
                if let v = path.bitrateOut { values.append((2, v / 8)) }
                values.append((3, Double(path.readers)))
                if let hidden = path.hiddenReaders { values.append((8, Double(hidden))) }
                if let hls = path.hls {
                    if let rate = hls.bitrateOut { values.append((15, rate / 8)) }
                    if let discarded = hls.framesDiscarded { values.append((16, Double(discarded))) }
                }
                if let health = path.health {
                    switch health.verdict {
                    case .good: values.append((9, 0))
                    case .degraded: values.append((9, 1))
                    case .bad: values.append((9, 2))
                    case .offline, .unknown: break
                    }
                    if let rates = health.rates {
                        if let v = rates.rtpLossPercent { values.append((10, v / 100)) }
                        if let v = rates.rtpErrorPercent { values.append((11, v / 100)) }
                        if let v = rates.framesInError, rates.windowMs > 0 {
                            values.append((12, Double(v) * 1_000 / Double(rates.windowMs)))
                        }
                    }
                }
                if let c = publishers[path.name] {
                    if let rtt = c.rttMs { values.append((4, rtt / 1_000)) }
                    if let link = links[c.id] {
                        let health = LinkHealth.evaluate(link.samples, now: snapshot.ts, connectedAt: link.firstTs)
                        if let margin = health.margin { values.append((5, margin)) }
                        if let n = Self.number(health.marginVerdict.level) { values.append((6, Double(n))) }
                        if let n = Self.number(health.lossVerdict.level) { values.append((7, Double(n))) }
                    }
                }
                guard !full, written + values.count <= maxSeries else {
                    full = true
                    omitted += values.count
                    continue
                }
                written += values.count
                let label = "{server=\"\(server)\",path=\"\(Self.escape(path.name))\"}"
                for (family, value) in values where value.isFinite {
                    families[family].lines.append("\(families[family].name)\(label) \(Self.format(value))")
                }
                for dest in path.forwards ?? [] {
                    let pos = dest.pos.map(String.init) ?? Self.escape(dest.id)
                    let forwardLabel = "{server=\"\(server)\",path=\"\(Self.escape(path.name))\",pos=\"\(pos)\"}"
                    let state: Int? = switch dest.state {
                    case "idle": 0
                    case "forwarding": 1
                    case "error": 2
                    default: nil
                    }
                    if let state { families[13].lines.append("\(families[13].name)\(forwardLabel) \(state)") }
                    if let rate = dest.bitrateOut, rate.isFinite {
                        families[14].lines.append("\(families[14].name)\(forwardLabel) \(Self.format(rate / 8))")
                    }
                }
            }
        }
        let total = state.withLock { state in
            state.omittedTotal += omitted
            return state.omittedTotal
        }
        var text = ""
        for family in families where !family.lines.isEmpty {
            text += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) gauge\n"
            for line in family.lines { text += line + "\n" }
        }
        text += "# HELP mtxmon_stream_series Stream series written at this scrape (at most the cap).\n"
        text += "# TYPE mtxmon_stream_series gauge\nmtxmon_stream_series \(written)\n"
        text += "# HELP mtxmon_stream_series_cap Most stream series one scrape writes (MTXMON_METRICS_MAX_SERIES).\n"
        text += "# TYPE mtxmon_stream_series_cap gauge\nmtxmon_stream_series_cap \(maxSeries)\n"
        text += "# HELP mtxmon_stream_series_omitted Stream series left out of this scrape by the cap.\n"
        text += "# TYPE mtxmon_stream_series_omitted gauge\nmtxmon_stream_series_omitted \(omitted)\n"
        text += "# HELP mtxmon_stream_series_omitted_total Stream series left out by the cap, over all scrapes.\n"
        text += "# TYPE mtxmon_stream_series_omitted_total counter\nmtxmon_stream_series_omitted_total \(total)\n"
        return text
    }

    /// A label value as the text format wants it: backslash, quote and newline escaped.
    static func escape(_ value: String) -> String {
        var out = ""
        for ch in value.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}
