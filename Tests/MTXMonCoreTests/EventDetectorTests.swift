import MTXMonCore
import Testing

/// The event rules on literal polls: what each change tells, and what one noisy sample does not.
@Suite struct EventDetectorTests {
    static let t0: Int64 = 1_800_000_000_000

    static func path(_ name: String, online: Bool = true, bitrate: Double? = 4_000_000, readers: Int = 1,
                     source: String = "rtspSession", reset: Bool = false) -> PathSample {
        var p = PathSample(name: name, online: online, sourceType: online ? source : nil, bitrateIn: online ? bitrate : nil,
                           readers: readers, reset: reset)
        p.state = online ? .online : .offline
        return p
    }

    static func publisher(_ path: String, _ address: String, id: String? = nil) -> ConnectionSample {
        ConnectionSample(id: id ?? "pub-\(address)", proto: .rtsp, role: .publisher, path: path, remoteAddr: address,
                         state: "publish")
    }

    static func poll(_ i: Int, _ paths: [PathSample], _ connections: [ConnectionSample] = []) -> Snapshot {
        Snapshot(ts: t0 + Int64(i) * 2_000, paths: paths, connections: connections, server: "edge")
    }

    @Test func pathsComingGoingRestartingAndChangingSource() {
        var detector = EventDetector(server: "edge")
        #expect(detector.answered(Self.poll(0, [Self.path("cam1", online: false)])).isEmpty, "a first poll tells nothing")
        let online = detector.answered(Self.poll(1, [Self.path("cam1")], [Self.publisher("cam1", "10.0.0.5:4000")]))
        #expect(online.map(\.kind) == [.online, .connected])
        #expect(online[0].message == "cam1 is online: rtspSession from 10.0.0.5:4000")
        #expect(online[0].severity == .info && online[0].server == "edge" && online[0].ts == Self.t0 + 2_000)
        #expect(online[0].figures["remoteAddr"] == .text("10.0.0.5:4000"))

        let moved = detector.answered(Self.poll(2, [Self.path("cam1", readers: 3, source: "srtConn", reset: true)],
                                                [Self.publisher("cam1", "10.0.0.7:9000")]))
        #expect(Set(moved.map(\.kind)) == [.reset, .sourceChanged, .readersJoined, .connected, .disconnected])
        let changed = moved.first { $0.kind == .sourceChanged }
        #expect(changed?.message == "cam1's source changed from rtspSession from 10.0.0.5:4000 to srtConn from 10.0.0.7:9000")
        #expect(moved.first { $0.kind == .readersJoined }?.message == "2 readers joined cam1: 3 now")
        #expect(moved.first { $0.kind == .reset }?.severity == .warning)

        let gone = detector.answered(Self.poll(3, []))
        #expect(gone.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.disconnected, .offline])
        #expect(gone.first { $0.kind == .offline }?.path == "cam1")
    }

    /// An outage changes nothing: what changed across it is told once when MediaMTX answers again.
    @Test func anOutageIsNoChangeOfAnyPath() {
        var detector = EventDetector()
        _ = detector.answered(Self.poll(0, [Self.path("a"), Self.path("b")]))
        // (polls 1–5 failed: the collector tells the server's outage, the detector sees nothing)
        let after = detector.answered(Self.poll(6, [Self.path("a"), Self.path("b", online: false)]))
        #expect(after.map(\.kind) == [.offline])
        #expect(after.first?.path == "b")
    }

    /// One low sample, or a dip shorter than the hold, tells nothing; a fall that holds is told
    /// once, and the way back once it holds above the higher share.
    @Test func aBitrateFallIsToldOnceItHoldsAndBackWithHysteresis() {
        var detector = EventDetector(rules: EventRules(bitrate: BitrateRule(dropShare: 0.5, holdMs: 6_000)))
        var events: [MonitorEvent] = []
        var i = 0
        func feed(_ rates: [Double]) {
            for rate in rates {
                events += detector.answered(Self.poll(i, [Self.path("cam", bitrate: rate)])).filter {
                    $0.kind == .bitrateLow || $0.kind == .bitrateBack
                }
                i += 1
            }
        }
        feed(Array(repeating: 4_000_000, count: 12))
        feed([1_000_000, 4_000_000, 1_000_000, 1_000_000, 4_000_000])  // noise: never 6 s below
        #expect(events.isEmpty)
        feed([1_500_000, 1_500_000, 1_500_000, 1_500_000])  // 6 s below half the median
        #expect(events.map(\.kind) == [.bitrateLow])
        #expect(events.first?.figures["median"] == .number(4_000_000))
        #expect(events.first?.message == "cam's bitrate fell to 1.5 Mbit/s from its usual 4 Mbit/s (under 50 % for 6 s)")
        feed([2_500_000, 2_500_000, 2_500_000, 2_500_000, 2_500_000])  // above half, under 70 %: still low
        #expect(events.count == 1)
        feed([3_000_000, 3_000_000, 3_000_000, 3_000_000])
        #expect(events.map(\.kind) == [.bitrateLow, .bitrateBack])
    }

    @Test func aPathShareOfZeroTurnsTheBitrateRuleOffForIt() {
        let rules = EventRules(pathShares: [.init(pattern: "backup/*", share: 0), .init(pattern: "live/*", share: 0.3)])
        #expect(rules.bitrateRule(for: "backup/cam") == nil)
        #expect(rules.bitrateRule(for: "live/a/b")?.dropShare == 0.3)
        #expect(rules.bitrateRule(for: "other")?.dropShare == 0.5)
        #expect(EventRules.matches("*cam*", "live/cam1") && !EventRules.matches("cam", "cam1"))
    }

    /// A connection list that failed neither connects nor disconnects its connections.
    @Test func aFailingListKeepsItsConnections() {
        var detector = EventDetector()
        let reader = ConnectionSample(id: "r1", proto: .rtmp, role: .reader, path: "cam", remoteAddr: "1.2.3.4:5")
        _ = detector.answered(Self.poll(0, [Self.path("cam")], [reader]))
        #expect(detector.answered(Self.poll(1, [Self.path("cam")]), failingLists: [.rtmp]).isEmpty)
        let left = detector.answered(Self.poll(2, [Self.path("cam")]))
        #expect(left.map(\.kind) == [.disconnected])
        #expect(left.first?.message == "reader 1.2.3.4:5 over rtmp disconnected from cam")
    }

    /// An SRT link whose loss turns critical and back is told twice, with the figures.
    @Test func srtVerdictChangesAreTold() {
        var detector = EventDetector()
        var events: [MonitorEvent] = []
        for i in 0..<30 {
            var c = ConnectionSample(id: "s1", proto: .srt, role: .publisher, path: "feed", remoteAddr: "9.9.9.9:1")
            c.rttMs = 20
            c.latencyMs = 200
            var deltas = ConnectionCounters()
            deltas.packetsReceivedDrop = (10..<13).contains(i) ? 5 : 0
            deltas.packetsReceivedLoss = 0
            deltas.packetsReceivedRetrans = 0
            c.deltas = deltas
            events += detector.answered(Self.poll(i, [Self.path("feed", source: "srtConn")], [c])).filter { $0.kind == .srtLoss }
        }
        #expect(events.map { $0.figures["verdict"] } == [.text("critical"), .text("ok")])
        #expect(events.first?.severity == .warning && events.first?.connection == "s1", "one moment: at most a warning")
        #expect(events.first?.figures["dropped10s"] == .number(5))
        #expect(events.first.map { $0.message.contains("drops packets") && !$0.message.contains("critical") } == true,
                "a warning's sentence does not say critical")
    }
}
