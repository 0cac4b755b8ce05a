import Foundation
import History
import MTXMonCore
import PostgresNIO

/// Events in the order stored, and the webhook deliveries owed for them. Deliveries are claimed:
/// `nextDelivery` takes the oldest one owed to a receiver under `FOR UPDATE SKIP LOCKED` and
/// holds it for `claimMs`, so that several API nodes sending to one receiver send each event once;
/// a node that dies holding one lets it go when the claim runs out (delivery stays at least once).
extension PostgresHistory {
    static let eventColumns = "e.id, e.ts_ms, e.kind, e.severity, e.server, e.path, e.connection, e.message, e.figures"
    typealias EventRow = (Int64, Int64, String, String, String?, String?, String?, String, String?)

    static func event(_ c: EventRow) -> MonitorEvent? {
        guard let kind = MonitorEvent.Kind(rawValue: c.2), let severity = MonitorEvent.Severity(rawValue: c.3) else {
            return nil
        }
        var figures: [String: MonitorEvent.Figure] = [:]
        if let text = c.8, let parsed = try? JSONDecoder().decode([String: MonitorEvent.Figure].self, from: Data(text.utf8)) {
            figures = parsed
        }
        var event = MonitorEvent(kind, severity: severity, ts: c.1, server: c.4, path: c.5, connection: c.6,
                                 message: c.7, figures: figures)
        event.id = c.0
        return event
    }

    func events(_ query: PostgresQuery) async throws -> [MonitorEvent] {
        try await run { [self] client in
            var events: [MonitorEvent] = []
            for try await row in try await client.query(query, logger: self.logger).decode(EventRow.self) {
                if let event = Self.event(row) { events.append(event) }
            }
            return events
        }
    }

    public func events(_ query: EventQuery) async throws -> (events: [MonitorEvent], more: Bool) {
        let severities = MonitorEvent.Severity.allCases.filter { s in query.minSeverity.map { s >= $0 } ?? true }
            .map(\.rawValue)
        let kinds = query.kinds.map { $0.map(\.rawValue).sorted() }
        var b = PostgresBindings()
        b.append(query.from)
        b.append(query.to)
        b.append(query.server)
        b.append(query.path)
        b.append(query.before)
        b.append(kinds)
        b.append(severities)
        b.append(Int64(query.limit + 1))
        let found = try await events(PostgresQuery(unsafeSQL: """
            SELECT \(Self.eventColumns) FROM event e
            WHERE e.ts_ms BETWEEN $1 AND $2 AND ($3::text IS NULL OR e.server = $3) AND ($4::text IS NULL OR e.path = $4)
              AND ($5::bigint IS NULL OR e.id < $5) AND ($6::text[] IS NULL OR e.kind = ANY($6))
              AND e.severity = ANY($7)
            ORDER BY e.id DESC LIMIT $8
            """, binds: b))
        return (Array(found.prefix(query.limit)), found.count > query.limit)
    }

    public func events(after: Int64, limit: Int) async throws -> [MonitorEvent] {
        // A negative limit is none, as SQLite's LIMIT takes it.
        let limit: Int64? = limit < 0 ? nil : Int64(limit)
        var b = PostgresBindings()
        b.append(after)
        b.append(limit)
        return try await events(PostgresQuery(unsafeSQL: """
            SELECT \(Self.eventColumns) FROM event e WHERE e.id > $1 ORDER BY e.id LIMIT $2
            """, binds: b))
    }

    public func lastEventID() async throws -> Int64 {
        try await run { try await $0.query("SELECT coalesce(max(id), 0) FROM event", logger: self.logger).one(Int64.self) ?? 0 }
    }

