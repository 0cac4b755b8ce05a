import History
import MTXMonCore

/// One connection's figures at one poll (`ConnectionRow`: every counter MediaMTX reported and,
/// from its second poll on, each counter's increase) under the file's key for the connection.
@dynamicMemberLookup
public struct StoredConnection: Sendable, Equatable {
    public var key: Int64
    public var row: ConnectionRow

    public init(key: Int64, row: ConnectionRow) {
        self.key = key
        self.row = row
    }

    public init(_ c: ConnectionSample, key: Int64, ts: Int64) {
        self.init(key: key, row: ConnectionRow(c, ts: ts))
    }

    @inlinable
    public subscript<T>(dynamicMember field: WritableKeyPath<ConnectionRow, T>) -> T {
        get { row[keyPath: field] }
        set { row[keyPath: field] = newValue }
    }

    package var connectionRole: ConnectionRole { ConnectionRole(rawValue: row.role) ?? .idle }

    public var point: ConnectionPoint { row.point }
}

/// Everything one poll stored under one path: the path's own figures (absent when only its
/// connections were listed) and its connections'.
public struct StoredRow: Sendable, Equatable {
    public var ts: Int64
    public var path: StoredPath?
    public var connections: [StoredConnection]

    public init(ts: Int64, path: StoredPath?, connections: [StoredConnection] = []) {
        self.ts = ts
        self.path = path
        self.connections = connections
    }
}
