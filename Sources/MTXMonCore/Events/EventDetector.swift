/// Works out one server's events from its consecutive polls: pure, so every rule is tested
/// with literal snapshots.
///
/// Changes are judged against the newest poll MediaMTX answered: an outage (no answer, every
/// path `unknown`) changes no path, and what changed across it is told once, when it answers
/// again. The server's own outage is told by the collector, which knows why the polls failed.
public struct EventDetector: Sendable {
    public let server: String
    public var rules: EventRules
    private var previous: Snapshot?
    private var bitrates: [String: BitrateWatch] = [:]
    private var links: [String: LinkWatch] = [:]
    /// The last answered poll's time when `previous` was rebuilt from the history at start: what
    /// changed while nothing polled is told at the first poll, marked with the gap's bounds.
    private var gapFrom: Int64?
    /// Whether `previous` holds the connections of its poll (a rebuilt one holds none).
    private var connectionsKnown = true

    struct BitrateWatch: Sendable {
        /// The newest samples while the bitrate was normal, oldest first.
        var recent: [Double] = []
        var low = false
        /// The median the bitrate fell from, while it is low.
        var median = 0.0
        /// Since when the change (a fall, or the way back) has held.
        var since: Int64?
    }

    struct LinkWatch: Sendable {
        var firstTs: Int64
        var samples: [LinkSample] = []
        var margin: LinkHealth.Level?
        var loss: LinkHealth.Level?
    }

    public init(server: String = ServerName.default, rules: EventRules = EventRules()) {
        self.server = server
        self.rules = rules
    }

    /// Takes the newest state the history holds as the poll before the next one, so that what
    /// changed while nothing polled (mtxmon stopped, or no collector led) is told, once.
    public mutating func seed(_ stored: Snapshot) {
        var snapshot = stored
        for i in snapshot.paths.indices {
            // As last answered: a rebuilt path of a server that then failed reads `unknown`.
            snapshot.paths[i].state = nil
            snapshot.paths[i].reset = false
        }
        snapshot.connections = []
        previous = snapshot
        gapFrom = stored.ts
        connectionsKnown = false
    }

    /// The paths online in the state `seed` took, while its gap is not yet told.
    public var seededOnline: [String] {
        guard gapFrom != nil, let previous else { return [] }
        return previous.paths.filter { $0.currentState == .online }.map(\.name)
    }

