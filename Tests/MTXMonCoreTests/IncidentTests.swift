import MTXMonCore
import Testing

/// Incidents on literal polls at 2 s: each rule's hold and clear time, grouping by cause, the
/// notifier's resolve-for-every-firing, silences and counted limits.
@Suite struct IncidentTests {
    static let t0: Int64 = 1_800_000_000_000

    static func at(_ second: Int) -> Int64 { t0 + Int64(second) * 1_000 }

    static func path(_ name: String, online: Bool = true, reset: Bool = false,
                     health: StreamHealth.Verdict? = nil) -> PathSample {
        var path = PathSample(name: name, online: online, sourceType: online ? "rtspSession" : nil, sourceID: "pub",
                              bitrateIn: online ? 2_000_000 : nil, readers: 1, reset: reset)
        path.state = online ? .online : .offline
        if let health {
            let reasons = health == .degraded || health == .bad
                ? [StreamHealth.Reason(cause: .rtpLoss, verdict: health, value: health == .bad ? 12 : 3, unit: "%",
                                       text: "\(health == .bad ? 12 : 3) % of RTP packets lost", hint: "use TCP")]
                : []
            path.health = StreamHealth(verdict: health, reasons: reasons)
        }
        return path
    }

    static func poll(_ second: Int, _ paths: [PathSample]) -> Snapshot { Snapshot(ts: at(second), paths: paths) }

    /// Feeds polls every 2 s from `from` to `to` (seconds), `paths` choosing each poll's paths.
    static func run(_ tracker: inout IncidentTracker, from: Int, to: Int, server: String = "a",
                    _ paths: (Int) -> [PathSample]?) -> [Incident] {
        var changes: [Incident] = []
        for second in stride(from: from, through: to, by: 2) {
            if let listed = paths(second) {
                changes += tracker.answered(poll(second, listed), server: server)
            } else {
                changes += tracker.failed(server: server, at: at(second), reason: "connection refused")
            }
        }
        return changes
    }

    @Test func anOfflinePathOpensAfterItsHoldResolvesOnceAndCountsItsFlaps() {
        var tracker = IncidentTracker()
        // Online, gone from 10 s to 20 s (a graceful publisher restart of the capture), back.
        var changes = Self.run(&tracker, from: 0, to: 60) { s in
            (10..<22).contains(s) ? [] : [Self.path("cam")]
        }
        #expect(changes.map(\.status) == [.firing, .resolved])
        #expect(changes.first?.cause == .offline && changes.first?.severity == .critical)
        #expect(changes.first?.start == Self.at(10), "starts when it was first seen gone")
        #expect(changes.last?.end == Self.at(22), "ends when it was back, told after 10 s online")
        #expect(changes.first?.id == changes.last?.id)
        // A publisher that flaps within the clear time is one incident with a count.
        changes = Self.run(&tracker, from: 62, to: 140) { s in
            (70..<80).contains(s) || (84..<88).contains(s) ? [] : [Self.path("cam")]
        }
        #expect(changes.map(\.status) == [.firing, .firing, .resolved])
        #expect(changes.last?.count == 2)
        #expect(Set(changes.map(\.id)).count == 1)
    }

    @Test func onlyTheChosenPathsPageAndAPathGoneForGoodIsGivenUp() {
        var rules = IncidentRules()
        rules.offlinePaths = ["live/*"]
        rules.forgetAfterMs = 60_000
        var tracker = IncidentTracker(rules: rules)
        let changes = Self.run(&tracker, from: 0, to: 120) { s in
            s < 10 ? [Self.path("live/a"), Self.path("adhoc/b")] : []
        }
        #expect(changes.map(\.path) == ["live/a", "live/a"], "adhoc/b ended: no page")
        #expect(changes.map(\.status) == [.firing, .resolved])
        #expect(changes.last?.message.contains("given up, as the path is forgotten") == true)
        #expect(tracker.open.isEmpty)
    }

    @Test func aReconnectWithinAPollOpensNothing() {
        var tracker = IncidentTracker()
        let changes = Self.run(&tracker, from: 0, to: 40) { s in
            s == 10 ? [] : [Self.path("cam", reset: s == 12)]
        }
        #expect(changes.isEmpty, "a restart seen in one poll is an event and the stream's health, not an outage")
    }

    @Test func aServerOutageOwnsItsPathsReturnsAndResolvesAtItsFirstAnswer() {
        var tracker = IncidentTracker()
        let names = ["cam1", "rtmp1", "srt1"]
        // Down from 20 s to 40 s (the capture's MediaMTX restart); paths return with new counters,
        // one a poll later; one never returns.
        let changes = Self.run(&tracker, from: 0, to: 90) { s in
            if (20..<40).contains(s) { return nil }
            if s < 20 { return names.map { Self.path($0) } + [Self.path("gone")] }
            return [Self.path("cam1", reset: s == 40), Self.path("srt1", reset: s == 40)]
                + (s >= 42 ? [Self.path("rtmp1", reset: s == 42)] : [])
        }
        let server = changes.filter { $0.cause == .serverUnreachable }
        #expect(server.map(\.status) == [.firing, .resolved])
        #expect(server.first?.start == Self.at(20) && server.first?.severity == .critical)
        #expect(server.last?.end == Self.at(40), "resolved at the first answer")
        #expect(server.first?.paths == ["cam1", "gone", "rtmp1", "srt1"], "the paths it took down")
        #expect(!changes.contains { $0.cause == .serverRestart }, "the outage owns the restart")
        let offline = changes.filter { $0.cause == .offline }
        #expect(offline.map(\.path) == ["gone"], "only the path that did not come back")
        #expect(offline.first.map { $0.start >= Self.at(40) } == true)
    }

