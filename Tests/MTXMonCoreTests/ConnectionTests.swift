import MTXMonCore
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
        // A new id is a new connection, even from the same address: no deltas yet.
        let fourth = tracker.derive([srt("b", in: 9_000, received: 30, lost: 0, drop: 0)], at: 6_000)
        #expect(fourth[0].deltas == nil)
        // An id seen again after a gap longer than the run rule: deltas, but no bitrate.
        _ = tracker.derive([srt("b", in: 10_000, received: 40, lost: 0, drop: 0)], at: 8_000)
        let late = tracker.derive([srt("b", in: 20_000, received: 50, lost: 0, drop: 0)], at: 20_000)
        #expect(late[0].deltas?.packetsReceived == 10)
        #expect(late[0].bitrateIn == nil)
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
