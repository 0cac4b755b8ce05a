import CSQLite
import Foundation
import History
import HistoryChunks
import MTXMonCore

extension SQLiteHistory {
    /// Writes `events` (inside the caller's transaction) and a delivery to each of `targets` for
    /// those at `notify`; returns them with their ids.
    static func insert(events: [MonitorEvent], notify: [Int], targets: [String],
                       _ state: inout WriterState) throws(SQLiteError) -> [MonitorEvent] {
        guard !events.isEmpty else { return [] }
        let db = state.connection
        let insert = try db.cached("""
            INSERT INTO event (ts_ms, kind, severity, server_id, path, connection, message, figures)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let deliver = try db.cached("INSERT OR IGNORE INTO delivery (target, event_id, due_ms) VALUES (?, ?, ?)")
        let owed = Set(notify)
        var written = events
        for i in written.indices {
            let e = written[i]
            insert.bind(1, e.ts)
            insert.bind(2, e.kind.rawValue)
            insert.bind(3, e.severity.rawValue)
            insert.bind(4, try e.server.map { name throws(SQLiteError) in try serverID(name, &state) })
            insert.bind(5, e.path)
            insert.bind(6, e.connection)
            insert.bind(7, e.message)
            insert.bind(8, EventJSON.figures(e.figures))
            try insert.run()
            insert.reset()
            let id = db.lastInsertRowID
            written[i].id = id
            guard owed.contains(i) else { continue }
            for target in targets {
                deliver.bind(1, target)
                deliver.bind(2, id)
                deliver.bind(3, Int64(0))  // due at once
                try deliver.run()
                deliver.reset()
            }
        }
        return written
    }
}


extension ReadConnection {
    /// The events `query` asks for, newest first (by id: the order they were stored in), at most
    /// `limit`, and whether more follow.
    public func events(_ query: EventQuery) throws -> (events: [MonitorEvent], more: Bool) {
        let severities = MonitorEvent.Severity.allCases.filter { severity in
            query.minSeverity.map { severity >= $0 } ?? true
        }
        let kinds = query.kinds.map { Array($0).map(\.rawValue).sorted() }
        let s = try connection.cached("""
            SELECT e.id, e.ts_ms, e.kind, e.severity, v.name, e.path, e.connection, e.message, e.figures
            FROM event AS e LEFT JOIN server AS v ON v.id = e.server_id
            WHERE e.ts_ms BETWEEN ?1 AND ?2 AND (?3 IS NULL OR v.name = ?3) AND (?4 IS NULL OR e.path = ?4)
              AND (?5 IS NULL OR e.id < ?5)
              AND (?6 IS NULL OR e.kind IN (SELECT value FROM json_each(?6)))
              AND e.severity IN (SELECT value FROM json_each(?7))
            ORDER BY e.id DESC LIMIT ?8
            """)
        s.bind(1, query.from)
        s.bind(2, query.to)
        s.bind(3, query.server)
        s.bind(4, query.path)
        s.bind(5, query.before)
        s.bind(6, kinds.map(EventJSON.array))
        s.bind(7, EventJSON.array(severities.map { $0.rawValue }))
        s.bind(8, Int64(query.limit + 1))
        defer { s.reset() }
        var events: [MonitorEvent] = []
        while try s.step() {
            if let event = EventJSON.event(s, at: 0) { events.append(event) }
        }
        let more = events.count > query.limit
        return (Array(events.prefix(query.limit)), more)
    }
}

extension ReadConnection {
    /// Events stored after the one with id `after`, oldest first, at most `limit`: what a reader
    /// of the file has not told yet.
    public func events(after: Int64, limit: Int = 1_000) throws -> [MonitorEvent] {
        let s = try connection.cached("""
            SELECT e.id, e.ts_ms, e.kind, e.severity, v.name, e.path, e.connection, e.message, e.figures
            FROM event AS e LEFT JOIN server AS v ON v.id = e.server_id WHERE e.id > ? ORDER BY e.id LIMIT ?
            """)
        s.bind(1, after)
        s.bind(2, Int64(limit))
        defer { s.reset() }
        var events: [MonitorEvent] = []
        while try s.step() {
            if let event = EventJSON.event(s, at: 0) { events.append(event) }
        }
        return events
    }

    /// The newest event's id (0 when there is none).
    public func lastEventID() throws -> Int64 {
        let s = try connection.cached("SELECT coalesce(max(id), 0) FROM event")
        defer { s.reset() }
        return try s.step() ? s.int64(0) : 0
    }
}

/// The small JSON texts of the event table, written and read by hand: a figure is a number or a
/// string. Webhook bodies are written with the same pieces.
public enum EventJSON {
    /// The event in the statement's columns from `at`: id, ts_ms, kind, severity, server name,
    /// path, connection, message, figures. `nil` for a kind or severity this version does not know.
    static func event(_ s: Statement, at c: Int32) -> MonitorEvent? {
        guard let kind = MonitorEvent.Kind(rawValue: s.string(c + 2) ?? ""),
              let severity = MonitorEvent.Severity(rawValue: s.string(c + 3) ?? "") else { return nil }
        var event = MonitorEvent(kind, severity: severity, ts: s.int64(c + 1), server: s.string(c + 4),
                                 path: s.string(c + 5), connection: s.string(c + 6), message: s.string(c + 7) ?? "",
                                 figures: parseFigures(s.string(c + 8)))
        event.id = s.int64(c)
        return event
    }

    /// A JSON object of the figures, keys sorted; `nil` when there are none.
    public static func figures(_ figures: [String: MonitorEvent.Figure]) -> String? { JSONText.figures(figures) }

    static func array(_ values: [String]) -> String { "[" + values.map(string).joined(separator: ",") + "]" }

    public static func string(_ text: String) -> String { JSONText.string(text) }

    static func parseFigures(_ text: String?) -> [String: MonitorEvent.Figure] {
        guard let text, let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        var figures: [String: MonitorEvent.Figure] = [:]
        for (key, value) in object {
            if let string = value as? String { figures[key] = .text(string) } else if let number = value as? NSNumber {
                figures[key] = .number(number.doubleValue)
            }
        }
        return figures
    }
}
