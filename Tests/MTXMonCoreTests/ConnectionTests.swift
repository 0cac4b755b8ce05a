import Foundation
@testable import MTXMonCore
import Testing

@Suite struct ConnectionTrackerTests {
    func srt(_ id: String, in bytes: Int64, received: Int64, lost: Int64, drop: Int64) -> ConnectionSample {
        var counters = ConnectionCounters()
        counters.packetsReceived = received
        counters.packetsReceivedLoss = lost
        counters.packetsReceivedDrop = drop
        return ConnectionSample(id: id, proto: .srt, role: .publisher, path: "p", inboundBytes: bytes, counters: counters)
    }

    @Test func deltasAndBitratesFollowOneIdAndRestartWithItsCounters() {
        var tracker = ConnectionTracker(maxGapMs: 7_000)
        let first = tracker.derive([srt("a", in: 1_000, received: 100, lost: 1, drop: 0)], at: 0)
        #expect(first[0].deltas == nil)
        #expect(first[0].bitrateIn == nil)
        let second = tracker.derive([srt("a", in: 251_000, received: 300, lost: 4, drop: 1)], at: 2_000)
        #expect(second[0].bitrateIn == 1_000_000)
        #expect(second[0].deltas?.packetsReceived == 200)
        #expect(second[0].deltas?.lost(.publisher) == 3)
        #expect(second[0].deltas?.dropped(.publisher) == 1)
        // The same id with counters gone down: its counters restarted; the new values are the increase.
        let third = tracker.derive([srt("a", in: 5_000, received: 20, lost: 2, drop: 0)], at: 4_000)
        #expect(third[0].reset)
        #expect(third[0].bitrateIn == nil)
        #expect(third[0].deltas?.packetsReceived == 20)
        #expect(third[0].deltas?.packetsReceivedLoss == 2)
        // A new id is a new connection, even from the same address. Created since the previous
        // poll (its list was read then without it), its counters count from 0: they are the increase.
        let fourth = tracker.derive([srt("b", in: 9_000, received: 30, lost: 3, drop: 0)], at: 6_000)
        #expect(fourth[0].deltas?.packetsReceived == 30)
        #expect(fourth[0].deltas?.lost(.publisher) == 3)
        #expect(fourth[0].bitrateIn == nil)
        // An id seen again after a gap longer than the run rule: deltas, but no bitrate.
        _ = tracker.derive([srt("b", in: 10_000, received: 40, lost: 0, drop: 0)], at: 8_000)
        let late = tracker.derive([srt("b", in: 20_000, received: 50, lost: 0, drop: 0)], at: 20_000)
        #expect(late[0].deltas?.packetsReceived == 10)
        #expect(late[0].bitrateIn == nil)
    }

    /// At mtxmon's first poll nothing says when a connection began: no deltas. A connection of a
    /// protocol whose list the previous poll did not read is new only if MediaMTX's `created` is
    /// after that poll.
    @Test func countersAtAFirstPollAreIncreasesOnlyWhenTheConnectionIsNewer() {
        var tracker = ConnectionTracker(maxGapMs: 7_000)
        let first = tracker.derive([srt("a", in: 1_000, received: 100, lost: 1, drop: 0)], at: 10_000,
                                   listsRead: [.srt])
        #expect(first[0].deltas == nil)
        var old = ConnectionSample(id: "r1", proto: .rtmp, role: .publisher, inboundBytes: 5)
        old.createdMs = 9_000
        var new = ConnectionSample(id: "r2", proto: .rtmp, role: .publisher, inboundBytes: 5)
        new.createdMs = 11_000
        let second = tracker.derive([old, new], at: 12_000, listsRead: [.srt, .rtmp])
        #expect(second[0].deltas == nil)
        #expect(second[1].deltas != nil)
    }

    /// `idle` → `publish`: MediaMTX's idle SRT connection reports 0 bytes while data arrives, so
    /// the first interval after the change holds bytes from before it and gets no bitrate.
    @Test func theFirstIntervalAfterAStateChangeHasNoBitrate() {
        var tracker = ConnectionTracker(maxGapMs: 7_000)
        var idle = ConnectionSample(id: "a", proto: .srt, role: .idle, state: "idle", inboundBytes: 0)
        _ = tracker.derive([idle], at: 0)
        idle.role = .publisher
        idle.state = "publish"
        idle.inboundBytes = 2_080_000
        let publishing = tracker.derive([idle], at: 2_000)
        #expect(publishing[0].bitrateIn == nil)
        idle.inboundBytes = 2_870_000
        #expect(tracker.derive([idle], at: 4_000)[0].bitrateIn == 3_160_000)
    }

