/// Judges one server's streams poll after poll (see `StreamHealth`): pure, fed the snapshots the
/// collector builds, so every rule is tested with literal figures.
///
/// Rates come from the connections' per-poll increases summed over a sliding window, never
/// from raw counters (a counter's total says nothing about now).
public struct HealthJudge: Sendable {
    public var rules: HealthRules
    public let server: String
    private var paths: [String: PathWatch] = [:]
    private var windows: [String: [Interval]] = [:]

    struct PathWatch: Sendable {
        var frames: Int64?
        var frameIncreases: [(ts: Int64, count: Int64)] = []
        var resets: [Int64] = []
        var levels: [StreamHealth.Cause: StreamHealth.Verdict] = [:]
        var told: StreamHealth?
    }

    /// One connection's increases over one poll interval.
    struct Interval: Sendable {
        var ts: Int64
        var received: Int64
        var lost: Int64
        var inError: Int64
        var sent: Int64
        var reportedLost: Int64
        var discarded: Int64
        /// SRT: packets received, and those given up as too late to play.
        var srtReceived: Int64 = 0
        var srtDropped: Int64 = 0
    }

    public init(server: String = ServerName.default, rules: HealthRules = HealthRules()) {
        self.server = server
        self.rules = rules
    }

    /// Judges every path of an answered poll, writing each one's `health`, and returns the
    /// changes worth an event: a stream that became degraded or bad, changed its reasons while
    /// so, or is good again. Offline and unknown are told by their own events.
    public mutating func judge(_ snapshot: inout Snapshot, lowBitrate: Set<String> = []) -> [MonitorEvent] {
        let ts = snapshot.ts
        takeConnections(snapshot.connections, at: ts)
        // Indices, not copies: a connection sample is some five hundred bytes, thousands a poll.
        var byPath: [String: [Int]] = [:]
        for i in snapshot.connections.indices {
            if let path = snapshot.connections[i].path { byPath[path, default: []].append(i) }
        }
        var events: [MonitorEvent] = []
        var kept: [String: PathWatch] = [:]
        kept.reserveCapacity(snapshot.paths.count)
        for i in snapshot.paths.indices {
            let path = snapshot.paths[i]
            var watch = paths[path.name] ?? PathWatch()
            let health = judge(path, snapshot.connections, byPath[path.name] ?? [], watch: &watch, at: ts,
                               lowBitrate: lowBitrate.contains(path.name))
            snapshot.paths[i].health = health
            if let event = change(path.name, from: watch.told, to: health, at: ts) { events.append(event) }
            // Offline and unknown end nothing told: a stream back online is judged against the last verdict.
            if health.verdict != .unknown { watch.told = health }
            kept[path.name] = watch
        }
        paths = kept
        return events
    }

    private mutating func takeConnections(_ connections: [ConnectionSample], at ts: Int64) {
        var next: [String: [Interval]] = [:]
        next.reserveCapacity(connections.count)
        for c in connections {
            var intervals = windows[c.id] ?? []
            intervals.removeAll { $0.ts <= ts - rules.windowMs }
            if let d = c.deltas {
                let discarded = (d.rtpPacketsDiscarded ?? 0).addingSaturating(d.framesDiscarded ?? 0)
                    .addingSaturating(c.role == .reader ? d.packetsSendDrop ?? 0 : 0)
                intervals.append(Interval(ts: ts, received: d.rtpPacketsReceived ?? 0, lost: d.rtpPacketsLost ?? 0,
                                          inError: d.rtpPacketsInError ?? 0, sent: d.rtpPacketsSent ?? 0,
                                          reportedLost: d.rtpPacketsReportedLost ?? 0, discarded: discarded,
                                          srtReceived: d.packetsReceived ?? 0, srtDropped: d.packetsReceivedDrop ?? 0))
            }
            next[c.id] = intervals
        }
        windows = next
    }