    /// The events of an answered poll. `failingLists`: connection lists this poll could not read,
    /// whose connections are neither connected nor gone.
    public mutating func answered(_ next: Snapshot, failingLists: Set<ConnectionProtocol> = []) -> [MonitorEvent] {
        var events: [MonitorEvent] = []
        let ts = next.ts
        let publishers = Self.publishers(next)
        if let previous {
            let before = Dictionary(previous.paths.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            let publishersBefore = Self.publishers(previous)
            var seen = Set<String>()
            for path in next.paths {
                seen.insert(path.name)
                events += pathEvents(path, was: before[path.name], publisher: publishers[path.name],
                                     publisherBefore: publishersBefore[path.name], ts: ts)
            }
            for path in previous.paths where path.currentState == .online && !seen.contains(path.name) {
                events.append(event(.offline, .warning, ts, path: path.name,
                                    "\(path.name) went offline: MediaMTX no longer lists it (its publisher left)",
                                    ["lastBitrateIn": path.bitrateIn.map(MonitorEvent.Figure.number)]))
            }
            if connectionsKnown {
                events += connectionEvents(previous.connections, next.connections, failing: failingLists, ts: ts)
            }
            if let gapFrom { Self.markGap(&events, from: gapFrom, to: ts) }
        }
        gapFrom = nil
        connectionsKnown = true
        events += bitrateEvents(next)
        events += linkEvents(next, failing: failingLists)
        // A failing list's connections stay what they were, to compare the next poll with.
        var kept = next
        if let previous, !failingLists.isEmpty {
            kept.connections += previous.connections.filter { failingLists.contains($0.proto) }
        }
        previous = kept
        return events
    }

    /// Changes seen across a stretch nobody polled happened at some moment within it, not at this poll.
    static func markGap(_ events: inout [MonitorEvent], from: Int64, to: Int64) {
        for i in events.indices {
            events[i].figures["gapFrom"] = .number(Double(from))
            events[i].figures["gapTo"] = .number(Double(to))
            events[i].figures["observedAfterGap"] = .text("true")
            events[i].message += " (observed after a gap: nothing polled for \((to - from) / 1_000) s, so it happened within it)"
        }
    }

    /// Paths whose bitrate is low now by the bitrate rule.
    public var lowBitrate: Set<String> { Set(bitrates.compactMap { $0.value.low ? $0.key : nil }) }

    // MARK: Paths

    private func pathEvents(_ path: PathSample, was: PathSample?, publisher: ConnectionSample?,
                            publisherBefore: ConnectionSample?, ts: Int64) -> [MonitorEvent] {
        var events: [MonitorEvent] = []
        let name = path.name
        let now = path.currentState
        let then = was?.currentState
        let source = Self.source(path, publisher)
        if now == .online, then != .online {
            events.append(event(.online, .info, ts, path: name, "\(name) is online\(source.isEmpty ? "" : ": \(source)")",
                                ["sourceType": path.sourceType.map(MonitorEvent.Figure.text),
                                 "remoteAddr": publisher?.remoteAddr.map(MonitorEvent.Figure.text)]))
        } else if now == .offline, then == .online {
            events.append(event(.offline, .warning, ts, path: name, "\(name) went offline: no publisher",
                                ["lastBitrateIn": was?.bitrateIn.map(MonitorEvent.Figure.number)]))
        }
        if path.reset {
            events.append(event(.reset, .warning, ts, path: name,
                                "\(name)'s counters started again: its publisher reconnected\(source.isEmpty ? "" : " (\(source))")",
                                ["inboundBytes": .number(Double(path.inboundBytes))]))
        }
        if now == .online, then == .online, let was {
            let typeChanged = was.sourceType != path.sourceType
            let addressChanged = publisher?.remoteAddr != nil && publisherBefore?.remoteAddr != nil
                && publisher?.remoteAddr != publisherBefore?.remoteAddr
            if typeChanged || addressChanged {
                let old = Self.source(was, publisherBefore)
                events.append(event(.sourceChanged, .info, ts, path: name,
                                    "\(name)'s source changed from \(old.isEmpty ? "unknown" : old) to \(source.isEmpty ? "unknown" : source)",
                                    ["sourceType": path.sourceType.map(MonitorEvent.Figure.text),
                                     "remoteAddr": publisher?.remoteAddr.map(MonitorEvent.Figure.text),
                                     "previousSourceType": was.sourceType.map(MonitorEvent.Figure.text),
                                     "previousRemoteAddr": publisherBefore?.remoteAddr.map(MonitorEvent.Figure.text)]))
            }
        }
        // Readers are counted while MediaMTX lists the path; an unknown path's count is not news.
        if let was, now != .unknown, then != .unknown, path.readers != was.readers {
            let joined = path.readers > was.readers
            let n = abs(path.readers - was.readers)
            events.append(event(joined ? .readersJoined : .readersLeft, .info, ts, path: name,
                                "\(n) reader\(n == 1 ? "" : "s") \(joined ? "joined" : "left") \(name): \(path.readers) now",
                                ["readers": .number(Double(path.readers)), "previousReaders": .number(Double(was.readers))]))
        }
        return events
    }

    /// `srtConn from 10.0.0.7:4000`, or as much of it as is known.
    static func source(_ path: PathSample, _ publisher: ConnectionSample?) -> String {
        [path.sourceType, publisher?.remoteAddr.map { "from \($0)" }].compactMap { $0 }.joined(separator: " ")
    }

    static func publishers(_ snapshot: Snapshot) -> [String: ConnectionSample] {
        var result: [String: ConnectionSample] = [:]
        for c in snapshot.connections where c.role == .publisher {
            guard let path = c.path, result[path] == nil else { continue }
            result[path] = c
        }
        return result
    }

    // MARK: Bitrate

    private mutating func bitrateEvents(_ next: Snapshot) -> [MonitorEvent] {
        var events: [MonitorEvent] = []
        var kept: [String: BitrateWatch] = [:]
        kept.reserveCapacity(bitrates.count)
        for path in next.paths {
            guard path.currentState == .online, let rule = rules.bitrateRule(for: path.name) else { continue }
            // A reconnect is a new stream: its bitrate owes nothing to the old one's.
            var watch = path.reset ? BitrateWatch() : bitrates[path.name] ?? BitrateWatch()
            if let rate = path.bitrateIn, let event = watch.take(rate, at: next.ts, rule: rule) {
                events.append(self.event(event.low ? .bitrateLow : .bitrateBack, event.low ? .warning : .info, next.ts,
                                         path: path.name, event.low
                                            ? "\(path.name)'s bitrate fell to \(Self.mbps(rate)) from its usual \(Self.mbps(event.median)) (under \(Int(rule.dropShare * 100)) % for \(rule.holdMs / 1_000) s)"
                                            : "\(path.name)'s bitrate is back: \(Self.mbps(rate)) against its usual \(Self.mbps(event.median))",
                                         ["bitrateIn": .number(rate), "median": .number(event.median),
                                          "share": .number(event.low ? rule.dropShare : rule.backShare)]))
            }
            kept[path.name] = watch
        }
        // A path not online keeps no watch: when it comes back its median is learnt anew.
        bitrates = kept
        return events
    }

    static func mbps(_ bps: Double) -> String {
        let hundredths = Int((bps / 10_000).rounded())
        if hundredths >= 1_000 || hundredths % 100 == 0 { return "\((hundredths + 50) / 100) Mbit/s" }
        let rest = hundredths % 100
        return "\(hundredths / 100).\((rest < 10 ? "0\(rest)" : "\(rest)").trimmingSuffix("0")) Mbit/s"
    }

    // MARK: Connections

    private func connectionEvents(_ before: [ConnectionSample], _ after: [ConnectionSample],
                                  failing: Set<ConnectionProtocol>, ts: Int64) -> [MonitorEvent] {
        let old = Dictionary(before.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(after.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var events: [MonitorEvent] = []
        for c in after where old[c.id] == nil && !failing.contains(c.proto) {
            events.append(connectionEvent(c, connected: true, ts: ts))
        }
        for c in before where new[c.id] == nil && !failing.contains(c.proto) {
            events.append(connectionEvent(c, connected: false, ts: ts))
        }
        return events
    }

    private func connectionEvent(_ c: ConnectionSample, connected: Bool, ts: Int64) -> MonitorEvent {
        let who = "\(c.role.rawValue) \(c.remoteAddr ?? "(no address)") over \(c.proto.rawValue)"
        let path = c.path.map { " \(connected ? "to" : "from") \($0)" } ?? ""
        return event(connected ? .connected : .disconnected, .info, ts, path: c.path, connection: c.id,
                     "\(who) \(connected ? "connected" : "disconnected")\(path)",
                     ["role": .text(c.role.rawValue), "protocol": .text(c.proto.rawValue),
                      "remoteAddr": c.remoteAddr.map(MonitorEvent.Figure.text)])
    }

    // MARK: SRT links

    private mutating func linkEvents(_ next: Snapshot, failing: Set<ConnectionProtocol>) -> [MonitorEvent] {
        var events: [MonitorEvent] = []
        var kept: [String: LinkWatch] = [:]
        let ts = next.ts
        for c in next.connections where c.proto == .srt {
            var watch = links[c.id] ?? LinkWatch(firstTs: ts)
            watch.samples.removeAll { $0.ts <= ts - 60_000 }
            watch.samples.append(LinkSample(ts: ts, rttMs: c.rttMs, latencyMs: c.latencyMs, lost: c.deltas?.lost(c.role),
                                            retransmitted: c.deltas?.retransmitted(c.role),
                                            dropped: c.deltas?.dropped(c.role)))
            let health = LinkHealth.evaluate(watch.samples, now: ts, connectedAt: watch.firstTs)
            let figures: [String: MonitorEvent.Figure?] = [
                "margin": health.margin.map(MonitorEvent.Figure.number),
                "rttP95Ms": health.rtt10s.map { .number($0.p95) },
                "latencyMs": health.latencyMs.map { .number(Double($0)) },
                "lost10s": .number(Double(health.loss10s.lost)),
                "retransmitted10s": .number(Double(health.loss10s.retransmitted)),
                "dropped10s": .number(Double(health.loss10s.dropped)),
            ]
            let who = "\(c.role.rawValue) \(c.remoteAddr ?? c.id)\(c.path.map { " of \($0)" } ?? "")"
            let verdicts: [(MonitorEvent.Kind, String, LinkHealth.Verdict, WritableKeyPath<LinkWatch, LinkHealth.Level?>)] = [
                (.srtMargin, "latency margin", health.marginVerdict, \.margin), (.srtLoss, "link", health.lossVerdict, \.loss),
            ]
            for (kind, what, verdict, told) in verdicts {
                guard let level = Self.judged(verdict.level), level != watch[keyPath: told] else { continue }
                // A link first judged ok is no news; a change from what was told is.
                if watch[keyPath: told] != nil || level != .ok {
                    // Recovered loss (warn) is a retransmission that worked: news, not a problem.
                    // One event is one moment: at most a warning. What lasts is the stream's
                    // quality incident's to call critical.
                    let severity = kind == .srtLoss && level == .warn ? .info : min(Self.severity(level), .warning)
                    // Words, not the verdict's name: "critical" in a warning's sentence would overstate it.
                    let state: String = switch (kind, level) {
                    case (.srtMargin, .warn): "is thin"
                    case (.srtMargin, .critical): "is too thin"
                    case (.srtLoss, .warn): "recovers lost packets"
                    case (.srtLoss, .critical): "drops packets"
                    default: "is fine again"
                    }
                    events.append(event(kind, severity, ts, path: c.path, connection: c.id,
                                        "SRT \(what) of \(who) \(state): \(verdict.reason)",
                                        figures.merging(["verdict": .text(level.rawValue)]) { $1 }))
                }
                watch[keyPath: told] = level
            }
            kept[c.id] = watch
        }
        // A failing SRT list leaves its links as they were; a gone connection ends its watch.
        if failing.contains(.srt) { for (id, watch) in links where kept[id] == nil { kept[id] = watch } }
        links = kept
        return events
    }

    /// ok, warn or critical; loss or drops of the past minute but not of the past 10 s is ok
    /// again, and a link not yet judged has no verdict to change.
    static func judged(_ level: LinkHealth.Level) -> LinkHealth.Level? {
        switch level {
        case .ok, .recent: .ok
        case .warn: .warn
        case .critical: .critical
        case .unknown: nil
        }
    }

    static func severity(_ level: LinkHealth.Level) -> MonitorEvent.Severity {
        switch level {
        case .critical: .critical
        case .warn: .warning
        default: .info
        }
    }

    private func event(_ kind: MonitorEvent.Kind, _ severity: MonitorEvent.Severity, _ ts: Int64, path: String?,
                       connection: String? = nil, _ message: String,
                       _ figures: [String: MonitorEvent.Figure?] = [:]) -> MonitorEvent {
        MonitorEvent(kind, severity: severity, ts: ts, server: server, path: path, connection: connection,
                     message: message, figures: figures.compactMapValues { $0 })
    }
}

extension String {
    func trimmingSuffix(_ character: Character) -> String {
        var text = self
        while text.last == character { text.removeLast() }
        return text
    }
}

extension EventDetector.BitrateWatch {
    /// Takes one sample; a change that has held for the rule's time is returned once.
    mutating func take(_ rate: Double, at ts: Int64, rule: BitrateRule) -> (low: Bool, median: Double)? {
        if low {
            guard rate >= rule.backShare * median else {
                since = nil
                return nil
            }
            let start = since ?? ts
            since = start
            guard ts - start >= rule.holdMs else { return nil }
            low = false
            since = nil
            recent = [rate]
            return (false, median)
        }
        guard recent.count >= rule.minSamples else {
            remember(rate, rule)
            return nil
        }
        let usual = Self.median(recent)
        guard rate < rule.dropShare * usual else {
            since = nil
            remember(rate, rule)
            return nil
        }
        // A falling sample is not learnt: the median stays the stream's usual rate.
        let start = since ?? ts
        since = start
        guard ts - start >= rule.holdMs else { return nil }
        low = true
        median = usual
        since = nil
        return (true, usual)
    }

    private mutating func remember(_ rate: Double, _ rule: BitrateRule) {
        recent.append(rate)
        if recent.count > rule.window { recent.removeFirst(recent.count - rule.window) }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}

extension MonitorEvent {
    /// MediaMTX stopped answering: told at the first failed poll, with the cause.
    public static func serverUnreachable(_ server: String, url: String?, ts: Int64, reason: String,
                                         cause: String) -> MonitorEvent {
        let what = cause == FailureReason.timeout.rawValue ? "answers too slowly" : "is unreachable"
        return MonitorEvent(.serverUnreachable, severity: .warning, ts: ts, server: server,
                            message: "MediaMTX\(server == ServerName.default ? "" : " server '\(server)'")\(url.map { " at \($0)" } ?? "") \(what): \(reason)",
                            figures: ["reason": .text(cause)])
    }

    /// A failed poll's words for an incident: a timeout is a server that answers too slowly,
    /// not one that cannot be reached.
    public static func outageWords(_ reason: String?, _ error: String?) -> String {
        let detail = error ?? "no answer"
        return reason == FailureReason.timeout.rawValue && !detail.contains("too slow") ? "answers too slowly: " + detail : detail
    }

    public static func serverBack(_ server: String, ts: Int64, failedPolls: Int, outageMs: Int64) -> MonitorEvent {
        MonitorEvent(.serverBack, severity: .info, ts: ts, server: server,
                     message: "MediaMTX\(server == ServerName.default ? "" : " server '\(server)'") answers again after \(outageMs / 1_000) s (\(failedPolls) failed poll\(failedPolls == 1 ? "" : "s"))",
                     figures: ["failedPolls": .number(Double(failedPolls)), "outageMs": .number(Double(outageMs))])
    }

    public static func serverVersion(_ server: String, ts: Int64, from old: String, to new: String) -> MonitorEvent {
        MonitorEvent(.serverVersion, severity: .info, ts: ts, server: server,
                     message: "MediaMTX\(server == ServerName.default ? "" : " server '\(server)'") is now \(new) (was \(old))",
                     figures: ["version": .text(new), "previousVersion": .text(old)])
    }

    /// Redis or SQLite failing (`back == false`) or working again, told by the recorder itself.
    public static func store(_ kind: Kind, ts: Int64, detail: String) -> MonitorEvent {
        let (severity, text): (Severity, String) = switch kind {
        case .redisFailing: (.warning, "the snapshot cache (Redis) fails; history is still written: \(detail)")
        case .redisBack: (.info, "the snapshot cache (Redis) works again\(detail.isEmpty ? "" : ": \(detail)")")
        case .sqliteFailing: (.warning, "the history store refuses writes; polls are held in the hold file and "
            + "written when it takes them: \(detail)")
        default: (.info, "the history store takes writes again; held polls are written\(detail.isEmpty ? "" : ": \(detail)")")
        }
        return MonitorEvent(kind, severity: severity, ts: ts, server: nil, message: text)
    }
}
