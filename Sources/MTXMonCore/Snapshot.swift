/// Everything one poll learnt: the state of every path at one instant.
public struct Snapshot: Codable, Sendable, Equatable {
    /// Unix milliseconds at which MediaMTX answered the poll's path list.
    public var ts: Int64
    /// Paths sorted by name, as MediaMTX lists them.
    public var paths: [PathSample]
    /// The MediaMTX version the poll talked to, when `/v3/info` told it (v1.13+).
    public var serverVersion: String?
    /// Every publisher and reader connection of the protocols the paths use.
    public var connections: [ConnectionSample]

    public init(ts: Int64, paths: [PathSample], serverVersion: String? = nil, connections: [ConnectionSample] = []) {
        self.ts = ts
        self.paths = paths
        self.serverVersion = serverVersion
        self.connections = connections
    }

    enum CodingKeys: String, CodingKey { case ts, paths, serverVersion, connections }

    /// Snapshots published by an mtxmon from before connections were recorded have none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ts = try container.decode(Int64.self, forKey: .ts)
        paths = try container.decode([PathSample].self, forKey: .paths)
        serverVersion = try container.decodeIfPresent(String.self, forKey: .serverVersion)
        connections = try container.decodeIfPresent([ConnectionSample].self, forKey: .connections) ?? []
    }

    /// The sample of one path, by exact name.
    public func path(named name: String) -> PathSample? {
        paths.first { $0.name == name }
    }

    /// The connections of one path, publisher first.
    public func connections(of path: String) -> [ConnectionSample] {
        connections.filter { $0.path == path }.sorted { ($0.role == .publisher ? 0 : 1, $0.id) < ($1.role == .publisher ? 0 : 1, $1.id) }
    }
}
