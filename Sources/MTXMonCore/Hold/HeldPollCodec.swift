/// Polls held while the history store refuses writes, as compact bytes: each path and connection
/// is written as what changed since its previous poll, integers as the change of their change.
///
/// A poll of 300 paths with a reader each is some 0.9 MB as Swift values and 15–20 KB here, so a
/// full disk can be ridden out for hours in a bounded file or a little memory. Records form
/// groups that each start with a keyframe (nothing to go back to): a group is decoded from its
/// first record on, and dropped or lost whole. Encoder and decoder keep the same context and
/// apply the same rules, record by record.
public enum HeldPollCodec {
    /// The codec's own version, first in every record.
    public static let version: UInt8 = 1
    /// Records per group: a keyframe costs about three deltas' worth, a group is what a damaged
    /// record or a dropped group costs.
    public static let groupSize = 64

    /// Writes batches in order, carrying context from each record to the next of its group.
    public struct Encoder: Sendable {
        var context = Context()
        /// Records written in the current group.
        public private(set) var inGroup = 0

        public init() {}

        /// The record of `batch`; the first of each group is a keyframe.
        public mutating func encode(_ batch: PollBatch) -> [UInt8] {
            let keyframe = inGroup == 0
            if keyframe { context = Context() }
            inGroup = (inGroup + 1) % HeldPollCodec.groupSize
            var w = HoldWriter()
            w.byte(HeldPollCodec.version)
            w.byte(keyframe ? 1 : 0)
            context.write(batch, &w)
            return w.bytes
        }

        /// The next record starts a group: after a group was dropped, or a write of it failed.
        public mutating func startGroup() { inGroup = 0 }
    }

    /// Reads records in the order they were written, from the first of a group on.
    public struct Decoder: Sendable {
        var context = Context()
        var started = false

        public init() {}

        /// The batch of `record`. A record that is not a keyframe needs the one before it decoded
        /// first; a damaged record throws, and decoding goes on at the next keyframe.
        public mutating func decode(_ record: [UInt8]) throws(HoldError) -> PollBatch {
            var r = HoldReader(record)
            let version = try r.byte()
            guard version == HeldPollCodec.version else { throw HoldError("record version \(version), this mtxmon reads 1") }
            let keyframe = try r.byte() == 1
            if keyframe {
                context = Context()
                started = true
            }
            guard started else { throw HoldError("a record of a group whose keyframe was not read") }
            do throws(HoldError) {
                return try context.read(&r)
            } catch {
                started = false
                throw error
            }
        }

        /// Whether `record` starts a group (so decoding can resume there).
        public static func isKeyframe(_ record: [UInt8]) -> Bool { record.count > 1 && record[1] == 1 }
    }
}

/// A held record that cannot be read: cut short, damaged, or not written by this code.
public struct HoldError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// What each side knows from the records before: every sample's figures by its key, the
/// strings seen, the previous poll's time.
struct Context: Sendable {
    var samples: [String: SlotHistory] = [:]
    var keys: [String] = []
    var keyIndex: [String: Int] = [:]
    var strings: [String] = []
    var stringIndex: [String: Int] = [:]
    var lastTs: Int64 = 0
    var lastTsDelta: Int64 = 0

    // MARK: Batches

    mutating func write(_ batch: PollBatch, _ w: inout HoldWriter) {
        let poll = batch.poll
        string(poll.server, &w)
        let delta = poll.ts &- lastTs
        w.signed(delta &- lastTsDelta)
        lastTsDelta = delta
        lastTs = poll.ts
        w.byte(poll.ok ? 1 : 0)
        w.signed(poll.durationMs)
        w.varint(poll.pathCount.map { UInt64($0) + 1 } ?? 0)
        string(poll.error, &w)
        string(poll.reason, &w)
        w.varint(UInt64(batch.events.count))
        for event in batch.events { write(event, &w) }
        w.varint(UInt64(batch.notify.count))
        for index in batch.notify { w.varint(UInt64(max(0, index))) }
        guard let snapshot = batch.snapshot else {
            w.byte(0)
            return
        }
        w.byte(1)
        w.signed(snapshot.ts &- poll.ts)
        string(snapshot.server, &w)
        string(snapshot.serverVersion, &w)
        string(snapshot.serverVersionNote, &w)
        string(snapshot.error, &w)
        w.byte(snapshot.reachable.map { $0 ? 2 : 1 } ?? 0)
        let server = snapshot.server ?? ""
        w.varint(UInt64(snapshot.paths.count))
        for path in snapshot.paths { sample("p\(server)\u{0}\(path.name)", PathSlots.slots(path), &w) }
        w.varint(UInt64(snapshot.connections.count))
        for connection in snapshot.connections {
            sample("c\(server)\u{0}\(connection.id)", ConnectionSlots.slots(connection), &w)
        }
    }

