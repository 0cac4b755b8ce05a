import MTXMonCore

/// Where polls wait while the history store refuses writes, and how much may wait.
public struct HoldSettings: Sendable {
    /// `MTXMON_HOLD_FILE`, `<db>.hold` by default; `nil` holds in memory only.
    public var path: String?
    /// `MTXMON_HOLD_RESERVE`: bytes reserved for the file when it is opened, usable on a disk that
    /// has filled since (default 32 MiB).
    public var reserve: Int64
    /// `MTXMON_HOLD_MAX`: the file grows no larger than this, where the disk has room (1 GiB).
    public var maxFile: Int64
    /// `MTXMON_HOLD_MEMORY`: past the file, this much is held in memory; past that the oldest in
    /// memory are dropped (64 MiB).
    public var maxMemory: Int

    public init(path: String? = nil, reserve: Int64 = 32 << 20, maxFile: Int64 = 1 << 30, maxMemory: Int = 64 << 20) {
        self.path = path
        self.reserve = reserve
        self.maxFile = maxFile
        self.maxMemory = maxMemory
    }

    var limits: Self { self }
}

/// Polls MediaMTX answered that the history store has not taken yet, oldest first: in the hold
/// file (durable at once, so a stop or a kill -9 loses none) and, when the file cannot take them
/// either (a disk full past its reserve), in memory up to a bound in bytes. They are written to the
/// store in small groups, oldest first, beside the polling.
///
/// Owned by the collector's loop and used by one task at a time (the loop's state moves between
/// its tasks, never shared), which is why it may be sent.
final class HoldQueue: @unchecked Sendable {
    typealias Limits = HoldSettings

    /// What holding a tick's polls came to, for the caller's log and status.
    enum Placement: Equatable {
        case file
        /// The file refused them (why): they wait in memory.
        case memory(String)
        /// Memory was full too: this many of the oldest polls in memory were dropped.
        case dropped(Int, String)
    }

    let limits: Limits
    let file: HoldFile?
    /// Why the file could not be opened, when it could not.
    let openProblem: String?
    private var memory: [[UInt8]] = []
    private(set) var memoryBytes = 0
    private var encoder = HeldPollCodec.Encoder()
    private var decoder = HeldPollCodec.Decoder()
    /// Held records that could not be decoded (damaged on disk), since start.
    private(set) var lost = 0

    init(_ limits: Limits) {
        self.limits = limits
        var opened: HoldFile?
        var problem: String?
        if let path = limits.path {
            do {
                opened = try HoldFile(path: path, reserve: limits.reserve)
                problem = opened?.reserveProblem.map { "\($0)" }
            } catch {
                problem = "\(error)"
            }
        }
        file = opened
        openProblem = problem
        // Records of a group the store took before a restart give the rest of the group its context.
        for payload in file?.replayed() ?? [] { _ = try? decoder.decode(payload) }
    }

    var isEmpty: Bool { (file?.records.isEmpty ?? true) && memory.isEmpty }
    var count: Int { (file?.records.count ?? 0) + memory.count }
    var bytes: Int64 { (file?.waitingBytes ?? 0) + Int64(memoryBytes) }

    /// Holds `batches` behind what waits already.
    func hold(_ batches: [PollBatch]) -> Placement {
        let records = batches.map { encoder.encode($0) }
        let size = records.reduce(0) { $0 + $1.count + HoldFile.recordHeaderSize }
        if let file {
            // What waits in memory goes to the file first, so the order stays.
            let all = memory + records
            if file.end + Int64(memoryBytes + size) <= limits.maxFile {
                do {
                    try file.append(all)
                    memory.removeAll()
                    memoryBytes = 0
                    return .file
                } catch {
                    return inMemory(records, because: "\(error)")
                }
            }
            return inMemory(records, because: "the hold file \(file.path) is at its limit of \(limits.maxFile) bytes "
                + "(MTXMON_HOLD_MAX)")
        }
        return inMemory(records, because: openProblem ?? "no hold file is configured")
    }

    private func inMemory(_ records: [[UInt8]], because reason: String) -> Placement {
        memory += records
        memoryBytes += records.reduce(0) { $0 + $1.count }
        var dropped = 0
        while memoryBytes > limits.maxMemory, !memory.isEmpty {
            // Whole groups go: what follows a dropped record could not be read without it.
            var cut = 1
            while cut < memory.count, !HeldPollCodec.Decoder.isKeyframe(memory[cut]) { cut += 1 }
            memoryBytes -= memory[0..<cut].reduce(0) { $0 + $1.count }
            memory.removeFirst(cut)
            dropped += cut
        }
        if dropped > 0 {
            encoder.startGroup()
            return .dropped(dropped, reason)
        }
        return .memory(reason)
    }

    /// The oldest held polls, up to `max`, decoded, with what `taken` needs to let them go.
    /// Records that cannot be decoded are skipped and counted in `lost`.
    func oldest(max: Int) -> (batches: [PollBatch], taking: Taking) {
        var reader = decoder
        var batches: [PollBatch] = []
        var fromFile = 0, fromMemory = 0, damaged = 0
        let fileRecords = file?.records ?? []
        while batches.count < max, fromFile + fromMemory < fileRecords.count + memory.count {
            let payload: [UInt8]
            if fromFile < fileRecords.count {
                guard let read = try? file?.payload(fileRecords[fromFile]) else { break }
                payload = read
                fromFile += 1
            } else {
                payload = memory[fromMemory]
                fromMemory += 1
            }
            do {
                batches.append(try reader.decode(payload))
            } catch {
                damaged += 1
            }
        }
        return (batches, Taking(fromFile: fromFile, fromMemory: fromMemory, damaged: damaged, decoder: reader))
    }

    /// How far `oldest` read, to be let go once the store has its polls.
    struct Taking {
        let fromFile: Int
        let fromMemory: Int
        let damaged: Int
        let decoder: HeldPollCodec.Decoder
    }

    /// The store took what `oldest` returned.
    func taken(_ taking: Taking) throws(HoldFileError) {
        try file?.taken(taking.fromFile)
        memoryBytes -= memory.prefix(taking.fromMemory).reduce(0) { $0 + $1.count }
        memory.removeFirst(taking.fromMemory)
        decoder = taking.decoder
        lost += taking.damaged
        if isEmpty {
            decoder = HeldPollCodec.Decoder()
            encoder = HeldPollCodec.Encoder()
        }
    }

    /// At a stop: what waits in memory goes to the file if it can; returns how many polls could
    /// not be kept.
    func keep() -> Int {
        guard !memory.isEmpty else { return 0 }
        guard let file else { return memory.count }
        do {
            try file.append(memory)
            memory.removeAll()
            memoryBytes = 0
            return 0
        } catch {
            return memory.count
        }
    }
}