    @Test func createdAsMediaMTXWritesIt() {
        #expect(TimeArgument.rfc3339("2026-12-02T16:25:49.386444738Z") == 1_796_228_749_386)
        #expect(TimeArgument.rfc3339("2026-12-02 16:25:49") == nil)
    }

    @Test func rolesPickTheirSideOfTheCounters() {
        var deltas = ConnectionCounters()
        deltas.packetsReceivedLoss = 1
        deltas.packetsSendLoss = 2
        deltas.packetsSendDrop = 3
        deltas.packetsReceivedDrop = 4
        deltas.packetsRetrans = 5
        deltas.packetsReceivedRetrans = 6
        #expect(deltas.lost(.publisher) == 1)
        #expect(deltas.lost(.reader) == 2)
        #expect(deltas.dropped(.reader) == 3)
        #expect(deltas.dropped(.publisher) == 4)
        #expect(deltas.retransmitted(.reader) == 5)
        #expect(deltas.retransmitted(.publisher) == 6)
        var rtp = ConnectionCounters()
        rtp.rtpPacketsLost = 7
        rtp.rtpPacketsReportedLost = 8
        rtp.framesDiscarded = 9
        #expect(rtp.lost(.publisher) == 7)
        #expect(rtp.lost(.reader) == 8)
        #expect(rtp.dropped(.reader) == 9)
    }
}

@Suite struct LinkHealthTests {
    /// 30 polls 2 s apart ending at `now`; RTTs 10, 20, …, 100 ms repeating; 120 ms latency.
    func samples(now: Int64 = 60_000, rtt: (Int) -> Double = { Double($0 % 10 + 1) * 10 },
                 latency: Int64 = 120, lost: [Int: Int64] = [:], dropped: [Int: Int64] = [:]) -> [LinkSample] {
        (0..<30).map { i in
            LinkSample(ts: now - Int64(29 - i) * 2_000, rttMs: rtt(i), latencyMs: latency, lost: lost[i] ?? 0,
                       retransmitted: lost[i] ?? 0, dropped: dropped[i] ?? 0)
        }
    }

    @Test func rttWindowsByHand() throws {
        let health = LinkHealth.evaluate(samples(), now: 60_000)
        // Past 10 s: polls 25–29 (ts 52, 54, 56, 58, 60 s) → RTTs 60, 70, 80, 90, 100.
        let ten = try #require(health.rtt10s)
        #expect(ten.samples == 5)
        #expect(ten.p50 == 80)
        #expect(ten.p95 == 100)
        #expect(abs(ten.variation - 14.142_135_6) < 1e-6)  // sqrt(200)
        // Past 60 s: polls 0–29 → three rounds of 10…100: p50 50, p95 100, σ = sqrt(825).
        let minute = try #require(health.rtt60s)
        #expect(minute.samples == 30)
        #expect(minute.p50 == 50)
        #expect(minute.p95 == 100)
        #expect(abs(minute.variation - 28.722_813_2) < 1e-6)
    }

