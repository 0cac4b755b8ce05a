import Foundation
import History
import Hummingbird
import MTXMonCore

/// `GET /api/v1/paths/{name…}/connections` (mounted by `PathRoutes`) and
/// `GET /api/v1/connections/{id}/history`: who published and read a path, with SRT link health.
struct ConnectionRoutes: Sendable {
    let environment: APIEnvironment
    static let maxPoints: Int64 = 11_000

    func add(to router: Router<APIRequestContext>) {
        router.get("/api/v1/connections/{id}/history") { request, context -> Response in
            let id = try Self.decodeID(context.parameters.require("id"))
            guard !id.isEmpty, id.utf8.count <= 256 else {
                throw APIError(.badRequest, "bad_id", "a connection id is MediaMTX's id, 1–256 bytes: list them with "
                    + "GET /api/v1/paths/{name}/connections")
            }
            let range = try HistoryRange.parse(
                from: RequestInput.query(request, "from"), to: RequestInput.query(request, "to"),
                step: RequestInput.query(request, "step"), aggregation: RequestInput.query(request, "agg"),
                now: environment.now(), interval: environment.intervalMs)
            let fields = try ConnectionFields.parse(RequestInput.query(request, "fields"))
            let format = try RequestInput.format(request, columns: true)
            let server = try RequestInput.server(request)
            // Whole-minute steps read the minute rollups, which outlive the raw samples.
            let fromMinutes = range.step.map { $0 % 60_000 == 0 } ?? false
            if fromMinutes, range.aggregation == .last, let step = range.step {
                throw APIError(.badRequest, "bad_agg", "agg=last needs every poll, but a step of whole minutes "
                    + "(step=\(step / 1_000)s) reads the connection's minute rollups, which keep no last value: use "
                    + "agg=avg, agg=min or agg=max with this step, or agg=last with a step that is not a whole number "
                    + "of minutes (e.g. step=30s) within the raw retention")
            }
            let history = environment.history
            guard let info = try await history.connection(id: id, server: server) else {
                throw APIError(.notFound, "unknown_connection", "mtxmon has no history for connection '\(id)': "
                    + "ids come from GET /api/v1/paths/{name}/connections; history is kept for the raw retention")
            }
            let through = fields.columns
            let points: [ConnectionPoint]
            if let step = range.step {
                var folder = Folder(step: step, aggregation: range.aggregation)
                if fromMinutes {
                    for minute in try await history.connectionMinutes(info.ref, from: range.from, to: range.to,
                                                                      through: through) {
                        folder.add(minute)
                    }
                } else {
                    for point in try await history.connectionPoints(info.ref, from: range.from, to: range.to,
                                                                    through: through) {
                        folder.add(point)
                    }
                }
                points = folder.finish()
            } else {
                points = try await history.connectionPoints(info.ref, from: range.from, to: range.to, through: through)
            }
            if format == .csv {
                return APIServer.csv(Self.csv(id, points, fields: fields), filename: "connection-history.csv")
            }
            var w = JSONWriter(capacity: 256 + points.count * (16 + 14 * fields.rawValue.nonzeroBitCount))
            w.beginObject()
            Self.identity(info, &w)
            w.key("from"); w.int(range.from)
            w.key("to"); w.int(range.to)
            w.key("step"); w.int(range.step)
            w.key("agg"); w.string(range.step == nil ? nil : range.aggregation.rawValue)
            w.key("source"); w.string(fromMinutes ? "minutes" : "samples")
            if format == .columns {
                w.key("columns")
                Self.writeColumns(points, fields: fields, &w)
            } else {
                w.key("points")
                w.beginArray()
                for point in points { Self.write(point, fields: fields, &w) }
                w.endArray()
            }
            w.endObject()
            return APIServer.json(w)
        }
    }

