import History
import HistoryChunks
import MTXMonCore

extension ReadConnection {
    /// The raw counters of one path in `[from, to]`, in time order, for rate maths: from legacy
    /// rows, sealed chunks (read for counters only) and recent rows alike.
    public func counterRows(pathID: Int64, from: Int64, to: Int64) throws -> [CounterRow] {
        try storedPathFigures(pathID: pathID, from: from, to: to, ts: \.ts, row: \.counterRow,
                              chunk: ChunkCodec.decodeCounters)
    }
}
