/// What the history file knew of a path when this process started, so that a path seen before
/// a restart of mtxmon is still known, and its first poll is judged against its last reading.
public struct RememberedPath: Sendable, Equatable {
    public var name: String
    /// Time of the path's newest stored row.
    public var ts: Int64
    public var online: Bool
    public var inboundBytes: Int64
    public var outboundBytes: Int64
    public var sourceType: String?
    public var lastSeen: LastSeen?

    public init(name: String, ts: Int64, online: Bool, inboundBytes: Int64, outboundBytes: Int64,
                sourceType: String? = nil, lastSeen: LastSeen? = nil) {
        self.name = name
        self.ts = ts
        self.online = online
        self.inboundBytes = inboundBytes
        self.outboundBytes = outboundBytes
        self.sourceType = sourceType
        self.lastSeen = lastSeen
    }
}

/// Keeps every path mtxmon has seen and tells its state at each poll.
///
/// MediaMTX lists a dynamic path only while it has a publisher: a path whose publisher left is
/// simply absent. Absent from an answered poll, a known path is `offline` from that poll on
/// (with `since` and its last figures) until `forgetAfterMs` has passed since it was last
/// listed. A poll MediaMTX did not answer makes every known path `unknown`: nothing was seen,
/// so nothing changed state. Bitrates and the restart rule are `RateTracker`'s.
public struct PathStates: Sendable {
    struct Known: Sendable {
        var state: PathState
        var since: Int64
        var lastSeen: LastSeen?
        var listedTs: Int64
        var inbound: Int64
        var outbound: Int64
        var sourceType: String?
    }

    private var rates: RateTracker
    private var known: [String: Known] = [:]
    private var unknownSince: Int64?
    public let forgetAfterMs: Int64

    public init(maxGapMs: Int64, forgetAfterMs: Int64 = 86_400_000) {
        rates = RateTracker(maxGapMs: maxGapMs, forgetAfterMs: forgetAfterMs)
        self.forgetAfterMs = forgetAfterMs
    }

    /// Paths known from the history file. A path whose newest row is offline has been offline
    /// since at least that row.
    public mutating func remember(_ paths: [RememberedPath]) {
        for path in paths {
            rates.remember(path.name, ts: path.ts, inbound: path.inboundBytes, outbound: path.outboundBytes)
            known[path.name] = Known(state: path.online ? .online : .offline, since: path.ts, lastSeen: path.lastSeen,
                                     listedTs: path.ts, inbound: path.inboundBytes, outbound: path.outboundBytes,
                                     sourceType: path.sourceType)
        }
    }

    /// The paths of an answered poll with bitrates, restarts and states, followed (in name
    /// order) by the known paths MediaMTX did not list, as `offline` with `listed: false`.
    public mutating func answered(_ samples: [PathSample], at ts: Int64, readAt: [String: Int64] = [:]) -> [PathSample] {
        unknownSince = nil
        var result = rates.derive(samples, at: ts, readAt: readAt)
        var listed = Set<String>()
        listed.reserveCapacity(result.count)
        for index in result.indices {
            var sample = result[index]
            listed.insert(sample.name)
            let state: PathState = sample.online ? .online : .offline
            let previous = known[sample.name]
            let since = previous?.state == state ? previous?.since ?? ts : ts
            var lastSeen = previous?.lastSeen
            if sample.online {
                lastSeen = LastSeen(ts: ts, bitrateIn: sample.bitrateIn, bitrateOut: sample.bitrateOut, readers: sample.readers)
            }
            sample.state = state
            sample.since = since
            sample.lastSeen = lastSeen
            known[sample.name] = Known(state: state, since: since, lastSeen: lastSeen, listedTs: ts,
                                       inbound: sample.inboundBytes, outbound: sample.outboundBytes,
                                       sourceType: sample.sourceType)
            result[index] = sample
        }
        guard known.count > listed.count else { return result }
        var absent: [PathSample] = []
        for (name, path) in known where !listed.contains(name) {
            guard ts - path.listedTs <= forgetAfterMs else {
                known[name] = nil
                continue
            }
            let since = path.state == .offline ? path.since : ts
            known[name]?.state = .offline
            known[name]?.since = since
            absent.append(.absent(name, inbound: path.inbound, outbound: path.outbound, since: since,
                                  lastSeen: path.lastSeen))
        }
        return (result + absent).sorted { $0.name < $1.name }
    }

    /// Every known path as `unknown`, for a poll MediaMTX did not answer: the last figures stay
    /// in `lastSeen`, none is current.
    public mutating func unanswered(at ts: Int64) -> [PathSample] {
        let since = unknownSince ?? ts
        unknownSince = since
        return known.sorted { $0.key < $1.key }.map { name, path in
            var sample = PathSample(name: name, online: false, sourceType: path.sourceType,
                                    inboundBytes: path.inbound, outboundBytes: path.outbound)
            sample.lastSeen = path.lastSeen
            return sample.unknown(since: since, at: ts)
        }
    }

    /// Whether a sample goes into the history file: every path MediaMTX listed, and once, at
    /// the poll it vanished, a path it stopped listing, so that "when did it go offline" is a
    /// row, told apart from a poll MediaMTX did not answer (that one has no rows at all).
    ///
    /// A sample whose figures are not plausible (`invalid`) is not stored: the gap is one poll.
    public static func isStored(_ sample: PathSample, at ts: Int64) -> Bool {
        sample.invalid == nil && (sample.listed != false || (sample.state == .offline && sample.since == ts))
    }
}

extension PathStates {
    /// A server's newest state rebuilt from what its history kept, by the rules `answered` and
    /// `unanswered` apply live: what `serve` shows when no snapshot is cached, so the newest known
    /// state is never hidden.
    ///
    /// `paths`: each path remembered since `answeredAt - forgetAfterMs` with its newest stored
    /// row. A path whose newest row is of the newest answered poll is as that row tells; one not
    /// listed then is `offline` (since its newest row, when that row says offline already). When
    /// polls failed after the answered one (`failedSince`), every path is `unknown` since then.
    public static func rebuilt(server: String, answeredAt ts: Int64, paths: [(known: RememberedPath, newest: PathSample)],
                               failedSince: Int64?, lastPollTs: Int64?, lastError: String?) -> Snapshot {
        let samples = paths.map { known, newest -> PathSample in
            guard known.ts == ts else {
                return .absent(known.name, inbound: known.inboundBytes, outbound: known.outboundBytes,
                               since: known.online ? nil : known.ts, lastSeen: known.lastSeen)
            }
            var sample = newest
            sample.state = sample.online ? .online : .offline
            sample.lastSeen = known.lastSeen
            return sample
        }
        guard let failedSince else { return Snapshot(ts: ts, paths: samples).named(server) }
        return Snapshot(ts: lastPollTs ?? ts, paths: samples.map { $0.unknown(since: failedSince, at: ts) },
                        reachable: false, error: lastError).named(server)
    }
}

extension PathSample {
    /// A known path MediaMTX did not list: `offline`, with its last figures in `lastSeen`.
    static func absent(_ name: String, inbound: Int64, outbound: Int64, since: Int64?, lastSeen: LastSeen?) -> PathSample {
        var sample = PathSample(name: name, online: false, inboundBytes: inbound, outboundBytes: outbound)
        sample.state = .offline
        sample.since = since
        sample.lastSeen = lastSeen
        sample.listed = false
        return sample
    }
}