    /// The router hands the id over as sent, but a client that escapes it (a browser's
    /// `encodeURIComponent`) must still find the id MediaMTX reported.
    static func decodeID(_ raw: String) throws -> String {
        guard raw.utf8.contains(UInt8(ascii: "%")) else { return raw }
        var bytes: [UInt8] = []
        var iterator = raw.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(RequestInput.hexValue),
                  let low = iterator.next().flatMap(RequestInput.hexValue) else {
                throw APIError(.badRequest, "bad_id", "the connection id has a '%' that is not followed by two hex "
                    + "digits: escape it as %25, or copy the id from GET /api/v1/paths/{name}/connections")
            }
            bytes.append(high << 4 | low)
        }
        guard let id = String(validating: bytes, as: UTF8.self) else {
            throw APIError(.badRequest, "bad_id", "the connection id is not UTF-8 text once unescaped: copy the id "
                + "from GET /api/v1/paths/{name}/connections")
        }
        return id
    }

    /// The connections of one path in the latest snapshot, each with its SRT link health from
    /// the samples of the past minute.
    func current(_ name: String, server: String?, snapshot: Snapshot?) async throws -> Response {
        guard let snapshot, let path = try PathRoutes.path(name, server: server, in: snapshot) else {
            throw APIError(.notFound, "unknown_path", "no path '\(name)'\(server.map { " on server '\($0)'" } ?? "") "
                + "in the latest snapshot: list the paths with GET /api/v1/paths")
        }
        let on = path.serverName
        let connections = snapshot.connections(of: name, server: on)
        let srtIDs = connections.filter { $0.proto == .srt }.map(\.id)
        let now = snapshot.ts
        let links = srtIDs.isEmpty ? [:] : (try? await environment.history.linkSamples(ids: srtIDs, server: on,
                                                                                       now: now)) ?? [:]
        var w = JSONWriter(capacity: 1_024 * (connections.count + 1))
        w.beginObject()
        w.key("server"); w.string(on)
        w.key("path"); w.string(name)
        w.key("ts"); w.int(snapshot.ts)
        // The same state as the path's item in GET /api/v1/paths: with `unknown`, no connection is known.
        w.key("state"); w.string(path.currentState.rawValue)
        w.key("reachable"); w.bool(snapshot.answered)
        w.key("connections")
        w.beginArray()
        for connection in connections {
            let health = links[connection.id].map { LinkHealth.evaluate($0.samples, now: now, connectedAt: $0.firstTs) }
            Self.write(connection, full: true, health: health, &w)
        }
        w.endArray()
        w.endObject()
        return APIServer.json(w)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    /// A connection: the compact form inside path items, the full one with counters, deltas and
    /// health on the connections endpoint.
    static func write(_ c: ConnectionSample, full: Bool, health: LinkHealth? = nil, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(c.id)
        w.key("protocol"); w.string(c.proto.rawValue)
        w.key("role"); w.string(c.role.rawValue)
        w.key("remoteAddr"); w.string(c.remoteAddr)
        w.key("bitrateIn"); w.number(c.bitrateIn, decimals: 0)
        w.key("bitrateOut"); w.number(c.bitrateOut, decimals: 0)
        w.key("rttMs"); w.number(c.rttMs)
        w.key("latencyMs"); w.int(c.latencyMs)
        if full {
            w.key("path"); w.string(c.path)
            w.key("state"); w.string(c.state)
            w.key("userAgent"); w.string(c.userAgent)
            w.key("inboundBytes"); w.int(c.inboundBytes)
            w.key("outboundBytes"); w.int(c.outboundBytes)
            w.key("reset"); w.bool(c.reset)
            w.key("recvRateMbps"); w.number(c.recvRateMbps)
            w.key("sendRateMbps"); w.number(c.sendRateMbps)
            w.key("linkCapacityMbps"); w.number(c.linkCapacityMbps)
            w.key("jitter"); w.number(c.jitter)
            w.key("isCDN"); if let cdn = c.isCDN { w.bool(cdn) } else { w.null() }
            w.key("counters"); w.json(Array((try? encoder.encode(c.counters)) ?? Data("{}".utf8)))
            w.key("deltas")
            if let deltas = c.deltas { w.json(Array((try? encoder.encode(deltas)) ?? Data("{}".utf8))) } else { w.null() }
            w.key("health")
            if let health, let encoded = try? encoder.encode(health) { w.json(Array(encoded)) } else { w.null() }
        }
        w.endObject()
    }

    static func identity(_ info: ConnectionInfo, _ w: inout JSONWriter) {
        w.key("server"); w.string(info.server)
        w.key("id"); w.string(info.id)
        w.key("protocol"); w.string(info.proto)
        w.key("role"); w.string(info.role)
        w.key("path"); w.string(info.path)
        w.key("remoteAddr"); w.string(info.remoteAddr)
        w.key("userAgent"); w.string(info.userAgent)
        w.key("firstSeen"); w.int(info.firstTs)
        w.key("lastSeen"); w.int(info.lastTs)
    }

    /// `format=columns`: one array per figure, in the order of `points`' members. A chart reads
    /// it without building an object per poll, and it is about half the bytes.
    static func writeColumns(_ points: [ConnectionPoint], fields: ConnectionFields, _ w: inout JSONWriter) {
        func column(_ name: StaticString, _ flag: ConnectionFields, _ value: (ConnectionPoint) -> Void) {
            guard flag.isEmpty || fields.contains(flag) else { return }
            w.key(name)
            w.beginArray()
            for point in points { value(point) }
            w.endArray()
        }
        w.beginObject()
        column("t", []) { w.int($0.t) }
        column("role", .role) { w.string($0.role) }
        column("inboundBytes", .inboundBytes) { w.int($0.inboundBytes) }
        column("outboundBytes", .outboundBytes) { w.int($0.outboundBytes) }
        column("bitrateIn", .bitrateIn) { w.number($0.bitrateIn, decimals: 0) }
        column("bitrateOut", .bitrateOut) { w.number($0.bitrateOut, decimals: 0) }
        column("reset", .reset) { w.bool($0.reset) }
        column("rttMs", .rttMs) { w.number($0.rttMs) }
        column("recvRateMbps", .recvRateMbps) { w.number($0.recvRateMbps) }
        column("sendRateMbps", .sendRateMbps) { w.number($0.sendRateMbps) }
        column("linkCapacityMbps", .linkCapacityMbps) { w.number($0.linkCapacityMbps) }
        column("latencyMs", .latencyMs) { w.int($0.latencyMs) }
        column("jitter", .jitter) { w.number($0.jitter) }
        column("lost", .lost) { w.int($0.lost) }
        column("retransmitted", .retransmitted) { w.int($0.retransmitted) }
        column("dropped", .dropped) { w.int($0.dropped) }
        w.endObject()
    }

    /// `format=csv`: a row per point, the figures of `fields` after the id and time; absent
    /// figures are empty cells.
    static func csv(_ id: String, _ points: [ConnectionPoint], fields: ConnectionFields) -> [UInt8] {
        var out = CSVWriter()
        out.raw("id,t,time")
        for field in ConnectionFields.all where fields.contains(field.flag) { out.raw("," + field.name) }
        out.raw("\n")
        func int(_ value: Int64?) { out.raw(","); if let value { out.raw(String(value)) } }
        for p in points {
            out.field(id)
            out.field(String(p.t))
            out.raw(TimeArgument.rfc3339(milliseconds: p.t))
            if fields.contains(.role) { out.raw(","); out.raw(p.role) }
            if fields.contains(.inboundBytes) { int(p.inboundBytes) }
            if fields.contains(.outboundBytes) { int(p.outboundBytes) }
            if fields.contains(.bitrateIn) { out.raw(","); out.value(p.bitrateIn, decimals: 0) }
            if fields.contains(.bitrateOut) { out.raw(","); out.value(p.bitrateOut, decimals: 0) }
            if fields.contains(.reset) { out.raw(p.reset ? ",1" : ",0") }
            if fields.contains(.rttMs) { out.raw(","); out.value(p.rttMs) }
            if fields.contains(.recvRateMbps) { out.raw(","); out.value(p.recvRateMbps) }
            if fields.contains(.sendRateMbps) { out.raw(","); out.value(p.sendRateMbps) }
            if fields.contains(.linkCapacityMbps) { out.raw(","); out.value(p.linkCapacityMbps) }
            if fields.contains(.latencyMs) { int(p.latencyMs) }
            if fields.contains(.jitter) { out.raw(","); out.value(p.jitter) }
            if fields.contains(.lost) { int(p.lost) }
            if fields.contains(.retransmitted) { int(p.retransmitted) }
            if fields.contains(.dropped) { int(p.dropped) }
            out.raw("\n")
        }
        return out.bytes
    }

    static func write(_ p: ConnectionPoint, fields: ConnectionFields, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("t"); w.int(p.t)
        if fields.contains(.role) { w.key("role"); w.string(p.role) }
        if fields.contains(.inboundBytes) { w.key("inboundBytes"); w.int(p.inboundBytes) }
        if fields.contains(.outboundBytes) { w.key("outboundBytes"); w.int(p.outboundBytes) }
        if fields.contains(.bitrateIn) { w.key("bitrateIn"); w.number(p.bitrateIn, decimals: 0) }
        if fields.contains(.bitrateOut) { w.key("bitrateOut"); w.number(p.bitrateOut, decimals: 0) }
        if fields.contains(.reset) { w.key("reset"); w.bool(p.reset) }
        if fields.contains(.rttMs) { w.key("rttMs"); w.number(p.rttMs) }
        if fields.contains(.recvRateMbps) { w.key("recvRateMbps"); w.number(p.recvRateMbps) }
        if fields.contains(.sendRateMbps) { w.key("sendRateMbps"); w.number(p.sendRateMbps) }
        if fields.contains(.linkCapacityMbps) { w.key("linkCapacityMbps"); w.number(p.linkCapacityMbps) }
        if fields.contains(.latencyMs) { w.key("latencyMs"); w.int(p.latencyMs) }
        if fields.contains(.jitter) { w.key("jitter"); w.number(p.jitter) }
        if fields.contains(.lost) { w.key("lost"); w.int(p.lost) }
        if fields.contains(.retransmitted) { w.key("retransmitted"); w.int(p.retransmitted) }
        if fields.contains(.dropped) { w.key("dropped"); w.int(p.dropped) }
        w.endObject()
    }

    /// Folds time-ordered polls or minute rollups into buckets of `step` starting at multiples of
    /// it, as path history does: gauges by `aggregation`, increases summed, counters and role the
    /// bucket's newest, latency the newest reported (as the rollups keep it); buckets without
    /// polls left out.
    struct Folder {
        let aggregation: Aggregation
        private var buckets: StepBuckets<Bucket>

        init(step: Int64, aggregation: Aggregation) {
            self.aggregation = aggregation
            buckets = StepBuckets(step: step)
        }

        mutating func add(_ p: ConnectionPoint) {
            buckets.add(at: p.t, opening: { Bucket(start: $0, newest: p) }) { $0.add(p) }
        }

        mutating func add(_ minute: ConnectionMinute) {
            buckets.add(at: minute.point.t, opening: { Bucket(start: $0, newest: minute.point) }) { $0.add(minute) }
        }

        mutating func finish() -> [ConnectionPoint] {
            buckets.finish().map { $0.point(aggregation) }
        }
    }

    struct Bucket {
        let start: Int64
        var newest: ConnectionPoint
        var bitrateIn = Fold(), bitrateOut = Fold(), rtt = Fold(), recvRate = Fold(), sendRate = Fold()
        var linkCapacity = Fold(), jitter = Fold()
        var latency: Int64?
        var reset = false
        var lost: Int64?, retransmitted: Int64?, dropped: Int64?

        init(start: Int64, newest: ConnectionPoint) {
            self.start = start
            self.newest = newest
        }

        mutating func add(_ p: ConnectionPoint) {
            newest = p
            bitrateIn.add(p.bitrateIn)
            bitrateOut.add(p.bitrateOut)
            rtt.add(p.rttMs)
            recvRate.add(p.recvRateMbps)
            sendRate.add(p.sendRateMbps)
            linkCapacity.add(p.linkCapacityMbps)
            jitter.add(p.jitter)
            fold(p)
        }

        /// The rollups keep no receive or send rate, link capacity or jitter: those stay null.
        mutating func add(_ minute: ConnectionMinute) {
            newest = minute.point
            bitrateIn.merge(minute.bitrateIn)
            bitrateOut.merge(minute.bitrateOut)
            rtt.merge(minute.rtt)
            fold(minute.point)
        }

        private mutating func fold(_ p: ConnectionPoint) {
            latency = p.latencyMs ?? latency
            reset = reset || p.reset
            lost = Self.total(lost, p.lost)
            retransmitted = Self.total(retransmitted, p.retransmitted)
            dropped = Self.total(dropped, p.dropped)
        }

        /// Increases come from MediaMTX's counters; a damaged one must not trap the sum.
        static func total(_ sum: Int64?, _ value: Int64?) -> Int64? {
            guard let value else { return sum }
            guard let sum else { return value }
            let (result, overflow) = sum.addingReportingOverflow(value)
            return overflow ? (value > 0 ? .max : .min) : result
        }

        func point(_ aggregation: Aggregation) -> ConnectionPoint {
            var p = newest
            p.t = start
            p.bitrateIn = bitrateIn.value(aggregation)
            p.bitrateOut = bitrateOut.value(aggregation)
            p.rttMs = rtt.value(aggregation)
            p.recvRateMbps = recvRate.value(aggregation)
            p.sendRateMbps = sendRate.value(aggregation)
            p.linkCapacityMbps = linkCapacity.value(aggregation)
            p.jitter = jitter.value(aggregation)
            p.latencyMs = latency
            p.reset = reset
            p.lost = lost
            p.retransmitted = retransmitted
            p.dropped = dropped
            return p
        }
    }
}