    mutating func read(_ r: inout HoldReader) throws(HoldError) -> PollBatch {
        let server = try string(&r) ?? ServerName.default
        let delta = (try r.signed()) &+ lastTsDelta
        lastTsDelta = delta
        lastTs = lastTs &+ delta
        let ok = try r.byte() == 1
        let durationMs = try r.signed()
        let count = try r.varint()
        let pathCount = count == 0 ? nil : Int(truncatingIfNeeded: count - 1)
        let poll = PollRecord(ts: lastTs, ok: ok, durationMs: durationMs, pathCount: pathCount, error: try string(&r),
                              reason: try string(&r), server: server)
        var events: [MonitorEvent] = []
        for _ in 0..<(try r.count(limit: 1 << 20)) { events.append(try readEvent(&r)) }
        var notify: [Int] = []
        for _ in 0..<(try r.count(limit: 1 << 20)) { notify.append(try r.count()) }
        var batch = PollBatch(poll: poll, snapshot: nil, events: events, notify: notify)
        guard try r.byte() == 1 else { return batch }
        let ts = lastTs &+ (try r.signed())
        let snapshotServer = try string(&r)
        let version = try string(&r)
        let note = try string(&r)
        let error = try string(&r)
        let reachable: Bool? = switch try r.byte() {
        case 0: nil
        case 1: false
        default: true
        }
        let key = snapshotServer ?? ""
        var paths: [PathSample] = []
        let pathCountRead = try r.count(limit: 1 << 22)
        paths.reserveCapacity(pathCountRead)
        for _ in 0..<pathCountRead {
            let (name, slots) = try sample(prefix: "p\(key)\u{0}", PathSlots.layout, &r)
            paths.append(PathSlots.sample(name: name, slots))
        }
        var connections: [ConnectionSample] = []
        let connectionCount = try r.count(limit: 1 << 22)
        connections.reserveCapacity(connectionCount)
        for _ in 0..<connectionCount {
            let (id, slots) = try sample(prefix: "c\(key)\u{0}", ConnectionSlots.layout, &r)
            connections.append(try ConnectionSlots.sample(id: id, slots))
        }
        var snapshot = Snapshot(ts: ts, paths: paths, serverVersion: version, connections: connections,
                                reachable: reachable, error: error, serverVersionNote: note, server: snapshotServer)
        snapshot.events = nil
        batch.snapshot = snapshot
        return batch
    }

    // MARK: Samples

    /// A sample's key, then which of its slots changed since its previous record, then each.
    mutating func sample(_ key: String, _ slots: [Slot], _ w: inout HoldWriter) {
        if let index = keyIndex[key] {
            w.varint(UInt64(index) + 1)
        } else {
            w.varint(0)
            w.text(key)
            keyIndex[key] = keys.count
            keys.append(key)
        }
        var history = samples[key] ?? SlotHistory(count: slots.count)
        var changed: [Int] = []
        for i in slots.indices where slots[i] != history.values[i] { changed.append(i) }
        Self.writeMask(changed, count: slots.count, &w)
        for i in changed { write(slots[i], at: i, &history, &w) }
        samples[key] = history
    }

