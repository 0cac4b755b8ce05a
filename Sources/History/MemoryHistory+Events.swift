import MTXMonCore

/// Events and the webhook deliveries owed for them, in the file's order: events by id (the order
/// they were stored in), deliveries to a receiver oldest event first.
extension MemoryHistory {
    public func events(_ query: EventQuery) async throws -> (events: [MonitorEvent], more: Bool) {
        var page: [MonitorEvent] = []
        for event in events.reversed() where Self.matches(event, query) {
            guard page.count < query.limit else { return (page, true) }
            page.append(event)
        }
        return (page, false)
    }

    static func matches(_ e: MonitorEvent, _ q: EventQuery) -> Bool {
        e.ts >= q.from && e.ts <= q.to && (q.server == nil || e.server == q.server)
            && (q.path == nil || e.path == q.path) && (q.before.map { (e.id ?? 0) < $0 } ?? true)
            && (q.kinds?.contains(e.kind) ?? true) && (q.minSeverity.map { e.severity >= $0 } ?? true)
    }

    /// A negative `limit` is none, as SQL's `LIMIT` takes it.
    public func events(after: Int64, limit: Int) async throws -> [MonitorEvent] {
        let newer = events.filter { ($0.id ?? 0) > after }
        return limit < 0 ? newer : Array(newer.prefix(limit))
    }

    public func lastEventID() async throws -> Int64 { events.last?.id ?? 0 }

    public func deliveryBacklog() async throws -> [DeliveryBacklog] {
        let eventTs = Dictionary(events.compactMap { e in e.id.map { ($0, e.ts) } }, uniquingKeysWith: { a, _ in a })
        return Dictionary(grouping: deliveries, by: \.target).sorted { $0.key < $1.key }.map { target, owed in
            let oldest = owed.min { $0.eventID < $1.eventID }
            return DeliveryBacklog(target: target, pending: owed.count,
                                   oldestTs: owed.compactMap { eventTs[$0.eventID] }.min(),
                                   attempts: owed.map(\.attempts).max() ?? 0, lastError: oldest?.lastError)
        }
    }

    public func nextDelivery(to target: String) async throws -> Delivery? {
        guard let owed = deliveries.filter({ $0.target == target }).min(by: { $0.eventID < $1.eventID }),
              let event = events.first(where: { $0.id == owed.eventID }) else { return nil }
        return Delivery(target: target, event: event, attempts: owed.attempts, dueMs: owed.dueMs)
    }

    public func settle(_ delivery: Delivery) async throws {
        deliveries.removeAll { $0.target == delivery.target && $0.eventID == delivery.event.id }
    }

    public func retry(_ delivery: Delivery, at dueMs: Int64, error: String) async throws {
        for i in deliveries.indices where deliveries[i].target == delivery.target
            && deliveries[i].eventID == delivery.event.id {
            deliveries[i].attempts += 1
            deliveries[i].dueMs = dueMs
            deliveries[i].lastError = error
        }
    }

    /// Those owed under the URL move to the key, but for events the key is owed already.
    public func renameDeliveries(from url: String, to key: String) async throws {
        guard url != key else { return }
        let owedToKey = Set(deliveries.filter { $0.target == key }.map(\.eventID))
        for i in deliveries.indices where deliveries[i].target == url && !owedToKey.contains(deliveries[i].eventID) {
            deliveries[i].target = key
        }
        deliveries.removeAll { $0.target == url }
    }

    public func dropDeliveries(notTo targets: [String]) async throws -> Int {
        let kept = Set(targets)
        let before = deliveries.count
        deliveries.removeAll { !kept.contains($0.target) }
        return before - deliveries.count
    }
}
