/// Streams ranked by the time they spent unhealthy in a window, from the health events alone:
/// each event carries the verdict and causes before and after it, and the verdict holds between
/// events, so the sum is exact without reading a single poll.
public struct HealthRank: Sendable, Equatable {
    public var server: String
    public var path: String
    public var unhealthyMs: Int64
    public var degradedMs: Int64
    public var badMs: Int64
    /// Time each cause was among the reasons while the stream was unhealthy.
    public var causes: [StreamHealth.Cause: Int64]
    /// Health changes within the window.
    public var changes: Int
    /// The verdict at the window's end.
    public var verdict: StreamHealth.Verdict
}

public enum HealthRanking {
    /// What is known of a stream at the window's end when it had no health event within it.
    public struct Current: Sendable {
        public var server: String
        public var path: String
        public var verdict: StreamHealth.Verdict
        public var causes: [StreamHealth.Cause]

        public init(server: String, path: String, verdict: StreamHealth.Verdict, causes: [StreamHealth.Cause]) {
            self.server = server
            self.path = path
            self.verdict = verdict
            self.causes = causes
        }
    }

    /// Ranks by unhealthy time, then bad time, then name; streams never unhealthy in the window
    /// are left out. `events` are the `health` events of the window, in any order.
    public static func rank(events: [MonitorEvent], current: [Current], from: Int64, to: Int64) -> [HealthRank] {
        var byStream: [String: (server: String, path: String, events: [MonitorEvent])] = [:]
        for event in events where event.kind == .health {
            guard let path = event.path else { continue }
            let server = event.server ?? ServerName.default
            byStream[server + "\u{0}" + path, default: (server, path, [])].events.append(event)
        }
        var ranks: [HealthRank] = []
        for (_, stream) in byStream {
            let sorted = stream.events.sorted { ($0.ts, $0.id ?? 0) < ($1.ts, $1.id ?? 0) }
            var rank = HealthRank(server: stream.server, path: stream.path, unhealthyMs: 0, degradedMs: 0, badMs: 0,
                                  causes: [:], changes: sorted.count, verdict: .good)
            var at = from
            var verdict = verdict(sorted[0], "previous")
            var causes = self.causes(sorted[0], "previousCauses")
            for event in sorted {
                let ts = min(max(event.ts, from), to)
                add(&rank, verdict, causes, ms: ts - at)
                at = ts
                verdict = self.verdict(event, "verdict")
                causes = self.causes(event, "causes")
            }
            add(&rank, verdict, causes, ms: to - at)
            rank.verdict = verdict
            ranks.append(rank)
        }
        for stream in current where byStream[stream.server + "\u{0}" + stream.path] == nil && stream.verdict.unhealthy {
            var rank = HealthRank(server: stream.server, path: stream.path, unhealthyMs: 0, degradedMs: 0, badMs: 0,
                                  causes: [:], changes: 0, verdict: stream.verdict)
            add(&rank, stream.verdict, stream.causes, ms: to - from)
            ranks.append(rank)
        }
        return ranks.filter { $0.unhealthyMs > 0 }.sorted {
            ($1.unhealthyMs, $1.badMs, $0.server, $0.path) < ($0.unhealthyMs, $0.badMs, $1.server, $1.path)
        }
    }

    static func add(_ rank: inout HealthRank, _ verdict: StreamHealth.Verdict, _ causes: [StreamHealth.Cause], ms: Int64) {
        guard ms > 0, verdict.unhealthy else { return }
        rank.unhealthyMs += ms
        if verdict == .bad { rank.badMs += ms } else { rank.degradedMs += ms }
        for cause in causes { rank.causes[cause, default: 0] += ms }
    }

    static func verdict(_ event: MonitorEvent, _ key: String) -> StreamHealth.Verdict {
        if case let .text(text)? = event.figures[key], let verdict = StreamHealth.Verdict(rawValue: text) { return verdict }
        return .good
    }

    static func causes(_ event: MonitorEvent, _ key: String) -> [StreamHealth.Cause] {
        guard case let .text(text)? = event.figures[key] else { return [] }
        return text.split(separator: ",").compactMap { StreamHealth.Cause(rawValue: String($0)) }
    }
}