    @Test(arguments: [(25.0, LinkHealth.Level.ok), (30.0, .ok), (32.0, .warn), (40.0, .warn), (41.0, .critical)])
    func latencyMargin(rtt: Double, level: LinkHealth.Level) {
        let health = LinkHealth.evaluate(samples(rtt: { _ in rtt }), now: 60_000)
        #expect(health.margin == 120 / rtt)
        #expect(health.marginVerdict.level == level)
        #expect(health.marginVerdict.reason.contains("120 ms latency"))
        if level != .ok { #expect(health.marginVerdict.reason.contains("raise the SRT latency to at least \(Int((rtt * 4).rounded(.up))) ms")) }
    }

    @Test func lossClasses() {
        #expect(LinkHealth.evaluate(samples(), now: 60_000).lossVerdict.level == .ok)
        let recent = LinkHealth.evaluate(samples(lost: [10: 3], dropped: [12: 1]), now: 60_000)
        #expect(recent.lossVerdict.level == .recent)
        #expect(recent.loss60s.lost == 3)
        #expect(recent.loss60s.dropped == 1)
        #expect(recent.loss10s.lost == 0)
        let warn = LinkHealth.evaluate(samples(lost: [28: 5]), now: 60_000)
        #expect(warn.lossVerdict.level == .warn)
        #expect(warn.lossVerdict.reason.hasPrefix("5 packets lost in the past 10 s"))
        let critical = LinkHealth.evaluate(samples(lost: [28: 5], dropped: [29: 2]), now: 60_000)
        #expect(critical.lossVerdict.level == .critical)
        #expect(critical.lossVerdict.reason.hasPrefix("2 packets dropped"))
        #expect(critical.lossVerdict.rule == LinkHealth.lossRule)
    }

    /// RTTs only until 50 s before `now`: the margin rests on the 60 s window, and both the
    /// rule and the reason say so rather than naming the 10 s window that had nothing.
    @Test func anEmptyTenSecondWindowFallsBackToTheMinuteAndTheRuleSaysSo() throws {
        let stalled = samples(rtt: { _ in 40 }).enumerated().map { i, sample in
            var sample = sample
            if i >= 20 { sample.rttMs = nil }
            return sample
        }
        let health = LinkHealth.evaluate(stalled, now: 60_000)
        #expect(health.rtt10s == nil)
        let minute = try #require(health.rtt60s)
        #expect(minute.samples == 20, "polls 0–19 (ts 2–40 s) carry an RTT, none of 25–29 (ts 52–60 s)")
        #expect(minute.p95 == 40)
        #expect(health.margin == 3)
        #expect(health.marginVerdict.level == .warn)
        #expect(health.marginVerdict.rule == LinkHealth.marginRuleWithoutRecentRTT)
        #expect(health.marginVerdict.rule.contains("60 s p95"))
        #expect(!health.marginVerdict.rule.contains("10 s p95"))
        #expect(health.marginVerdict.reason.hasPrefix("120 ms latency is 3 × the RTT p95 of 40 ms over 60 s"))

        let recent = LinkHealth.evaluate(samples(rtt: { _ in 40 }), now: 60_000)
        #expect(recent.marginVerdict.rule == LinkHealth.marginRule)
        #expect(recent.marginVerdict.rule.contains("(10 s p95)"))
        #expect(recent.marginVerdict.reason.hasSuffix("over 10 s: retransmissions may not arrive in time; "
            + "raise the SRT latency to at least 160 ms"))
        #expect(LinkHealth.evaluate([], now: 60_000).marginVerdict.rule == LinkHealth.marginRuleUnjudged)
    }

    @Test func withoutFiguresTheVerdictIsUnknown() {
        let none = LinkHealth.evaluate([], now: 60_000)
        #expect(none.marginVerdict.level == .unknown)
        #expect(none.lossVerdict.level == .unknown)
        let old = LinkHealth.evaluate(samples(now: 1_000), now: 100_000)
        #expect(old.rtt60s == nil)
        let noLatency = LinkHealth.evaluate([LinkSample(ts: 59_000, rttMs: 20)], now: 60_000)
        #expect(noLatency.marginVerdict.level == .unknown)
        #expect(noLatency.marginVerdict.reason == "no TSBPD latency reported")
    }
}

@Suite struct LinkHealthExtremeTests {
    func samples(rtt: Double, latency: Int64 = 120, lost: Int64 = 0, dropped: Int64 = 0) -> [LinkSample] {
        (0..<5).map { i in
            LinkSample(ts: 60_000 - Int64(4 - i) * 2_000, rttMs: rtt, latencyMs: latency, lost: lost,
                       retransmitted: lost, dropped: dropped)
        }
    }

