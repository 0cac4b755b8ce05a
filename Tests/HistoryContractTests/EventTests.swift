import History
import MTXMonCore
import Testing

/// Events come newest first, a page at a time, filtered; webhook deliveries oldest event first.
@Suite struct EventTests {
    typealias F = Fixture

    /// Six events, ids 1–6 in this order: two servers' paths, a server, and the recorder's own.
    static let events: [MonitorEvent] = [
        F.event(.online, .info, at: F.t(0), server: "a", path: "cam1"),
        F.event(.connected, .info, at: F.t(0), server: "a", path: "cam1"),
        F.event(.offline, .warning, at: F.t(10), server: "b", path: "cam2",
                figures: ["bitrate": 1_200.5, "cause": "publisher left"]),
        F.event(.bitrateLow, .warning, at: F.t(20), server: "a", path: "cam1"),
        F.event(.serverUnreachable, .critical, at: F.t(30), server: "b"),
        F.event(.sqliteFailing, .critical, at: F.t(40), server: nil),
    ]

    /// The events with their polls: 1–2 at 0 s on a, 3 at 10 s on b, and so on.
    static func polls(notify: Bool = false) -> [PollBatch] {
        [
            F.answered("a", at: F.t(0), [], events: Array(events[0...1]), notify: notify ? [0] : []),
            F.answered("b", at: F.t(10), [], events: [events[2]], notify: notify ? [0] : []),
            F.answered("a", at: F.t(20), [], events: [events[3]], notify: notify ? [0] : []),
            F.failed("b", at: F.t(30)).with(events: [events[4]]),
            F.answered("a", at: F.t(40), [], events: [events[5]]),
        ]
    }

    /// The ids of the page `query` asks for, and whether more follow.
    static func page(_ history: any HistoryReader, _ query: EventQuery) async throws -> ([Int64?], Bool) {
        let (events, more) = try await history.events(query)
        return (events.map(\.id), more)
    }

    @Test(arguments: Store.allCases)
    func eventsComeNewestFirstAPageAtATime(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        let report = try await history.append(Self.polls(), deliverTo: [])
        #expect(report.events == Self.events.enumerated().map { $1.stored(as: Int64($0 + 1)) })

        let all = EventQuery(from: F.t(0), to: F.t(40), limit: 2)
        var query = all
        #expect(try await Self.page(history, query) == ([6, 5], true))
        query.before = 5
        #expect(try await Self.page(history, query) == ([4, 3], true))
        query.before = 3
        #expect(try await Self.page(history, query) == ([2, 1], false))
        query = EventQuery(from: F.t(0), to: F.t(40), limit: 6)
        let (everything, more) = try await history.events(query)
        #expect(!more && everything.count == 6)
        #expect(everything[3] == Self.events[2].stored(as: 3), "figures, server and path read back as written")
    }

    @Test(arguments: Store.allCases)
    func eventsAreFilteredByTimeKindSeverityServerAndPath(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        _ = try await history.append(Self.polls(), deliverTo: [])
        let all = EventQuery(from: F.t(0), to: F.t(40))

        var query = all
        query.kinds = [.offline, .serverUnreachable]
        #expect(try await Self.page(history, query) == ([5, 3], false))
        query.kinds = []
        #expect(try await Self.page(history, query) == ([], false), "no kind asked for, none given")
        query = all
        query.minSeverity = .warning
        #expect(try await Self.page(history, query) == ([6, 5, 4, 3], false))
        query.minSeverity = .critical
        #expect(try await Self.page(history, query) == ([6, 5], false))
        query = all
        query.server = "a"
        #expect(try await Self.page(history, query) == ([4, 2, 1], false), "the recorder's own events name no server")
        query.path = "cam1"
        #expect(try await Self.page(history, query) == ([4, 2, 1], false))
        query.server = "b"
        #expect(try await Self.page(history, query) == ([], false))
        query = EventQuery(from: F.t(10), to: F.t(30))
        #expect(try await Self.page(history, query) == ([5, 4, 3], false))
        query.limit = 2
        query.minSeverity = .warning
        query.before = 5
        #expect(try await Self.page(history, query) == ([4, 3], false))
    }

    @Test(arguments: Store.allCases)
    func eventsAfterAnIdComeOldestFirst(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        #expect(try await history.lastEventID() == 0)
        _ = try await history.append(Self.polls(), deliverTo: [])
        #expect(try await history.events(after: 4, limit: 10).map(\.id) == [5, 6])
        #expect(try await history.events(after: 0, limit: 2).map(\.id) == [1, 2])
        #expect(try await history.events(after: 6, limit: 10).isEmpty)
        #expect(try await history.lastEventID() == 6)
    }

    static let a = "https://a.example/hook"
    static let b = "https://b.example/hook"

    @Test(arguments: Store.allCases)
    func deliveriesToAReceiverComeOutOldestEventFirst(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        // Owed: events 1, 3 and 4 (the first of each answered poll but the last), to both receivers.
        _ = try await history.append(Self.polls(notify: true), deliverTo: [Self.a, Self.b])

        let first = try #require(try await history.nextDelivery(to: Self.a))
        #expect(first == Delivery(target: Self.a, event: Self.events[0].stored(as: 1), attempts: 0, dueMs: 0))
        #expect(try await history.deliveryBacklog() == [
            DeliveryBacklog(target: Self.a, pending: 3, oldestTs: F.t(0), attempts: 0, lastError: nil),
            DeliveryBacklog(target: Self.b, pending: 3, oldestTs: F.t(0), attempts: 0, lastError: nil),
        ])

        try await history.retry(first, at: F.t(100), error: "503 Service Unavailable")
        let again = try #require(try await history.nextDelivery(to: Self.a))
        #expect(again == Delivery(target: Self.a, event: Self.events[0].stored(as: 1), attempts: 1, dueMs: F.t(100)),
                "still the oldest, due or not: a receiver sees events in order")
        #expect(try await history.deliveryBacklog().first == DeliveryBacklog(
            target: Self.a, pending: 3, oldestTs: F.t(0), attempts: 1, lastError: "503 Service Unavailable"))

        try await history.settle(again)
        #expect(try await history.nextDelivery(to: Self.a)?.event.id == 3)
        #expect(try await history.nextDelivery(to: Self.b)?.event.id == 1, "each receiver has its own queue")
        #expect(try await history.nextDelivery(to: "https://c.example/hook") == nil)
    }

    @Test(arguments: Store.allCases)
    func deliveriesToReceiversNoLongerConfiguredAreDroppedAndRenamedOnesMove(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        _ = try await history.append(Self.polls(notify: true), deliverTo: [Self.a, Self.b])

        #expect(try await history.dropDeliveries(notTo: [Self.a]) == 3)
        #expect(try await history.nextDelivery(to: Self.b) == nil)
        try await history.renameDeliveries(from: Self.a, to: "key-a")
        #expect(try await history.nextDelivery(to: Self.a) == nil)
        #expect(try await history.nextDelivery(to: "key-a")?.event.id == 1)
        #expect(try await history.deliveryBacklog() == [
            DeliveryBacklog(target: "key-a", pending: 3, oldestTs: F.t(0), attempts: 0, lastError: nil),
        ])
    }
}

extension PollBatch {
    func with(events: [MonitorEvent]) -> PollBatch {
        var copy = self
        copy.events = events
        return copy
    }
}
