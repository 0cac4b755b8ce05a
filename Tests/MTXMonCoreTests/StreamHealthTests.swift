import MTXMonCore
import Testing

/// The stream health verdict on literal polls: each cause, its hysteresis, readers judged apart,
/// and the ranking summed from the events it tells.
@Suite struct StreamHealthTests {
    static let t0: Int64 = 1_800_000_000_000
    /// 2 s polls of a 5 Mbit/s RTSP publisher: about 520 RTP packets an interval.
    static let packets: Int64 = 520

    /// Counters of a poll: `lostShare` of each interval's packets lost since the previous poll.
    struct Feed {
        var received: Int64 = 0
        var lost: Int64 = 0
        var sentToReader: Int64 = 0
        var readerDiscarded: Int64 = 0
        var frames: Int64 = 0

        mutating func step(lossPercent: Double, discards: Int64 = 0, frames newFrames: Int64 = 0) {
            let lostNow = Int64(Double(StreamHealthTests.packets) * lossPercent / 100)
            received += StreamHealthTests.packets - lostNow
            lost += lostNow
            sentToReader += StreamHealthTests.packets
            readerDiscarded += discards
            frames += newFrames
        }
    }

    static func snapshot(_ i: Int, _ feed: Feed, online: Bool = true, reset: Bool = false) -> Snapshot {
        var path = PathSample(name: "cam", online: online, sourceType: online ? "rtspSession" : nil, sourceID: "pub",
                              bitrateIn: 5_000_000, readers: 1, inboundFramesInError: feed.frames, reset: reset)
        path.state = online ? .online : .offline
        var publisher = ConnectionSample(id: "pub", proto: .rtsp, role: .publisher, path: "cam", remoteAddr: "10.0.0.5:554",
                                         state: "publish")
        publisher.counters.rtpPacketsReceived = feed.received
        publisher.counters.rtpPacketsLost = feed.lost
        publisher.counters.rtpPacketsInError = 0
        var reader = ConnectionSample(id: "rd", proto: .webrtc, role: .reader, path: "cam", remoteAddr: "10.9.0.2:50000",
                                      state: "read")
        reader.counters.rtpPacketsSent = feed.sentToReader
        reader.counters.framesDiscarded = feed.readerDiscarded
        return Snapshot(ts: t0 + Int64(i) * 2_000, paths: [path], connections: online ? [publisher, reader] : [],
                        server: "edge")
    }

    /// Feeds polls through a tracker (for the deltas) and the judge, as the collector does.
    struct Run {
        var judge = HealthJudge(server: "edge")
        var tracker = ConnectionTracker(maxGapMs: 10_000)
        var feed = Feed()
        var i = 0
        var events: [MonitorEvent] = []

        mutating func poll(lossPercent: Double = 0, discards: Int64 = 0, frames: Int64 = 0,
                           online: Bool = true) -> StreamHealth {
            if i > 0 { feed.step(lossPercent: lossPercent, discards: discards, frames: frames) }
            var snapshot = StreamHealthTests.snapshot(i, feed, online: online)
            snapshot.connections = tracker.derive(snapshot.connections, at: snapshot.ts)
            events += judge.judge(&snapshot)
            i += 1
            return snapshot.paths[0].health!
        }
    }