    private func judge(_ path: PathSample, _ all: [ConnectionSample], _ mine: [Int], watch: inout PathWatch,
                       at ts: Int64, lowBitrate: Bool) -> StreamHealth {
        // Counters are followed whatever the state, so a path coming back is judged on its own figures.
        if let frames = path.inboundFramesInError {
            if let before = watch.frames, !path.reset {
                watch.frameIncreases.append((ts, CounterRule.increase(before, frames)))
            }
            watch.frames = frames
        }
        watch.frameIncreases.removeAll { $0.ts <= ts - rules.windowMs }
        if path.reset { watch.resets.append(ts) }
        watch.resets.removeAll { $0 <= ts - rules.restartWindowMs }
        switch path.currentState {
        case .offline:
            watch.levels = [:]
            return StreamHealth(verdict: .offline)
        case .unknown:
            return StreamHealth(verdict: .unknown)
        case .online:
            break
        }
        var reasons: [StreamHealth.Reason] = []
        var rates = StreamHealth.Rates(windowMs: rules.windowMs)
        func weigh(_ cause: StreamHealth.Cause, _ value: Double, _ threshold: HealthRules.Threshold, unit: String,
                   hint: String, _ text: (StreamHealth.Verdict) -> String) {
            let level = Self.level(value, threshold, current: watch.levels[cause] ?? .good, clear: rules.clearShare)
            watch.levels[cause] = level
            guard level != .good else { return }
            reasons.append(.init(cause: cause, verdict: level, value: value, unit: unit, text: text(level), hint: hint))
        }
        // Words are made only for a reason that is given: most streams are good at most polls.
        let windowMs = rules.windowMs
        var window: String { "\(windowMs / 1_000) s" }
        let frames = watch.frameIncreases.reduce(Int64(0)) { $0.addingSaturating($1.count) }
        if path.inboundFramesInError != nil { rates.framesInError = frames }
        weigh(.framesInError, Double(frames), rules.framesInError, unit: "frames", hint: "the source sends a damaged stream (an overloaded encoder, or packets lost before MediaMTX): check the encoder and its uplink") { _ in
            "\(frames) frame\(frames == 1 ? "" : "s") MediaMTX could not decode in the past \(window)"
        }
        let publisherIndex = mine.first { all[$0].role == .publisher && all[$0].id == path.sourceID }
            ?? mine.first { all[$0].role == .publisher }
        let publisher = publisherIndex.map { all[$0] }
        if let publisher {
            let intervals = windows[publisher.id] ?? []
            let received = intervals.reduce(Int64(0)) { $0.addingSaturating($1.received) }
            let lost = intervals.reduce(Int64(0)) { $0.addingSaturating($1.lost) }
            let inError = intervals.reduce(Int64(0)) { $0.addingSaturating($1.inError) }
            let expected = received.addingSaturating(lost)
            var who: String { "\(publisher.proto.rawValue) publisher\(publisher.remoteAddr.map { " \($0)" } ?? "")" }
            if expected >= Self.fewestPackets, let threshold = rules.loss(for: path.name) {
                let percent = Double(lost) / Double(expected) * 100
                rates.rtpLossPercent = percent
                weigh(.rtpLoss, percent, threshold, unit: "%", hint: Self.lossHint(publisher.proto)) { _ in
                    "\(Self.format(percent)) % of RTP packets lost in the past \(window) (\(lost) of \(expected)) at the \(who)"
                }
            } else {
                watch.levels[.rtpLoss] = nil
            }
            if received >= Self.fewestPackets {
                let percent = Double(inError) / Double(received) * 100
                rates.rtpErrorPercent = percent
                weigh(.rtpErrors, percent, rules.errors, unit: "%",
                      hint: "MediaMTX received RTP packets it could not read: check the source's packetiser or a middlebox rewriting packets") { _ in
                    "\(Self.format(percent)) % of RTP packets in error in the past \(window) (\(inError) of \(received)) at the \(who)"
                }
            }
            // What SRT gave up, not its latency margin: a small margin is a risk the connection's
            // link health shows; the stream suffers only when packets are dropped.
            let srtReceived = intervals.reduce(Int64(0)) { $0.addingSaturating($1.srtReceived) }
            let srtDropped = intervals.reduce(Int64(0)) { $0.addingSaturating($1.srtDropped) }
            if publisher.proto == .srt, srtReceived.addingSaturating(srtDropped) >= Self.fewestPackets {
                let percent = Double(srtDropped) / Double(srtReceived.addingSaturating(srtDropped)) * 100
                rates.srtDropPercent = percent
                weigh(.srtDrops, percent, rules.srtDrops, unit: "%", hint: "retransmissions do not arrive within the SRT latency: raise the latency (at least 4 × the RTT) or check the link") { _ in
                    "\(Self.format(percent)) % of SRT packets dropped as too late in the past \(window) (\(srtDropped)) at the \(who)"
                }
            }
        }
        if lowBitrate {
            reasons.append(.init(cause: .bitrateLow, verdict: .degraded, value: path.bitrateIn ?? 0, unit: "bit/s",
                                 text: "the bitrate fell well under its usual level",
                                 hint: "the publisher sends far less than usual: check the encoder and its uplink bandwidth"))
        }
        let restarts = watch.resets.count
        weigh(.restarts, Double(restarts), rules.restarts, unit: "restarts", hint: "the publisher keeps reconnecting: check its process and network, and MediaMTX's log for why it was dropped") { _ in
            "the publisher restarted \(restarts) time\(restarts == 1 ? "" : "s") in the past \(rules.restartWindowMs / 60_000) min"
        }
        let verdict = reasons.map(\.verdict).max { $0.rank < $1.rank } ?? .good
        return StreamHealth(verdict: verdict, reasons: reasons, readers: readerIssues(all, mine), rates: rates)
    }

