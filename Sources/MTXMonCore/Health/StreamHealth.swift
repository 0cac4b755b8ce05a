/// One verdict per stream, for every protocol, with the reasons it rests on: what an operator
/// asks first ("is it fine?") and then ("why not, and what do I do?").
///
/// Judged from figures MediaMTX reports for any protocol (frames it could not decode, the
/// publisher's RTP loss and errors), from what SRT dropped, the bitrate-drop rule and restarts; readers' own troubles are named apart and never change the stream's verdict: a
/// slow reader is that reader's problem.
public struct StreamHealth: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable, CaseIterable {
        case good, degraded, bad, offline, unknown

        /// degraded or bad: time in these is what `/api/v1/health` ranks by.
        public var unhealthy: Bool { self == .degraded || self == .bad }

        var rank: Int {
            switch self {
            case .good: 0
            case .degraded: 1
            case .bad: 2
            case .offline, .unknown: 3
            }
        }
    }

    /// What a reason is about; its raw value names it in JSON, CSV, events and `/metrics`.
    public enum Cause: String, Codable, Sendable, CaseIterable {
        case framesInError = "frames_in_error"
        case rtpLoss = "rtp_loss"
        case rtpErrors = "rtp_errors"
        case srtDrops = "srt_drops"
        case bitrateLow = "bitrate_low"
        case restarts
    }

    /// One reason the stream is not good: its figure, in a sentence, and what to do.
    public struct Reason: Codable, Sendable, Equatable {
        public var cause: Cause
        /// degraded or bad.
        public var verdict: Verdict
        public var value: Double
        public var unit: String
        public var text: String
        /// One line for the operator: where the trouble lies and what to try.
        public var hint: String

        public init(cause: Cause, verdict: Verdict, value: Double, unit: String, text: String, hint: String) {
            self.cause = cause
            self.verdict = verdict
            self.value = value
            self.unit = unit
            self.text = text
            self.hint = hint
        }
    }

    /// A reader in trouble: named, with its figure and a hint, but the stream stays as judged.
    public struct ReaderIssue: Codable, Sendable, Equatable {
        public enum Cause: String, Codable, Sendable {
            /// The reader reports RTP packets lost on its way (RTCP receiver reports).
            case reportedLoss = "reported_loss"
            /// MediaMTX gave up frames or packets the reader could not take in time.
            case discarded
        }

        public var connection: String
        public var proto: ConnectionProtocol
        public var remoteAddr: String?
        public var cause: Cause
        public var value: Double
        public var text: String
        public var hint: String

        enum CodingKeys: String, CodingKey {
            case connection, proto = "protocol", remoteAddr, cause, value, text, hint
        }
    }

    /// The figures judged, over the sliding window, whether or not they make a reason: what
    /// `/metrics` exposes as error-rate gauges.
    public struct Rates: Codable, Sendable, Equatable {
        public var windowMs: Int64
        /// % of the publisher's RTP packets lost; `nil` with too few packets or no RTP publisher.
        public var rtpLossPercent: Double?
        public var rtpErrorPercent: Double?
        /// % of the SRT publisher's packets dropped as too late.
        public var srtDropPercent: Double?
        /// Frames MediaMTX could not decode within the window; `nil` where it does not report them.
        public var framesInError: Int64?

        public init(windowMs: Int64, rtpLossPercent: Double? = nil, rtpErrorPercent: Double? = nil,
                    srtDropPercent: Double? = nil, framesInError: Int64? = nil) {
            self.windowMs = windowMs
            self.rtpLossPercent = rtpLossPercent
            self.rtpErrorPercent = rtpErrorPercent
            self.srtDropPercent = srtDropPercent
            self.framesInError = framesInError
        }
    }

    public var verdict: Verdict
    public var reasons: [Reason]
    /// Readers in trouble; they do not change `verdict`.
    public var readers: [ReaderIssue]
    public var rates: Rates?

    public init(verdict: Verdict, reasons: [Reason] = [], readers: [ReaderIssue] = [], rates: Rates? = nil) {
        self.verdict = verdict
        self.reasons = reasons
        self.readers = readers
        self.rates = rates
    }

    /// The reasons' causes, in order: what a change of health is told by besides the verdict.
    public var causes: [Cause] { reasons.map(\.cause) }
}

/// The thresholds a stream is judged by. Each figure has a level to become degraded and one to
/// become bad; it stays at a level until the figure falls under `clearShare` of that level's
/// threshold (hysteresis), so a figure hovering at a threshold does not flap.
public struct HealthRules: Sendable, Equatable {
    public struct Threshold: Sendable, Equatable {
        public var degraded: Double
        public var bad: Double

        public init(degraded: Double, bad: Double) {
            self.degraded = degraded
            self.bad = bad
        }
    }

    /// The sliding window the publisher's rates are taken over. 10 s is five 2 s polls: a
    /// lasting 3 % loss crosses 1 % at the second poll, one lost burst is diluted by four
    /// clean polls.
    public var windowMs: Int64 = 10_000
    /// RTP packets lost, % of those expected (received + lost), at the publisher.
    public var loss = Threshold(degraded: 1, bad: 5)
    /// RTP packets in error, % of those received.
    public var errors = Threshold(degraded: 0.1, bad: 1)
    /// SRT packets dropped as too late to play, % of those received: each is a gap in the picture
    /// or sound, so the thresholds are low.
    public var srtDrops = Threshold(degraded: 0.1, bad: 1)
    /// Frames MediaMTX could not decode within the window: each one is a visible glitch.
    public var framesInError = Threshold(degraded: 1, bad: 25)
    /// Publisher restarts (counter resets) within `restartWindowMs`.
    public var restarts = Threshold(degraded: 3, bad: 10)
    public var restartWindowMs: Int64 = 600_000
    /// A reader reporting this % of the packets sent to it lost is named.
    public var readerLoss: Double = 2
    /// A figure leaves a level once under this share of the level's threshold.
    public var clearShare: Double = 0.5
    /// Per-path loss thresholds by name pattern (`*` any run), first match wins; a degraded
    /// threshold of 0 leaves loss unjudged for those paths.
    public var pathLoss: [PathLoss] = []

    public struct PathLoss: Sendable, Equatable {
        public var pattern: String
        public var percent: Double

        public init(pattern: String, percent: Double) {
            self.pattern = pattern
            self.percent = percent
        }
    }

    public init() {}

    /// The loss threshold for `path`; `nil` when loss is not judged there.
    public func loss(for path: String) -> Threshold? {
        guard let match = pathLoss.first(where: { EventRules.matches($0.pattern, path) }) else { return loss }
        guard match.percent > 0 else { return nil }
        return Threshold(degraded: match.percent, bad: max(match.percent, loss.bad * match.percent / loss.degraded))
    }
}
