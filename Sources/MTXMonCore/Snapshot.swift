/// Everything one poll learnt: the state of every path at one instant.
public struct Snapshot: Codable, Sendable, Equatable {
    /// Unix milliseconds at which MediaMTX answered the poll's path list.
    public var ts: Int64
    /// Paths sorted by name, as MediaMTX lists them.
    public var paths: [PathSample]
    /// The MediaMTX version the poll talked to, when `/v3/info` told it (v1.13+).
    public var serverVersion: String?

    public init(ts: Int64, paths: [PathSample], serverVersion: String? = nil) {
        self.ts = ts
        self.paths = paths
        self.serverVersion = serverVersion
    }

    /// The sample of one path, by exact name.
    public func path(named name: String) -> PathSample? {
        paths.first { $0.name == name }
    }
}
