#if canImport(Glibc)
import Glibc
#endif
import MTXMonCore

/// The file beside the history where polls wait while the store refuses them (`<db>.hold`).
///
/// Space for it is reserved when it is opened (`posix_fallocate`), so that polls can be held on a
/// disk that has since filled: writing into reserved blocks needs none. Records are appended as
/// `[length u32][crc32 u32][generation u64][payload]`; a record of another generation, a bad
/// checksum or a zero length ends the data. The header says how far the store has taken the
/// records and where that record's group starts, so a restart decodes from the group's keyframe
/// and replays only what the store did not take. A record that is cut short (kill -9 in the
/// write) fails its checksum and is where the data ends. Used by one task at a time (`HoldQueue`).
final class HoldFile: @unchecked Sendable {
    static let magic: [UInt8] = Array("MTXHOLD1".utf8)
    static let headerSize: Int64 = 32
    static let recordHeaderSize = 16

    let path: String
    private let fd: Int32
    private(set) var generation: UInt64
    /// Where the next record goes.
    private(set) var end: Int64
    /// Records written and not yet taken by the store, oldest first, each with where its
    /// group's keyframe lies.
    private(set) var records: [Record] = []
    /// The keyframe of the newest record's group.
    private var lastGroup: Int64

    struct Record {
        var offset: Int64
        var length: Int
        var keyframe: Bool
        var group: Int64
    }
    /// The keyframe of the group the oldest waiting record belongs to, with the records of the
    /// group the store took already (to be decoded, not stored again).
    private(set) var replayFrom: Int64