    mutating func sample(prefix: String, _ layout: [SlotKind], _ r: inout HoldReader) throws(HoldError)
        -> (String, [Slot]) {
        let ref = try r.varint()
        let key: String
        if ref == 0 {
            key = try r.text()
            keyIndex[key] = keys.count
            keys.append(key)
        } else {
            guard ref - 1 < UInt64(keys.count) else { throw HoldError("a sample key \(ref) past \(keys.count)") }
            key = keys[Int(ref - 1)]
        }
        guard key.hasPrefix(prefix) else { throw HoldError("a sample key of another kind or server") }
        var history = samples[key] ?? SlotHistory(count: layout.count)
        guard history.values.count == layout.count else { throw HoldError("a sample key of another kind") }
        for i in try Self.readMask(count: layout.count, &r) {
            history.values[i] = try read(layout[i], at: i, &history, &r)
        }
        samples[key] = history
        return (String(key.dropFirst(prefix.count)), history.values)
    }

    /// Changed slots as a byte of which groups of eight changed, then a byte per such group.
    static func writeMask(_ changed: [Int], count: Int, _ w: inout HoldWriter) {
        let groups = (count + 7) / 8
        var bits = [UInt8](repeating: 0, count: groups)
        for i in changed { bits[i / 8] |= 1 << UInt8(i % 8) }
        var present: UInt64 = 0
        for g in 0..<groups where bits[g] != 0 { present |= 1 << UInt64(g) }
        w.varint(present)
        for g in 0..<groups where bits[g] != 0 { w.byte(bits[g]) }
    }

    static func readMask(count: Int, _ r: inout HoldReader) throws(HoldError) -> [Int] {
        let groups = (count + 7) / 8
        let present = try r.varint()
        guard present >> UInt64(groups) == 0 else { throw HoldError("a change mask past the sample's slots") }
        var changed: [Int] = []
        for g in 0..<groups where present & (1 << UInt64(g)) != 0 {
            let bits = try r.byte()
            for b in 0..<8 where bits & (1 << UInt8(b)) != 0 {
                let i = g * 8 + b
                guard i < count else { throw HoldError("a change mask past the sample's slots") }
                changed.append(i)
            }
        }
        return changed
    }

    // MARK: Slots

    /// An integer (or a whole-numbered double) is written as the change of its change: 0 nil,
    /// 1 an 8-byte value follows, 2 + zigzag otherwise. A fractional double is written whole.
    mutating func write(_ slot: Slot, at i: Int, _ history: inout SlotHistory, _ w: inout HoldWriter) {
        switch slot {
        case .none:
            w.varint(0)
            history.forget(i)
        case let .int(v):
            writeNumber(v, raw: UInt64(bitPattern: v), at: i, &history, &w)
        case let .double(d):
            if let whole = Slot.whole(d) {
                writeNumber(whole, raw: d.bitPattern, at: i, &history, &w)
            } else {
                w.varint(1)
                w.raw(d.bitPattern)
                history.forget(i)
            }
        case let .string(s):
            if let index = stringIndex[s] {
                w.varint(UInt64(index) + 2)
            } else {
                w.varint(1)
                w.text(s)
                stringIndex[s] = strings.count
                strings.append(s)
            }
        }
        history.values[i] = slot
    }

    /// `raw` is what an escaped value is written as: the integer's bits, or the double's.
    private func writeNumber(_ v: Int64, raw: UInt64, at i: Int, _ history: inout SlotHistory, _ w: inout HoldWriter) {
        let delta = v &- history.last[i]
        let code = HoldWriter.zigzag(delta &- history.delta[i])
        if code >= UInt64.max - 1 {
            w.varint(1)
            w.raw(raw)
            history.forget(i)
            history.last[i] = v
        } else {
            w.varint(code + 2)
            history.last[i] = v
            history.delta[i] = delta
        }
    }