    @Test func threePercentLossIsDegradedWithinThreePollsAndGoodAfterItStops() {
        var run = Run()
        for _ in 0..<6 { #expect(run.poll().verdict == .good) }
        var verdicts: [StreamHealth.Verdict] = []
        for _ in 0..<3 { verdicts.append(run.poll(lossPercent: 3).verdict) }
        #expect(verdicts.last == .degraded, "\(verdicts)")
        let health = run.poll(lossPercent: 3)
        let reason = try? #require(health.reasons.first)
        #expect(reason?.cause == .rtpLoss && reason?.verdict == .degraded)
        #expect(reason?.text.contains("% of RTP packets lost in the past 10 s") == true)
        #expect(reason?.text.contains("rtsp publisher 10.0.0.5:554") == true)
        #expect(reason?.hint.contains("try TCP transport or check the uplink") == true)
        #expect((health.rates?.rtpLossPercent ?? 0) > 2)
        // The loss stops: the window empties of it, and the verdict clears under half the threshold.
        var after: [StreamHealth.Verdict] = []
        for _ in 0..<6 { after.append(run.poll().verdict) }
        #expect(after.last == .good, "\(after)")
        #expect(run.events.map { $0.figures["verdict"] } == [.text("degraded"), .text("good")])
        #expect(run.events.first?.severity == .warning && run.events.first?.kind == .health)
        #expect(run.events.first?.message.hasPrefix("cam's stream is degraded: ") == true)
        #expect(run.events.last?.message == "cam's stream is good again (was degraded)")
    }

    @Test func lossHoveringAtTheThresholdDoesNotFlap() {
        var run = Run()
        _ = run.poll()
        for _ in 0..<5 { _ = run.poll(lossPercent: 1.5) }
        #expect(run.poll(lossPercent: 1.5).verdict == .degraded)
        // Under the threshold but over half of it: still degraded, no event.
        let before = run.events.count
        for _ in 0..<10 { #expect(run.poll(lossPercent: 0.8).verdict == .degraded) }
        #expect(run.events.count == before)
        for _ in 0..<6 { _ = run.poll(lossPercent: 0.2) }
        #expect(run.poll(lossPercent: 0.2).verdict == .good)
    }

    @Test func heavyLossIsBad() {
        var run = Run()
        _ = run.poll()
        for _ in 0..<4 { _ = run.poll(lossPercent: 12) }
        let health = run.poll(lossPercent: 12)
        #expect(health.verdict == .bad)
        #expect(run.events.last?.severity == .warning, "one verdict is a moment; its incident calls it critical once it lasts")
    }

    @Test func aSlowReaderIsNamedWithoutDegradingItsStream() {
        var run = Run()
        _ = run.poll()
        var health = run.poll(discards: 12)
        health = run.poll(discards: 12)
        #expect(health.verdict == .good)
        #expect(health.readers.map(\.cause) == [.discarded])
        #expect(health.readers.first?.connection == "rd")
        #expect(health.readers.first?.hint.contains("the stream and the other readers are fine") == true)
        #expect(run.events.isEmpty)
    }

    @Test func framesInErrorDegradeAndRestartsAreCounted() {
        var run = Run()
        _ = run.poll()
        let health = run.poll(frames: 4)
        #expect(health.verdict == .degraded)
        #expect(health.causes == [.framesInError])
        #expect(health.rates?.framesInError == 4)

        var judge = HealthJudge(server: "edge")
        var last: StreamHealth?
        for i in 0..<8 {
            var snapshot = Self.snapshot(i, Feed(), reset: i % 2 == 1)
            _ = judge.judge(&snapshot)
            last = snapshot.paths[0].health
        }
        #expect(last?.causes == [.restarts])
        #expect(last?.reasons.first?.text == "the publisher restarted 4 times in the past 10 min")
    }

    @Test func anUnhealthyStreamGoingOfflineSaysSoAndOfflineIsItsOwnVerdict() {
        var run = Run()
        _ = run.poll()
        for _ in 0..<3 { _ = run.poll(lossPercent: 5) }
        #expect(run.poll(online: false).verdict == .offline)
        #expect(run.events.last?.figures["verdict"] == .text("offline"))
        #expect(run.events.last?.severity == .info)
    }

    @Test func perPathLossThresholdsByPattern() {
        var rules = HealthRules()
        rules.pathLoss = [.init(pattern: "wifi/*", percent: 4), .init(pattern: "lab/*", percent: 0)]
        #expect(rules.loss(for: "wifi/cam")?.degraded == 4)
        #expect(rules.loss(for: "wifi/cam")?.bad == 20)
        #expect(rules.loss(for: "lab/x") == nil)
        #expect(rules.loss(for: "studio") == rules.loss)
    }

    @Test func theRankingSumsTimeUnhealthyFromTheEvents() {
        func event(_ path: String, _ atSeconds: Int64, _ verdict: String, _ previous: String, causes: String = "rtp_loss",
                   previousCauses: String = "") -> MonitorEvent {
            MonitorEvent(.health, severity: .warning, ts: Self.t0 + atSeconds * 1_000, server: "edge", path: path,
                         message: "", figures: ["verdict": .text(verdict), "previous": .text(previous),
                                                "causes": .text(verdict == "good" ? "" : causes),
                                                "previousCauses": .text(previousCauses)])
        }
        let from = Self.t0, to = Self.t0 + 3_600_000
        let events = [
            event("lossy", 100, "degraded", "good"), event("lossy", 1_900, "bad", "degraded", previousCauses: "rtp_loss"),
            event("lossy", 2_000, "good", "bad", previousCauses: "rtp_loss"),
            // Unhealthy from before the window: its first event tells what it was.
            event("glitchy", 60, "good", "degraded", previousCauses: "frames_in_error"),
        ]
        let current = [HealthRanking.Current(server: "edge", path: "stuck", verdict: .degraded, causes: [.srtDrops]),
                       HealthRanking.Current(server: "edge", path: "fine", verdict: .good, causes: [])]
        let ranks = HealthRanking.rank(events: events, current: current, from: from, to: to)
        #expect(ranks.map(\.path) == ["stuck", "lossy", "glitchy"])
        #expect(ranks[0].unhealthyMs == 3_600_000 && ranks[0].causes == [.srtDrops: 3_600_000])
        #expect(ranks[1].unhealthyMs == 1_900_000 && ranks[1].badMs == 100_000 && ranks[1].degradedMs == 1_800_000)
        #expect(ranks[1].causes == [.rtpLoss: 1_900_000] && ranks[1].changes == 3 && ranks[1].verdict == .good)
        #expect(ranks[2].unhealthyMs == 60_000 && ranks[2].causes == [.framesInError: 60_000])
    }
}
