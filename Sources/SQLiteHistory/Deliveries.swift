import CSQLite
import Foundation
import History
import HistoryChunks
import MTXMonCore

extension SQLiteHistory {
    /// The oldest delivery owed to `target` (deliveries go out in the order the events were
    /// stored, so a receiver sees each path's events in order), due or not.
    public func nextDelivery(to target: String) throws(SQLiteError) -> Delivery? {
        try writer.withLock { state throws(SQLiteError) -> Delivery? in
            let s = try state.connection.cached("""
                SELECT d.attempts, d.due_ms, e.id, e.ts_ms, e.kind, e.severity, v.name, e.path, e.connection, e.message,
                       e.figures
                FROM delivery AS d JOIN event AS e ON e.id = d.event_id LEFT JOIN server AS v ON v.id = e.server_id
                WHERE d.target = ? ORDER BY d.event_id LIMIT 1
                """)
            s.bind(1, target)
            defer { s.reset() }
            guard try s.step(), let event = EventJSON.event(s, at: 2) else { return nil }
            return Delivery(target: target, event: event, attempts: Int(s.int64(0)), dueMs: s.int64(1))
        }
    }

    /// The receiver took it (or refused it for good): it is owed no more.
    public func settle(_ delivery: Delivery) throws(SQLiteError) {
        try writer.withLock { state throws(SQLiteError) in
            let s = try state.connection.cached("DELETE FROM delivery WHERE target = ? AND event_id = ?")
            s.bind(1, delivery.target)
            s.bind(2, delivery.event.id)
            try s.run()
        }
    }

    /// Tried and failed: tried again at `dueMs`.
    public func retry(_ delivery: Delivery, at dueMs: Int64, error: String) throws(SQLiteError) {
        try writer.withLock { state throws(SQLiteError) in
            let s = try state.connection.cached("""
                UPDATE delivery SET attempts = attempts + 1, due_ms = ?3, last_error = ?4 WHERE target = ?1 AND event_id = ?2
                """)
            s.bind(1, delivery.target)
            s.bind(2, delivery.event.id)
            s.bind(3, dueMs)
            s.bind(4, error)
            try s.run()
        }
    }

    /// Deliveries queued under a receiver's whole URL (by an mtxmon that kept credentials in the
    /// file) move to its key, so they are sent and the credentials leave the queue.
    public func renameDeliveries(from url: String, to key: String) throws(SQLiteError) {
        guard url != key else { return }
        try writer.withLock { state throws(SQLiteError) in
            let s = try state.connection.cached("UPDATE OR IGNORE delivery SET target = ?2 WHERE target = ?1")
            s.bind(1, url)
            s.bind(2, key)
            try s.run()
            let rest = try state.connection.cached("DELETE FROM delivery WHERE target = ?")
            rest.bind(1, url)
            try rest.run()
        }
    }

    /// Deliveries owed to receivers no longer configured are dropped; their count is returned.
    public func dropDeliveries(notTo targets: [String]) throws(SQLiteError) -> Int {
        try writer.withLock { state throws(SQLiteError) -> Int in
            let s = try state.connection.cached(
                "DELETE FROM delivery WHERE target NOT IN (SELECT value FROM json_each(?))")
            s.bind(1, EventJSON.array(targets))
            try s.run()
            return state.connection.changes
        }
    }

    /// Each receiver's backlog.
    public func deliveryBacklog() throws -> [DeliveryBacklog] {
        try read { try $0.deliveryBacklog() }
    }
}

extension ReadConnection {
    /// Each receiver's backlog.
    public func deliveryBacklog() throws -> [DeliveryBacklog] {
        let s = try connection.cached("""
            SELECT d.target, count(*), min(e.ts_ms), max(d.attempts),
                   (SELECT last_error FROM delivery AS x WHERE x.target = d.target ORDER BY x.event_id LIMIT 1)
            FROM delivery AS d JOIN event AS e ON e.id = d.event_id GROUP BY d.target ORDER BY d.target
            """)
        defer { s.reset() }
        var backlog: [DeliveryBacklog] = []
        while try s.step() {
            backlog.append(DeliveryBacklog(target: s.string(0) ?? "", pending: Int(s.int64(1)),
                                           oldestTs: s.optionalInt64(2), attempts: Int(s.int64(3)),
                                           lastError: s.string(4)))
        }
        return backlog
    }
}