    mutating func read(_ kind: SlotKind, at i: Int, _ history: inout SlotHistory,
                       _ r: inout HoldReader) throws(HoldError) -> Slot {
        let code = try r.varint()
        switch kind {
        case .string:
            if code == 0 { return .none }
            if code == 1 {
                let s = try r.text()
                stringIndex[s] = strings.count
                strings.append(s)
                return .string(s)
            }
            guard code - 2 < UInt64(strings.count) else { throw HoldError("a string reference past the table") }
            return .string(strings[Int(code - 2)])
        case .int, .double:
            if code == 0 {
                history.forget(i)
                return .none
            }
            if code == 1 {
                let bits = try r.raw()
                history.forget(i)
                if kind == .double {
                    let d = Double(bitPattern: bits)
                    history.last[i] = Slot.whole(d) ?? 0
                    return .double(d)
                }
                history.last[i] = Int64(bitPattern: bits)
                return .int(Int64(bitPattern: bits))
            }
            let delta = HoldReader.unzigzag(code - 2) &+ history.delta[i]
            let v = history.last[i] &+ delta
            history.last[i] = v
            history.delta[i] = delta
            return kind == .double ? .double(Double(v)) : .int(v)
        }
    }

    // MARK: Events

    mutating func write(_ event: MonitorEvent, _ w: inout HoldWriter) {
        w.varint(event.id.map { UInt64(bitPattern: $0) &+ 1 } ?? 0)
        w.signed(event.ts &- lastTs)
        string(event.kind.rawValue, &w)
        string(event.severity.rawValue, &w)
        string(event.server, &w)
        string(event.path, &w)
        string(event.connection, &w)
        w.text(event.message)
        w.varint(UInt64(event.figures.count))
        for (name, figure) in event.figures.sorted(by: { $0.key < $1.key }) {
            string(name, &w)
            switch figure {
            case let .number(value):
                w.byte(0)
                w.raw(value.bitPattern)
            case let .text(value):
                w.byte(1)
                w.text(value)
            }
        }
    }

    mutating func readEvent(_ r: inout HoldReader) throws(HoldError) -> MonitorEvent {
        let id = try r.varint()
        let ts = lastTs &+ (try r.signed())
        guard let kind = MonitorEvent.Kind(rawValue: try string(&r) ?? ""),
              let severity = MonitorEvent.Severity(rawValue: try string(&r) ?? "") else {
            throw HoldError("an event of a kind or severity this mtxmon does not know")
        }
        let server = try string(&r), path = try string(&r), connection = try string(&r)
        let message = try r.text()
        var figures: [String: MonitorEvent.Figure] = [:]
        for _ in 0..<(try r.count(limit: 4_096)) {
            let name = try string(&r) ?? ""
            figures[name] = try r.byte() == 0 ? .number(Double(bitPattern: try r.raw())) : .text(try r.text())
        }
        var event = MonitorEvent(kind, severity: severity, ts: ts, server: server, path: path, connection: connection,
                                 message: message, figures: figures)
        event.id = id == 0 ? nil : Int64(bitPattern: id &- 1)
        return event
    }

    // MARK: Strings

    mutating func string(_ s: String?, _ w: inout HoldWriter) {
        guard let s else {
            w.varint(0)
            return
        }
        if let index = stringIndex[s] {
            w.varint(UInt64(index) + 2)
        } else {
            w.varint(1)
            w.text(s)
            stringIndex[s] = strings.count
            strings.append(s)
        }
    }

    mutating func string(_ r: inout HoldReader) throws(HoldError) -> String? {
        let code = try r.varint()
        if code == 0 { return nil }
        if code == 1 {
            let s = try r.text()
            stringIndex[s] = strings.count
            strings.append(s)
            return s
        }
        guard code - 2 < UInt64(strings.count) else { throw HoldError("a string reference past the table") }
        return strings[Int(code - 2)]
    }
}

/// One sample's slots as last written, and each numeric slot's last value and change.
struct SlotHistory: Sendable {
    var values: [Slot]
    var last: [Int64]
    var delta: [Int64]

    init(count: Int) {
        values = [Slot](repeating: .none, count: count)
        last = [Int64](repeating: 0, count: count)
        delta = [Int64](repeating: 0, count: count)
    }

    mutating func forget(_ i: Int) {
        last[i] = 0
        delta[i] = 0
    }
}
