import MTXMonCore
import Testing

@Suite struct RateTrackerTests {
    func sample(_ name: String, inbound: Int64, outbound: Int64 = 0, source: String? = nil) -> PathSample {
        PathSample(name: name, online: true, sourceID: source, inboundBytes: inbound, outboundBytes: outbound)
    }

    @Test func firstSampleOfARunHasNoBitrate() {
        var tracker = RateTracker(maxGapMs: 7_000)
        let out = tracker.derive([sample("a", inbound: 1_000)], at: 0)
        #expect(out[0].bitrateIn == nil)
        #expect(out[0].bitrateOut == nil)
        #expect(out[0].reset == false)
    }

    @Test func bitrateIsTheCounterDeltaOverTheRealElapsedTime() {
        var tracker = RateTracker(maxGapMs: 7_000)
        _ = tracker.derive([sample("a", inbound: 1_000, outbound: 0)], at: 10_000)
        // 500,000 bytes in 2,000 ms = 2,000,000 bit/s; 250,000 bytes out in 2,000 ms = 1,000,000 bit/s.
        let out = tracker.derive([sample("a", inbound: 501_000, outbound: 250_000)], at: 12_000)
        #expect(out[0].bitrateIn == 2_000_000)
        #expect(out[0].bitrateOut == 1_000_000)
        // A late poll: same bytes over 2,500 ms.
        let late = tracker.derive([sample("a", inbound: 1_001_000, outbound: 250_000)], at: 14_500)
        #expect(late[0].bitrateIn == 1_600_000)
        #expect(late[0].bitrateOut == 0)
    }

    @Test func aPathOnALaterPageIsTimedByItsOwnPage() {
        var tracker = RateTracker(maxGapMs: 7_000)
        // "b" sits on page 2: read 20 ms after the poll's timestamp, then 120 ms after it.
        _ = tracker.derive([sample("a", inbound: 0), sample("b", inbound: 0)], at: 10_000, readAt: ["b": 10_020])
        let out = tracker.derive([sample("a", inbound: 500_000), sample("b", inbound: 525_000)], at: 12_000,
                                 readAt: ["b": 12_120])
        #expect(out[0].bitrateIn == 2_000_000)
        // 525,000 bytes in 2,100 ms: 2,000,000 bit/s, where the poll's timestamps would say 2,100,000.
        #expect(out[1].bitrateIn == 2_000_000)
    }

    @Test func aCounterThatGoesDownIsAResetNotANegativeRate() {
        var tracker = RateTracker(maxGapMs: 7_000)
        _ = tracker.derive([sample("a", inbound: 9_000_000)], at: 0)
        let reset = tracker.derive([sample("a", inbound: 100_000)], at: 2_000)
        #expect(reset[0].reset)
        #expect(reset[0].bitrateIn == nil)
        let next = tracker.derive([sample("a", inbound: 600_000)], at: 4_000)
        #expect(next[0].reset == false)
        #expect(next[0].bitrateIn == 2_000_000)
    }

    /// The path is judged against its reading from before it vanished: back with counters that
    /// went on (the same publisher, the list was only missing it) it is no restart.
    @Test func aPathThatVanishesIsJudgedAgainstItsLastReadingWhenItReturns() {
        var tracker = RateTracker(maxGapMs: 7_000)
        _ = tracker.derive([sample("a", inbound: 1_000), sample("b", inbound: 1_000)], at: 0)
        _ = tracker.derive([sample("b", inbound: 2_000)], at: 2_000)
        let back = tracker.derive([sample("a", inbound: 50_000), sample("b", inbound: 3_000)], at: 4_000)
        #expect(back[0].bitrateIn == 98_000)
        #expect(back[0].reset == false)
        #expect(back[1].bitrateIn == 4_000)
    }

