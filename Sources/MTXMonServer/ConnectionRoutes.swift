import Foundation
import HistoryStore
import Hummingbird
import MTXMonCore

/// `GET /api/v1/paths/{name…}/connections` (mounted by `PathRoutes`) and
/// `GET /api/v1/connections/{id}/history`: who published and read a path, with SRT link health.
struct ConnectionRoutes: Sendable {
    let environment: APIEnvironment
    static let maxPoints: Int64 = 11_000

    func add(to router: Router<APIRequestContext>) {
        router.get("/api/v1/connections/{id}/history") { request, context -> Response in
            let id = try context.parameters.require("id")
            guard !id.isEmpty, id.utf8.count <= 256 else {
                throw APIError(.badRequest, "bad_id", "a connection id is MediaMTX's id, 1–256 bytes: list them with "
                    + "GET /api/v1/paths/{name}/connections")
            }
            let range = try HistoryRange.parse(
                from: RequestInput.query(request, "from"), to: RequestInput.query(request, "to"),
                step: RequestInput.query(request, "step"), aggregation: RequestInput.query(request, "agg"),
                now: environment.now(), interval: environment.intervalMs)
            let (info, points) = try await environment.store.readOffThread { db throws -> (ConnectionInfo, [ConnectionPoint]) in
                guard let info = try db.connection(id: id) else {
                    throw APIError(.notFound, "unknown_connection", "mtxmon has no history for connection '\(id)': "
                        + "ids come from GET /api/v1/paths/{name}/connections; history is kept for the raw retention")
                }
                // Whole-minute steps read the minute rollups, which outlive the raw samples.
                if let step = range.step, step % 60_000 == 0 {
                    return (info, try db.connectionMinutes(key: info.key, from: range.from, to: range.to))
                }
                return (info, try db.connectionPoints(key: info.key, from: range.from, to: range.to))
            }
            var w = JSONWriter(capacity: 256 + points.count * 200)
            w.beginObject()
            Self.identity(info, &w)
            w.key("from"); w.int(range.from)
            w.key("to"); w.int(range.to)
            w.key("step"); w.int(range.step)
            w.key("points")
            w.beginArray()
            for point in Self.bucket(points, step: range.step) { Self.write(point, &w) }
            w.endArray()
            w.endObject()
            return APIServer.json(w)
        }
    }

    /// The connections of one path in the latest snapshot, each with its SRT link health from
    /// the samples of the past minute.
    func current(_ name: String, snapshot: Snapshot?) async throws -> Response {
        guard let snapshot, snapshot.path(named: name) != nil else {
            throw APIError(.notFound, "unknown_path", "no path '\(name)' in the latest snapshot: list the paths with "
                + "GET /api/v1/paths")
        }
        let connections = snapshot.connections(of: name)
        let srtIDs = connections.filter { $0.proto == .srt }.map(\.id)
        let now = snapshot.ts
        let links = srtIDs.isEmpty ? [:] : (try? await environment.store.readOffThread { db in
            try db.linkSamples(ids: srtIDs, now: now)
        }) ?? [:]
        var w = JSONWriter(capacity: 1_024 * (connections.count + 1))
        w.beginObject()
        w.key("path"); w.string(name)
        w.key("ts"); w.int(snapshot.ts)
        w.key("connections")
        w.beginArray()
        for connection in connections {
            Self.write(connection, full: true, health: links[connection.id].map { LinkHealth.evaluate($0, now: now) }, &w)
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
        w.key("id"); w.string(info.id)
        w.key("protocol"); w.string(info.proto)
        w.key("role"); w.string(info.role)
        w.key("path"); w.string(info.path)
        w.key("remoteAddr"); w.string(info.remoteAddr)
        w.key("userAgent"); w.string(info.userAgent)
        w.key("firstSeen"); w.int(info.firstTs)
        w.key("lastSeen"); w.int(info.lastTs)
    }

    static func write(_ p: ConnectionPoint, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("t"); w.int(p.t)
        w.key("role"); w.string(p.role)
        w.key("inboundBytes"); w.int(p.inboundBytes)
        w.key("outboundBytes"); w.int(p.outboundBytes)
        w.key("bitrateIn"); w.number(p.bitrateIn, decimals: 0)
        w.key("bitrateOut"); w.number(p.bitrateOut, decimals: 0)
        w.key("reset"); w.bool(p.reset)
        w.key("rttMs"); w.number(p.rttMs)
        w.key("recvRateMbps"); w.number(p.recvRateMbps)
        w.key("sendRateMbps"); w.number(p.sendRateMbps)
        w.key("linkCapacityMbps"); w.number(p.linkCapacityMbps)
        w.key("latencyMs"); w.int(p.latencyMs)
        w.key("jitter"); w.number(p.jitter)
        w.key("lost"); w.int(p.lost)
        w.key("retransmitted"); w.int(p.retransmitted)
        w.key("dropped"); w.int(p.dropped)
        w.endObject()
    }

    /// Buckets of `step` starting at multiples of it: gauges averaged, increases summed, counters
    /// and role the bucket's last; buckets without polls left out.
    static func bucket(_ points: [ConnectionPoint], step: Int64?) -> [ConnectionPoint] {
        guard let step, step > 0 else { return points }
        var result: [ConnectionPoint] = []
        var group: [ConnectionPoint] = []
        func flush() {
            guard var last = group.last else { return }
            func mean(_ values: [Double?]) -> Double? {
                let present = values.compactMap { $0 }
                return present.isEmpty ? nil : present.reduce(0, +) / Double(present.count)
            }
            // Increases come from MediaMTX's counters; a damaged one must not trap the sum.
            func total(_ values: [Int64?]) -> Int64? {
                let present = values.compactMap { $0 }
                return present.isEmpty ? nil : present.reduce(0) { sum, value in
                    let (result, overflow) = sum.addingReportingOverflow(value)
                    return overflow ? (value > 0 ? .max : .min) : result
                }
            }
            last.t = group[0].t - group[0].t % step
            last.bitrateIn = mean(group.map(\.bitrateIn))
            last.bitrateOut = mean(group.map(\.bitrateOut))
            last.rttMs = mean(group.map(\.rttMs))
            last.recvRateMbps = mean(group.map(\.recvRateMbps))
            last.sendRateMbps = mean(group.map(\.sendRateMbps))
            last.linkCapacityMbps = mean(group.map(\.linkCapacityMbps))
            last.jitter = mean(group.map(\.jitter))
            last.reset = group.contains { $0.reset }
            last.lost = total(group.map(\.lost))
            last.retransmitted = total(group.map(\.retransmitted))
            last.dropped = total(group.map(\.dropped))
            result.append(last)
            group.removeAll(keepingCapacity: true)
        }
        for point in points {
            if let first = group.first, point.t - point.t % step != first.t - first.t % step { flush() }
            group.append(point)
        }
        flush()
        return result
    }
}