    @Test func aFailedPollOrTwoIsNotAnOutage() {
        var tracker = IncidentTracker()
        let changes = Self.run(&tracker, from: 0, to: 30) { s in s == 10 || s == 12 ? nil : [Self.path("cam")] }
        #expect(changes.isEmpty)
    }

    @Test func manyStreamsStartingAgainAtOnceAreOneRestart() {
        var tracker = IncidentTracker()
        let names = (0..<6).map { "p\($0)" }
        let changes = Self.run(&tracker, from: 0, to: 100) { s in names.map { Self.path($0, reset: s == 20) } }
        #expect(changes.map(\.status) == [.firing, .resolved])
        #expect(changes.first?.cause == .serverRestart && changes.first?.severity == .warning)
        #expect(changes.first?.paths == names)
        #expect(changes.last?.end == Self.at(22))
        #expect(changes.first?.message.contains("6 streams started again at once") == true)
    }

    @Test func qualityWarnsThenTurnsCriticalWhenBadLastsAndAFlappingLinkIsOneIncident() {
        var tracker = IncidentTracker()
        // Degraded 0–20 s, bad 20–60 s, good from 60 s.
        var changes = Self.run(&tracker, from: 0, to: 120) { s in
            [Self.path("cam", health: s < 20 ? .degraded : s < 60 ? .bad : .good)]
        }
        #expect(changes.map(\.severity) == [.warning, .critical, .critical])
        #expect(changes.map(\.status) == [.firing, .firing, .resolved])
        #expect(changes.first?.start == Self.at(0))
        #expect(changes.dropFirst().first.map { $0.detail.hasPrefix("bad: 12 % of RTP packets lost") } == true)
        #expect(changes.last?.peak == .critical && changes.last?.end == Self.at(60))
        // Degraded for 12 s of every 24 s: one incident that counts the returns.
        changes = Self.run(&tracker, from: 200, to: 400) { s in
            [Self.path("cam", health: s < 320 && (s - 200) % 24 < 12 ? .degraded : .good)]
        }
        #expect(changes.first?.status == .firing && changes.last?.status == .resolved)
        #expect(Set(changes.map(\.id)).count == 1)
        #expect((changes.last?.count ?? 0) >= 4)
        #expect(!changes.contains { $0.severity == .critical }, "degraded is never critical")
    }

    @Test func theRecordersOwnStoresAreIncidentsToo() {
        var tracker = IncidentTracker()
        var changes = tracker.recorderEvents([.store(.sqliteFailing, ts: Self.at(0), detail: "disk full")], at: Self.at(0))
        changes += tracker.recorderEvents([], at: Self.at(10))
        changes += tracker.recorderEvents([], at: Self.at(30))
        changes += tracker.recorderEvents([.store(.sqliteBack, ts: Self.at(40), detail: "")], at: Self.at(40))
        #expect(changes.map(\.cause) == [.storeFailing, .storeFailing, .storeFailing])
        #expect(changes.map(\.severity) == [.warning, .critical, .critical], "critical once it lasts 30 s")
        #expect(changes.last?.status == .resolved)
    }

    @Test func anIncidentEventCarriesTheWholeIncident() {
        var incident = Incident(id: Incident.makeID(cause: .serverRestart, server: "a", path: nil, subject: nil, start: Self.t0),
                                cause: .serverRestart, server: "a", path: nil, start: Self.t0, severity: .warning,
                                detail: "counters from 0")
        incident.paths = ["x", "y/z"]
        incident.count = 3
        incident.suppressed = 2
        incident.notified = .warning
        incident.end = Self.at(60)
        let event = incident.event(at: Self.at(61))
        #expect(event.kind == .incident && event.figures["status"] == .text("resolved"))
        #expect(Incident(event) == incident)
        #expect(incident.id.hasPrefix("inc-") && incident.id.count == 20)
        #expect(incident.id == Incident.makeID(cause: .serverRestart, server: "a", path: nil, subject: nil, start: Self.t0))
        #expect(incident.id != Incident.makeID(cause: .serverRestart, server: "b", path: nil, subject: nil, start: Self.t0))
    }