    /// The one restart rule: a new source id, or a counter that went down, against the path's
    /// last reading however long it was absent (MediaMTX restarted, or its publisher came back).
    @Test func aNewSourceIsARestartEvenAfterAnAbsenceAndEvenWhenCountersGrew() {
        var tracker = RateTracker(maxGapMs: 7_000)
        _ = tracker.derive([sample("a", inbound: 1_000, source: "s1")], at: 0)
        _ = tracker.derive([], at: 2_000)
        _ = tracker.derive([], at: 4_000)
        let back = tracker.derive([sample("a", inbound: 5_000, source: "s2")], at: 30_000)
        #expect(back[0].reset)
        #expect(back[0].bitrateIn == nil)
        let lower = tracker.derive([sample("a", inbound: 100, source: "s2")], at: 32_000)
        #expect(lower[0].reset, "a counter that went down with the same source")
        let steady = tracker.derive([sample("a", inbound: 600, source: "s2")], at: 34_000)
        #expect(steady[0].reset == false)
        #expect(steady[0].bitrateIn == 2_000)
    }

    /// A path without a publisher (a configured path, listed offline) is no restart; the publisher
    /// that comes next is, once.
    @Test func aConfiguredPathWithoutPublisherRestartsOnceWhenOneComes() {
        var tracker = RateTracker(maxGapMs: 7_000)
        _ = tracker.derive([sample("a", inbound: 9_000, source: "s1")], at: 0)
        let idle = tracker.derive([PathSample(name: "a", online: false, inboundBytes: 0)], at: 2_000)
        #expect(idle[0].reset == false)
        let back = tracker.derive([sample("a", inbound: 500, source: "s2")], at: 4_000)
        #expect(back[0].reset)
        let next = tracker.derive([sample("a", inbound: 1_000, source: "s2")], at: 6_000)
        #expect(next[0].reset == false)
    }

    /// A path absent for longer than the forget time is a new path when it comes back.
    @Test func aPathIsForgottenAfterTheForgetTime() {
        var tracker = RateTracker(maxGapMs: 7_000, forgetAfterMs: 60_000)
        _ = tracker.derive([sample("a", inbound: 9_000, source: "s1")], at: 0)
        _ = tracker.derive([], at: 120_000)
        let back = tracker.derive([sample("a", inbound: 100, source: "s2")], at: 122_000)
        #expect(back[0].reset == false)
    }

    @Test func aGapLongerThanTheLimitStartsANewRun() {
        var tracker = RateTracker(maxGapMs: 7_000)
        _ = tracker.derive([sample("a", inbound: 0)], at: 0)
        let out = tracker.derive([sample("a", inbound: 10_000)], at: 7_001)
        #expect(out[0].bitrateIn == nil)
        #expect(out[0].reset == false)
    }

    @Test func bitrateRejectsNoElapsedTimeAndDecreases() {
        #expect(CounterRule.bitrate(previous: 0, current: 10, elapsedMs: 0) == nil)
        #expect(CounterRule.bitrate(previous: 10, current: 5, elapsedMs: 1_000) == nil)
        #expect(CounterRule.bitrate(previous: 0, current: 125, elapsedMs: 1_000) == 1_000)
    }

    @Test func minusOneThenTheLargestCounterAreNoReadingsAndNamed() {
        var tracker = RateTracker(maxGapMs: 7_000)
        _ = tracker.derive([sample("a", inbound: 500)], at: 0)
        let minus = tracker.derive([sample("a", inbound: -1)], at: 2_000)
        #expect(minus[0].invalid?.contains("-1") == true)
        #expect(minus[0].inboundBytes == 500)
        #expect(!PathStates.isStored(minus[0], at: 2_000))
        let out = tracker.derive([sample("a", inbound: .max)], at: 4_000)
        #expect(out[0].invalid?.contains("9223372036854775807") == true)
        #expect(out[0].bitrateIn == nil)
        #expect(!out[0].reset)
        // The next sane reading is judged against the last sane one, 6 s before.
        let back = tracker.derive([sample("a", inbound: 6_500)], at: 6_000)
        #expect(back[0].invalid == nil)
        #expect(!back[0].reset)
        #expect(back[0].bitrateIn == 8_000)
    }

    @Test func aClimbFasterThanAnyLinkIsARestart() {
        var tracker = RateTracker(maxGapMs: 7_000)
        _ = tracker.derive([sample("a", inbound: 1_000)], at: 0)
        // 2^52 bytes in 2 s: some 18 Pbit/s.
        let out = tracker.derive([sample("a", inbound: 1 << 52)], at: 2_000)
        #expect(out[0].reset)
        #expect(out[0].bitrateIn == nil)
        let next = tracker.derive([sample("a", inbound: (1 << 52) + 500_000)], at: 4_000)
        #expect(!next[0].reset)
        #expect(next[0].bitrateIn == 2_000_000)
    }
}