    /// Whatever MediaMTX reports, judging the link neither traps nor yields a figure JSON cannot
    /// carry: an RTT of next to nothing, one near the largest Double, counters near Int64.max.
    @Test(arguments: [1e-20, 5e-324, 1e-300, 1e300, Double.greatestFiniteMagnitude, 9.3e18, 0.001])
    func extremeRTTsAreJudgedAndEncoded(rtt: Double) throws {
        let health = LinkHealth.evaluate(samples(rtt: rtt), now: 60_000)
        #expect(health.marginVerdict.level != .unknown)
        if let margin = health.margin { #expect(margin.isFinite) }
        let window = try #require(health.rtt10s)
        #expect(window.p95 == rtt && window.variation.isFinite)
        #expect(health.marginVerdict.reason.contains("120 ms latency"))
        let json = try JSONEncoder().encode(health)
        #expect(!json.isEmpty)
    }

    @Test func aHugeRTTAdvisesAHugeLatencyWithoutTrapping() {
        let health = LinkHealth.evaluate(samples(rtt: 1e300), now: 60_000)
        #expect(health.marginVerdict.level == .critical)
        #expect(health.marginVerdict.reason.contains("raise the SRT latency to at least 4e+300 ms"))
        #expect(health.marginVerdict.reason.hasPrefix("120 ms latency is 0 × the RTT p95 of 1e+300 ms"))
    }

    @Test func aVanishingRTTIsPlentyOfMargin() {
        let health = LinkHealth.evaluate(samples(rtt: 5e-324), now: 60_000)
        #expect(health.marginVerdict.level == .ok)
        #expect(health.margin == nil)  // 120 ÷ 5e-324 is past any Double
        #expect(health.marginVerdict.reason.hasPrefix("120 ms latency is ∞ × the RTT p95"))
        let tiny = LinkHealth.evaluate(samples(rtt: 1e-20), now: 60_000)
        #expect(tiny.margin.map { abs($0 - 1.2e22) / 1.2e22 < 1e-12 } == true)
        #expect(tiny.marginVerdict.reason.hasPrefix("120 ms latency is 1.2"))
        #expect(tiny.marginVerdict.reason.contains("e+22 × the RTT p95 of 0 ms"))
    }

    @Test func lossSumsStopAtTheLargestCount() {
        let health = LinkHealth.evaluate(samples(rtt: 20, lost: .max, dropped: .max / 2), now: 60_000)
        #expect(health.loss10s.lost == .max)
        #expect(health.loss60s.dropped == .max)
        #expect(health.lossVerdict.level == .critical)
    }

    @Test func notANumberRTTsAreLeftOut() {
        let health = LinkHealth.evaluate([LinkSample(ts: 59_000, rttMs: .nan, latencyMs: 120),
                                          LinkSample(ts: 59_500, rttMs: .infinity, latencyMs: 120),
                                          LinkSample(ts: 60_000, rttMs: 30, latencyMs: 120)], now: 60_000)
        #expect(health.rtt10s?.samples == 1)
        #expect(health.margin == 4)
    }

    @Test func formattingNeverTraps() {
        #expect(LinkHealth.format(4) == "4")
        #expect(LinkHealth.format(3.14159) == "3.1")
        #expect(LinkHealth.format(.infinity) == "∞")
        #expect(LinkHealth.format(-.infinity) == "-∞")
        #expect(LinkHealth.format(.nan) == "?")
        #expect(LinkHealth.format(1e19) == "1e+19")
        #expect(LinkHealth.format(-1e19) == "-1e+19")
        #expect(LinkHealth.formatUp(160.2) == "161")
        #expect(LinkHealth.formatUp(4e300) == "4e+300")
    }

    /// Absent figures are `null` in the JSON, as the OpenAPI document says, not left out.
    @Test func absentFiguresAreEncodedAsNull() throws {
        let health = LinkHealth.evaluate([], now: 60_000)
        let encoded = try JSONEncoder().encode(health)
        let object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        for key in ["rtt10s", "rtt60s", "latencyMs", "margin"] { #expect(object[key] is NSNull, "\(key)") }
        let decoded = try JSONDecoder().decode(LinkHealth.self, from: JSONEncoder().encode(health))
        #expect(decoded == health)
    }
}

@Suite struct ConnectionExtremeTests {
    @Test func countersFromOddRepliesNeverTrap() {
        var before = ConnectionCounters()
        before.packetsReceived = -5
        before.packetsSent = .min
        var after = ConnectionCounters()
        after.packetsReceived = .max
        after.packetsSent = 10
        let delta = after.delta(since: before)
        #expect(delta.packetsReceived == .max)
        #expect(delta.packetsSent == 10)
        var tracker = ConnectionTracker(maxGapMs: 7_000)
        _ = tracker.derive([ConnectionSample(id: "a", proto: .rtmp, role: .publisher, inboundBytes: -9)], at: 0)
        let huge = ConnectionSample(id: "a", proto: .rtmp, role: .publisher, inboundBytes: .max)
        let next = tracker.derive([huge], at: 2_000)
        // Neither is a byte count: no bitrate, and the poll names the problem.
        #expect(next[0].bitrateIn == nil)
        #expect(tracker.problems.count == 1)
        #expect(tracker.problems.first?.contains("9223372036854775807") == true)
        let sane = tracker.derive([ConnectionSample(id: "a", proto: .rtmp, role: .publisher, inboundBytes: 1_000)],
                                  at: 4_000)
        #expect(sane[0].inboundBytes == 1_000)
        #expect(tracker.problems.isEmpty)
    }

    /// v1.20 reader types: an RTSP reader may be named by its connection; MoQ sessions have their
    /// list; MediaMTX's own (`hidden`) readers and types mtxmon has no list for are ignored.
    @Test func readerTypesOfV1_20() {
        #expect(ConnectionProtocol.of(type: "rtspConn") == .rtsp)
        #expect(ConnectionProtocol.of(type: "rtspsConn") == .rtsps)
        #expect(ConnectionProtocol.of(type: "rtspsSession") == .rtsps)
        #expect(ConnectionProtocol.of(type: "rtmpsConn") == .rtmps)
        #expect(ConnectionProtocol.of(type: "hlsSession") == .hls)
        #expect(ConnectionProtocol.of(type: "moqSession") == .moq)
        for type in ["hidden", "hlsMuxer", "rpiCameraSource", "somethingNew", ""] {
            #expect(ConnectionProtocol.of(type: type) == nil, "\(type)")
        }
    }
}