extension Fold {
    /// A connection minute keeps no latest value; `agg=last` is refused before one is read.
    mutating func merge(_ minute: ConnectionMinute.Gauge) {
        guard minute.count > 0 else { return }
        merge(Fold(sum: minute.sum, count: minute.count, low: minute.min ?? .infinity, high: minute.max ?? -.infinity,
                   last: nil))
        last = nil
    }
}

/// `fields=bitrateIn,rttMs` on connection history: the point members besides `t`. A chart of a
/// link's RTT needs one of fifteen; the rest would be most of the answer's bytes and time.
struct ConnectionFields: OptionSet, Sendable {
    let rawValue: UInt32

    static let role = ConnectionFields(rawValue: 1 << 0)
    static let inboundBytes = ConnectionFields(rawValue: 1 << 1)
    static let outboundBytes = ConnectionFields(rawValue: 1 << 2)
    static let bitrateIn = ConnectionFields(rawValue: 1 << 3)
    static let bitrateOut = ConnectionFields(rawValue: 1 << 4)
    static let reset = ConnectionFields(rawValue: 1 << 5)
    static let rttMs = ConnectionFields(rawValue: 1 << 6)
    static let recvRateMbps = ConnectionFields(rawValue: 1 << 7)
    static let sendRateMbps = ConnectionFields(rawValue: 1 << 8)
    static let linkCapacityMbps = ConnectionFields(rawValue: 1 << 9)
    static let latencyMs = ConnectionFields(rawValue: 1 << 10)
    static let jitter = ConnectionFields(rawValue: 1 << 11)
    static let lost = ConnectionFields(rawValue: 1 << 12)
    static let retransmitted = ConnectionFields(rawValue: 1 << 13)
    static let dropped = ConnectionFields(rawValue: 1 << 14)