    /// Readers that lose packets on their way or cannot keep up, each on its own figures.
    private func readerIssues(_ all: [ConnectionSample], _ mine: [Int]) -> [StreamHealth.ReaderIssue] {
        var issues: [StreamHealth.ReaderIssue] = []
        for i in mine where all[i].role == .reader {
            guard let intervals = windows[all[i].id], !intervals.isEmpty else { continue }
            let sent = intervals.reduce(Int64(0)) { $0.addingSaturating($1.sent) }
            let reported = intervals.reduce(Int64(0)) { $0.addingSaturating($1.reportedLost) }
            let discarded = intervals.reduce(Int64(0)) { $0.addingSaturating($1.discarded) }
            let lossy = sent >= Self.fewestPackets && Double(reported) / Double(sent) * 100 >= rules.readerLoss
            guard lossy || discarded > 0 else { continue }
            let window = "\(rules.windowMs / 1_000) s"
            let (id, proto, address) = (all[i].id, all[i].proto, all[i].remoteAddr)
            let who = "\(proto.rawValue) reader\(address.map { " \($0)" } ?? "")"
            if lossy {
                let percent = Double(reported) / Double(sent) * 100
                issues.append(.init(connection: id, proto: proto, remoteAddr: address, cause: .reportedLoss, value: percent,
                                    text: "the \(who) reports \(Self.format(percent)) % of packets lost in the past \(window)",
                                    hint: "the network between MediaMTX and this reader drops packets: the stream is fine; check the reader's downlink or have it read over TCP"))
            }
            if discarded > 0 {
                issues.append(.init(connection: id, proto: proto, remoteAddr: address, cause: .discarded,
                                    value: Double(discarded),
                                    text: "MediaMTX discarded \(discarded) frame\(discarded == 1 ? "" : "s") or packets the \(who) could not take in the past \(window)",
                                    hint: "this reader is too slow for the stream (its client or its link): its viewers see stalls; the stream and the other readers are fine"))
            }
        }
        return issues
    }

    /// Fewer packets than this in the window are too few for a share to mean anything.
    static let fewestPackets: Int64 = 50

    static func lossHint(_ proto: ConnectionProtocol) -> String {
        switch proto {
        case .rtsp, .rtsps:
            "RTP loss at an RTSP publisher over UDP means the network between the source and MediaMTX drops packets: try TCP transport or check the uplink"
        case .webrtc:
            "the network between the WebRTC publisher and MediaMTX drops packets: check the publisher's uplink and its bandwidth"
        default:
            "the network between the publisher and MediaMTX drops packets: check the uplink"
        }
    }

    /// The level a figure stands at, given the one it stood at: up at a threshold, down only
    /// under `clear` of it.
    static func level(_ value: Double, _ threshold: HealthRules.Threshold, current: StreamHealth.Verdict,
                      clear: Double) -> StreamHealth.Verdict {
        if value >= threshold.bad || (current == .bad && value >= threshold.bad * clear) { return .bad }
        if value >= threshold.degraded || (current.unhealthy && value >= threshold.degraded * clear) { return .degraded }
        return .good
    }

    private func change(_ path: String, from told: StreamHealth?, to health: StreamHealth, at ts: Int64) -> MonitorEvent? {
        let before = told?.verdict ?? .good
        switch health.verdict {
        case .unknown:
            return nil
        case .offline:
            // Its trouble ends there; told so that time offline is not counted as unhealthy.
            return before.unhealthy ? event(path, health, previous: before, previousCauses: told?.causes ?? [], at: ts) : nil
        case .good, .degraded, .bad:
            // Coming online good is no news (the `online` event tells it).
            guard before == .good || before.unhealthy else {
                return health.verdict.unhealthy ? event(path, health, previous: .good, previousCauses: [], at: ts) : nil
            }
            guard before != health.verdict || (health.verdict.unhealthy && told?.causes != health.causes) else { return nil }
            return event(path, health, previous: before, previousCauses: told?.causes ?? [], at: ts)
        }
    }

    /// The figures carry the verdict and causes before and after, so time spent in each can be
    /// summed from the events alone (`HealthRanking`).
    private func event(_ path: String, _ health: StreamHealth, previous: StreamHealth.Verdict,
                       previousCauses: [StreamHealth.Cause], at ts: Int64) -> MonitorEvent {
        var figures: [String: MonitorEvent.Figure] = [
            "verdict": .text(health.verdict.rawValue), "previous": .text(previous.rawValue),
            "causes": .text(health.causes.map(\.rawValue).joined(separator: ",")),
            "previousCauses": .text(previousCauses.map(\.rawValue).joined(separator: ",")),
        ]
        for reason in health.reasons { figures[reason.cause.rawValue] = .number(reason.value) }
        let message: String
        if let first = health.reasons.first {
            let rest = health.reasons.dropFirst().map(\.text)
            message = "\(path)'s stream is \(health.verdict.rawValue): \(([first.text] + rest).joined(separator: "; ")). \(first.hint)"
        } else if health.verdict == .offline {
            message = "\(path)'s stream went offline while \(previous.rawValue)"
        } else {
            message = "\(path)'s stream is good again (was \(previous.rawValue))"
        }
        // A verdict is one moment: a bad stream that lasts is its quality incident's to call critical.
        let severity: MonitorEvent.Severity = switch health.verdict {
        case .bad, .degraded: .warning
        default: .info
        }
        return MonitorEvent(.health, severity: severity, ts: ts, server: server, path: path, message: message,
                            figures: figures)
    }

    /// One decimal, none when whole.
    static func format(_ value: Double) -> String { LinkHealth.format(value) }
}