    /// Opens or creates the file and reserves `reserve` bytes for it.
    init(path: String, reserve: Int64) throws(HoldFileError) {
        self.path = path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw HoldFileError(path: path, doing: "opening", errno: errno) }
        fd = descriptor
        var header = [UInt8](repeating: 0, count: Int(Self.headerSize))
        let read = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        let existing = read == Int(Self.headerSize) && Array(header[0..<8]) == Self.magic
        generation = existing ? Self.u64(header, 8) : 1
        end = Self.headerSize
        replayFrom = Self.headerSize
        lastGroup = Self.headerSize
        if existing {
            scan(drainedUntil: Int64(bitPattern: Self.u64(header, 16)))
        } else {
            try writeHeader(drainedUntil: Self.headerSize)
        }
        if reserve > 0 {
            var info = stat()
            if fstat(fd, &info) == 0, Int64(info.st_size) < reserve {
                let rc = posix_fallocate(fd, 0, off_t(reserve))
                if rc != 0 { reserveProblem = HoldFileError(path: path, doing: "reserving \(reserve) bytes for", errno: rc) }
            }
        }
    }

    /// Why the reserve could not be made (a disk already full, a file system without
    /// `fallocate`); the file works all the same, while the disk has room.
    private(set) var reserveProblem: HoldFileError?

    deinit { close(fd) }

    /// Bytes of records waiting.
    var waitingBytes: Int64 { records.reduce(0) { $0 + Int64($1.length + Self.recordHeaderSize) } }

    /// Reads the records after the header, keeping those past `drainedUntil` as waiting.
    private func scan(drainedUntil: Int64) {
        var offset = Self.headerSize
        var head = [UInt8](repeating: 0, count: Self.recordHeaderSize)
        while true {
            let got = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard got == Self.recordHeaderSize else { break }
            let length = Int(Self.u32(head, 0))
            guard length > 1, length < 1 << 30, Self.u64(head, 8) == generation,
                  let payload = readPayload(at: offset, length: length),
                  CRC32.checksum(payload, seed: CRC32.checksum(Array(head[8..<16]))) == Self.u32(head, 4) else { break }
            let keyframe = HeldPollCodec.Decoder.isKeyframe(payload)
            if keyframe { lastGroup = offset }
            if offset >= drainedUntil {
                records.append(Record(offset: offset, length: length, keyframe: keyframe, group: lastGroup))
            }
            offset += Int64(Self.recordHeaderSize + length)
        }
        end = offset
        replayFrom = records.first?.group ?? end
    }

    private func readPayload(at offset: Int64, length: Int) -> [UInt8]? {
        var payload = [UInt8](repeating: 0, count: length)
        let got = payload.withUnsafeMutableBytes {
            pread(fd, $0.baseAddress, $0.count, off_t(offset + Int64(Self.recordHeaderSize)))
        }
        return got == length ? payload : nil
    }

    /// The payload of a waiting record.
    func payload(_ record: Record) throws(HoldFileError) -> [UInt8] {
        guard let payload = readPayload(at: record.offset, length: record.length) else {
            throw HoldFileError(path: path, doing: "reading", errno: errno)
        }
        return payload
    }

    /// Payloads of records from `replayFrom` up to the first waiting one: the group's context.
    func replayed() -> [[UInt8]] {
        guard let first = records.first, replayFrom < first.offset else { return [] }
        var result: [[UInt8]] = []
        var offset = replayFrom
        var head = [UInt8](repeating: 0, count: Self.recordHeaderSize)
        while offset < first.offset {
            let got = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard got == Self.recordHeaderSize else { break }
            let length = Int(Self.u32(head, 0))
            guard let payload = readPayload(at: offset, length: length) else { break }
            result.append(payload)
            offset += Int64(Self.recordHeaderSize + length)
        }
        return result
    }

    /// Appends `payloads` and makes them durable; all or none count as written.
    func append(_ payloads: [[UInt8]]) throws(HoldFileError) {
        var offset = end
        var group = lastGroup
        var added: [Record] = []
        for payload in payloads {
            var bytes = [UInt8]()
            bytes.reserveCapacity(Self.recordHeaderSize + payload.count)
            let generationBytes = Self.bytes(generation)
            Self.put(UInt32(payload.count), &bytes)
            Self.put(CRC32.checksum(payload, seed: CRC32.checksum(generationBytes)), &bytes)
            bytes += generationBytes
            bytes += payload
            let wrote = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard wrote == bytes.count else {
                throw HoldFileError(path: path, doing: "writing held polls to", errno: wrote < 0 ? errno : ENOSPC)
            }
            let keyframe = HeldPollCodec.Decoder.isKeyframe(payload)
            if keyframe { group = offset }
            added.append(Record(offset: offset, length: payload.count, keyframe: keyframe, group: group))
            offset += Int64(bytes.count)
        }
        // The record after the last ends the data, whatever an earlier generation left there.
        let terminator = [UInt8](repeating: 0, count: 4)
        _ = terminator.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard fdatasync(fd) == 0 else { throw HoldFileError(path: path, doing: "syncing", errno: errno) }
        if records.isEmpty, let first = added.first { replayFrom = first.group }
        records += added
        end = offset
        lastGroup = group
    }

    /// The store took the oldest `count` waiting records.
    func taken(_ count: Int) throws(HoldFileError) {
        guard count > 0 else { return }
        records.removeFirst(min(count, records.count))
        if let next = records.first {
            replayFrom = next.group
            try writeHeader(drainedUntil: next.offset)
        } else {
            try reset()
        }
    }

    /// Nothing waits: a new generation starts at the front, in the space already reserved.
    func reset() throws(HoldFileError) {
        generation &+= 1
        end = Self.headerSize
        replayFrom = Self.headerSize
        lastGroup = Self.headerSize
        records.removeAll()
        try writeHeader(drainedUntil: Self.headerSize)
    }

    private func writeHeader(drainedUntil: Int64) throws(HoldFileError) {
        var header = Self.magic
        header += Self.bytes(generation)
        header += Self.bytes(UInt64(bitPattern: drainedUntil))
        header += Self.bytes(UInt64(bitPattern: replayFrom))
        let wrote = header.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard wrote == header.count, fdatasync(fd) == 0 else {
            throw HoldFileError(path: path, doing: "writing the header of", errno: errno)
        }
    }

    static func bytes(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> UInt64(8 * $0)) } }
    static func put(_ v: UInt32, _ bytes: inout [UInt8]) {
        for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(8 * k))) }
    }
    static func u64(_ b: [UInt8], _ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << UInt64(8 * $1) } }
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << UInt32(8 * $1) } }
}

/// The hold file could not be used, with what was being done and the system's reason.
struct HoldFileError: Error, CustomStringConvertible {
    let path: String
    let doing: String
    let errno: Int32

    var description: String { "\(doing) \(path) failed: \(String(cString: strerror(errno)))" }
}

/// CRC-32 (IEEE), for the hold file's records.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        var c = ~seed
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return ~c
    }
}