    /// In answer order.
    static let all: [(name: String, flag: ConnectionFields)] = [
        ("role", .role), ("inboundBytes", .inboundBytes), ("outboundBytes", .outboundBytes),
        ("bitrateIn", .bitrateIn), ("bitrateOut", .bitrateOut), ("reset", .reset), ("rttMs", .rttMs),
        ("recvRateMbps", .recvRateMbps), ("sendRateMbps", .sendRateMbps), ("linkCapacityMbps", .linkCapacityMbps),
        ("latencyMs", .latencyMs), ("jitter", .jitter), ("lost", .lost), ("retransmitted", .retransmitted),
        ("dropped", .dropped),
    ]
    static let everything = ConnectionFields(rawValue: (1 << 15) - 1)

    /// How far into a stored connection the answer has to read. Role and counters sit before
    /// the inbound bitrate in storage, so they cost nothing extra.
    var columns: ConnectionColumn {
        if !isDisjoint(with: [.lost, .retransmitted, .dropped]) { return .counters }
        if isSubset(of: [.role, .inboundBytes, .outboundBytes, .bitrateIn]) { return .bitrateIn }
        return .gauges
    }

    static func parse(_ text: String?) throws -> ConnectionFields {
        try RequestInput.fields(text, all: all, everything: .everything, kind: "connection point field",
                                example: "fields=bitrateIn,rttMs")
    }
}