@Suite struct CounterRuleTests {
    static let extremes: [Int64] = [.min, -1, 0, 1, 1 << 53, .max - 1, .max]

    @Test func increasesNeverTrapAndAreNeverNegative() {
        for a in Self.extremes {
            for b in Self.extremes {
                #expect(CounterRule.increase(a, b) >= 0)
                #expect(CounterRule.increase(a, b, reset: true) == max(0, b))
                _ = CounterRule.bitrate(previous: a, current: b, elapsedMs: 2_000)
                _ = CounterRule.rawBitrate(previous: a, current: b, elapsedMs: 1)
                _ = CounterRule.jumpedBeyondReason(previous: a, current: b, elapsedMs: 0)
                _ = PairIncreases(CounterRow(ts: a, inboundBytes: a, outboundBytes: b, readers: Int(truncatingIfNeeded: b),
                                             srtPacketsReceived: a, srtPacketsLost: b),
                                  CounterRow(ts: b, inboundBytes: b, outboundBytes: a, srtPacketsReceived: b),
                                  readerGapMs: .max)
                _ = a.addingSaturating(b)
                _ = a.subtractingSaturating(b)
                _ = a.multipliedSaturating(by: b)
            }
        }
        #expect(Int64.max.addingSaturating(1) == .max)
        #expect(Int64.min.addingSaturating(-1) == .min)
        #expect(Int64.min.subtractingSaturating(1) == .min)
        #expect(Int64(clamping: Double.nan) == 0)
        #expect(Int64(clamping: 1e300) == .max)
    }

    @Test func theRuleIsTheDifferenceOrAllOfTheNewCounter() {
        #expect(CounterRule.increase(100, 250) == 150)
        #expect(CounterRule.increase(250, 100) == 100)
        #expect(CounterRule.increase(nil, 7) == 7)
        #expect(CounterRule.increase(7, nil) == nil)
        #expect(CounterRule.restarted(previousSource: "a", source: "b", previous: (0, 0), current: (5, 5)))
        #expect(!CounterRule.restarted(previousSource: "a", source: nil, previous: (0, 0), current: (5, 5)))
        #expect(CounterRule.restarted(previousSource: nil, source: nil, previous: (5, 0), current: (4, 9)))
    }
}

@Suite struct OutageTrackerTests {
    @Test func logsOnceWhenAnOutageStartsAndOnceWhenItEnds() {
        var tracker = OutageTracker()
        #expect(tracker.recordSuccess(at: 0) == nil)
        #expect(tracker.recordFailure(at: 2_000, reason: "down") == .started(reason: "down"))
        #expect(tracker.recordFailure(at: 4_000, reason: "down") == nil)
        #expect(tracker.recordFailure(at: 6_000, reason: "other") == nil)
        #expect(tracker.inOutage)
        #expect(tracker.recordSuccess(at: 8_000) == .ended(failedPolls: 3, sinceMs: 6_000))
        #expect(tracker.recordSuccess(at: 10_000) == nil)
        #expect(!tracker.inOutage)
    }
}

@Suite struct DurationParserTests {
    @Test(arguments: [("500ms", 500), ("2s", 2_000), ("5m", 300_000), ("1h", 3_600_000), ("7d", 604_800_000),
                      ("1w", 604_800_000), ("3", 3_000), ("1.5s", 1_500), (" 2s ", 2_000), ("0", 0)])
    func parses(_ text: String, _ ms: Int64) throws {
        #expect(try DurationParser.milliseconds(text) == ms)
    }

    @Test(arguments: ["", "s", "-2s", "2x", "two", "1e3s", "9999999999999w", "2 s"])
    func rejectsWithAnExample(_ text: String) {
        #expect(throws: DurationParser.Invalid.self) { try DurationParser.milliseconds(text) }
        let message = DurationParser.Invalid(text: text).description
        #expect(message.contains("e.g. 2s"))
    }
}

@Suite struct BackoffTests {
    @Test func doublesUpToTheMaximumAndResets() {
        var backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(3))
        #expect([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()]
            == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(3), .seconds(3)])
        backoff.reset()
        #expect(backoff.next() == .milliseconds(500))
    }
}