    public func deliveryBacklog() async throws -> [DeliveryBacklog] {
        try await run { [self] client in
            var backlog: [DeliveryBacklog] = []
            for try await (target, pending, oldest, attempts, error) in try await client.query("""
                SELECT d.target, count(*), min(e.ts_ms), max(d.attempts),
                       (SELECT o.last_error FROM delivery o WHERE o.target = d.target ORDER BY o.event_id LIMIT 1)
                FROM delivery d JOIN event e ON e.id = d.event_id GROUP BY d.target
                """, logger: self.logger).decode((String, Int64, Int64?, Int32?, String?).self) {
                backlog.append(DeliveryBacklog(target: target, pending: Int(pending), oldestTs: oldest,
                                               attempts: Int(attempts ?? 0), lastError: error))
            }
            return backlog.sorted { $0.target < $1.target }
        }
    }

    /// How long a claimed delivery is another node's: longer than a send with its timeout takes.
    static let claimMs: Int64 = 60_000

    public func nextDelivery(to target: String) async throws -> Delivery? {
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        return try await transaction { [self] db in
            var owed: (eventID: Int64, attempts: Int32, due: Int64, claimed: Int64, by: String?)?
            // Only the oldest may be claimed, and skipped while another node claims it: skipping to
            // the next one would send a receiver's events out of order.
            for try await row in try await db.query("""
                SELECT event_id, attempts, due_ms, claimed_until, claimed_by FROM delivery
                WHERE target = \(target) AND event_id = (SELECT min(event_id) FROM delivery WHERE target = \(target))
                FOR UPDATE SKIP LOCKED
                """, logger: self.logger).decode((Int64, Int32, Int64, Int64, String?).self) {
                owed = row
            }
            guard let owed, owed.claimed <= now || owed.by == node else { return nil }
            let found = try await db.query(PostgresQuery(unsafeSQL: "SELECT \(Self.eventColumns) FROM event e WHERE e.id = $1",
                                                         binds: binds(owed.eventID)), logger: self.logger)
            var event: MonitorEvent?
            for try await row in found.decode(EventRow.self) { event = Self.event(row) }
            guard let event else { return nil }
            try await db.query("""
                UPDATE delivery SET claimed_until = \(now + Self.claimMs), claimed_by = \(node) WHERE target = \(target) AND event_id = \(owed.eventID)
                """, logger: self.logger)
            return Delivery(target: target, event: event, attempts: Int(owed.attempts), dueMs: owed.due)
        }
    }

    public func settle(_ delivery: Delivery) async throws {
        guard let id = delivery.event.id else { return }
        _ = try await run {
            try await $0.query("DELETE FROM delivery WHERE target = \(delivery.target) AND event_id = \(id)", logger: self.logger)
        }
    }

    public func retry(_ delivery: Delivery, at dueMs: Int64, error: String) async throws {
        guard let id = delivery.event.id else { return }
        let error = Text.clean(error)
        _ = try await run {
            try await $0.query("""
                UPDATE delivery SET attempts = attempts + 1, due_ms = \(dueMs), last_error = \(error), claimed_until = 0
                WHERE target = \(delivery.target) AND event_id = \(id)
                """, logger: self.logger)
        }
    }

    public func renameDeliveries(from url: String, to key: String) async throws {
        guard url != key else { return }
        try await transaction { [self] db in
            try await db.query("""
                UPDATE delivery d SET target = \(key) WHERE d.target = \(url)
                AND NOT EXISTS (SELECT 1 FROM delivery k WHERE k.target = \(key) AND k.event_id = d.event_id)
                """, logger: self.logger)
            try await db.query("DELETE FROM delivery WHERE target = \(url)", logger: self.logger)
        }
    }

    public func dropDeliveries(notTo targets: [String]) async throws -> Int {
        try await run { [self] client in
            try await client.query("""
                WITH gone AS (DELETE FROM delivery WHERE NOT (target = ANY(\(targets)::text[])) RETURNING 1)
                SELECT count(*) FROM gone
                """, logger: self.logger).one(Int64.self).map(Int.init) ?? 0
        }
    }
}