    @Test func anOpenIncidentTakenUpAgainResolvesWhenItsConditionIsGone() {
        var first = IncidentTracker()
        let opened = Self.run(&first, from: 0, to: 10) { s in s < 2 ? [Self.path("cam")] : [] }
        #expect(opened.map(\.status) == [.firing])
        var second = IncidentTracker()
        second.restore(first.open, now: Self.at(100))
        let changes = Self.run(&second, from: 100, to: 120) { _ in [Self.path("cam")] }
        #expect(changes.map(\.status) == [.resolved])
        #expect(changes.first?.id == opened.first?.id)
    }

    // MARK: Notifier

    static func incident(_ id: String, _ severity: MonitorEvent.Severity, server: String = "a", path: String? = "cam",
                         cause: Incident.Cause = .offline, end: Int64? = nil) -> Incident {
        var incident = Incident(id: id, cause: cause, server: server, path: path, start: t0, severity: severity, detail: "")
        incident.end = end
        return incident
    }

    @Test func everySentFiringIsResolvedWhateverTheMinimumSeverity() {
        var notifier = Notifier(minSeverity: .critical)
        #expect(notifier.decide(Self.incident("w", .warning), silences: [], at: Self.t0) == .suppressed(.severity))
        #expect(notifier.decide(Self.incident("w", .warning, end: Self.at(5)), silences: [], at: Self.at(5)) == .quiet,
                "nothing was sent, so no resolve")
        #expect(notifier.decide(Self.incident("c", .critical), silences: [], at: Self.t0) == .send)
        #expect(notifier.decide(Self.incident("c", .warning), silences: [], at: Self.at(2)) == .quiet, "a fall is not news")
        #expect(notifier.decide(Self.incident("c", .critical, end: Self.at(9)), silences: [], at: Self.at(9)) == .send)
        var lower = Notifier(minSeverity: .warning)
        #expect(lower.decide(Self.incident("q", .warning), silences: [], at: Self.t0) == .send)
        #expect(lower.decide(Self.incident("q", .critical), silences: [], at: Self.at(30)) == .send, "a rise is")
        #expect(lower.decide(Self.incident("q", .critical), silences: [], at: Self.at(32)) == .quiet)
        #expect(notifier.suppressedTotals == [.severity: 1])
    }

    @Test func aSilenceStopsSendingAndIsCounted() {
        var notifier = Notifier()
        let silence = Silence(id: "s1", server: "a", startsAt: Self.t0, endsAt: Self.at(600), comment: "planned restart")
        #expect(notifier.decide(Self.incident("x", .critical), silences: [silence], at: Self.at(1)) == .suppressed(.silenced))
        #expect(notifier.decide(Self.incident("y", .critical, server: "b"), silences: [silence], at: Self.at(1)) == .send)
        #expect(notifier.decide(Self.incident("z", .critical), silences: [silence], at: Self.at(600)) == .send, "it ended")
        #expect(notifier.suppressedTotals == [.silenced: 1])
        // A path pattern silences a server-wide incident only when every path it lists matches.
        var restart = Self.incident("r", .warning, path: nil, cause: .serverRestart)
        restart.paths = ["live/a", "live/b"]
        let live = Silence(id: "s2", path: "live/*", startsAt: Self.t0, endsAt: Self.at(60), comment: "x")
        #expect(live.matches(restart, at: Self.at(1)))
        restart.paths.append("studio/c")
        #expect(!live.matches(restart, at: Self.at(1)))
        #expect(Silence(id: "s3", startsAt: Self.t0, endsAt: Self.at(60), comment: "x").problem(now: Self.t0)?
            .contains("at least one matcher") == true)
        #expect(Silence(id: "s4", cause: "nope", startsAt: Self.t0, endsAt: Self.at(60), comment: "x").problem(now: Self.t0)?
            .contains("is not one of") == true)
    }

    /// A thousand paths offline 8 s of every 16 s for 40 s: a thousand incidents, each once, and what the rate
    /// limit holds back is counted; every sent firing still gets its resolve.
    @Test func aStormIsBoundedAndItsHeldBackNotificationsAreCounted() {
        var tracker = IncidentTracker()
        var notifier = Notifier(minSeverity: .warning, limit: 60, windowMs: 600_000)
        var sent: [String: [Incident.Status]] = [:]
        var opened = Set<String>()
        for second in stride(from: 0, through: 200, by: 2) {
            let paths = (0..<1_000).map { p in Self.path("p\(p)", online: !(10..<50).contains(second) || (second - 10) % 16 >= 8) }
            for incident in tracker.answered(Self.poll(second, paths), server: "a") {
                if incident.status == .firing { opened.insert(incident.id) }
                if notifier.decide(incident, silences: [], at: Self.at(second)) == .send {
                    sent[incident.id, default: []].append(incident.status)
                }
            }
        }
        #expect(opened.count == 1_000, "one incident per path, not one per flap")
        #expect(sent.count == 60)
        #expect(sent.values.allSatisfy { $0 == [.firing, .resolved] })
        // Each of the other 940 is held back at its opening and again at each return (3 in all).
        #expect(notifier.suppressedTotals == [.rateLimit: 940 * 3])
        #expect(tracker.open.isEmpty)
    }
}
