import History
import Hummingbird
import MTXMonCore

/// `GET /api/v1/history/{name…}` and `GET /api/v1/history?paths=a,b`: ranged history, raw or
/// bucketed, as JSON or CSV.
struct HistoryRoutes: Sendable {
    let environment: APIEnvironment
    /// Bytes one answer may take, as estimated before it is read: 32 MiB holds 100 paths × 1 h raw
    /// with every figure three times over, and is what a browser parses in about a second.
    static let maxAnswerBytes: Int64 = 32 << 20

    func add(to router: Router<APIRequestContext>) {
        router.get("/api/v1/history/**") { request, context -> Response in
            let name = try RequestInput.pathName(context)
            let format = try RequestInput.format(request, columns: true)
            let range = try parseRange(request)
            let fields = try PointFields.parse(RequestInput.query(request, "fields"))
            let server = try RequestInput.server(request)
            guard let found = try await environment.history.points(named: name, server: server, range: range,
                                                                   fields: fields) else {
                throw Self.unknown(name, server: server)
            }
            let series = [Series(server: found.path.server, name: name, points: found.points)]
            return respond(series, range: range, fields: fields, format: format, single: true)
        }
        router.get("/api/v1/history") { request, _ -> Response in
            let format = try RequestInput.format(request, columns: true)
            let range = try parseRange(request)
            let fields = try PointFields.parse(RequestInput.query(request, "fields"))
            let wanted = try RequestInput.query(request, "paths").map { list in
                try list.split(separator: ",", omittingEmptySubsequences: false).map { try RequestInput.validatePathName(Array($0.utf8)) }
            }
            let server = try RequestInput.server(request)
            let span = range.to - range.from
            let width = range.step ?? environment.intervalMs
            let history = environment.history
            var paths: [PathRef] = []
            if let wanted {
                for name in wanted { paths.append(try await Self.resolve(history, name, server: server)) }
            } else {
                paths = try await history.paths(server: server)
            }
            // A point costs its time and each figure asked for, as JSON writes them (measured: about
            // 50 bytes a point with every figure, many of them null).
            let perPoint = Int64(16 + 4 * fields.rawValue.nonzeroBitCount)
            let points = Int64(paths.count).multipliedSaturating(by: span / max(1, width))
            let estimate = points.multipliedSaturating(by: perPoint)
            guard estimate <= Self.maxAnswerBytes else {
                let fit = max(1, Self.maxAnswerBytes / perPoint)
                let step = max(width, Int64(paths.count).multipliedSaturating(by: span) / fit) / 1_000 + 1
                throw APIError(.badRequest, "bad_step", "\(paths.count) paths over \(span / 1_000) s would be about "
                    + "\(points) points (\(estimate >> 20) MiB), more than one answer holds (\(Self.maxAnswerBytes >> 20) "
                    + "MiB): use step=\(step)s or larger, fewer paths (paths=a,b), fewer fields (fields=bitrateIn) "
                    + "or a shorter range")
            }
            var series: [Series] = []
            for path in paths {
                let points = try await history.points(path, range: range, fields: fields)
                // Listing every path: ones without samples in the range are left out.
                if wanted == nil && points.isEmpty { continue }
                series.append(Series(server: path.server, name: path.name, points: points))
            }
            return respond(series, range: range, fields: fields, format: format, single: false)
        }
    }

    struct Series: Sendable {
        let server: String
        let name: String
        let points: [HistoryPoint]
    }

    static func unknown(_ name: String, server: String? = nil) -> APIError {
        if let server {
            return APIError(.notFound, "unknown_path", "mtxmon has no history for path '\(name)' on server '\(server)': "
                + "list the servers with GET /api/v1/servers and their paths with "
                + "GET /api/v1/history?server=\(server)&from=now-24h&step=1h, or check the spelling and case")
        }
        return APIError(.notFound, "unknown_path", "mtxmon has no history for path '\(name)': list the known paths with "
            + "GET /api/v1/history?from=now-24h&step=1h, or check the name's spelling and case")
    }

    /// The path: on `server`, or on the one server that has the name (several throw
    /// `AmbiguousPath`, answered 400 by the error middleware); 404 when unknown.
    static func resolve(_ history: any HistoryReader, _ name: String, server: String?) async throws -> PathRef {
        guard let path = try await history.path(named: name, server: server) else { throw unknown(name, server: server) }
        return path
    }

    func parseRange(_ request: Request) throws -> HistoryRange {
        try HistoryRange.parse(
            from: RequestInput.query(request, "from"), to: RequestInput.query(request, "to"),
            step: RequestInput.query(request, "step"), aggregation: RequestInput.query(request, "agg"),
            now: environment.now(), interval: environment.intervalMs)
    }

    func respond(_ series: [Series], range: HistoryRange, fields: PointFields, format: RequestInput.Format,
                 single: Bool) -> Response {
        switch format {
        case .csv:
            return APIServer.csv(Self.csv(series, fields: fields),
                                 filename: single ? "history.csv" : "history-\(series.count)-paths.csv")
        case .json, .columns:
            let total = series.reduce(0) { $0 + $1.points.count }
            var writer = JSONWriter(capacity: 256 + total * (16 + 20 * fields.rawValue.nonzeroBitCount))
            writer.beginObject()
            if single {
                writer.key("server")
                writer.string(series.first?.server)
                writer.key("path")
                writer.string(series.first?.name)
            }
            writer.key("from")
            writer.int(range.from)
            writer.key("to")
            writer.int(range.to)
            writer.key("step")
            writer.int(range.step)
            writer.key("agg")
            writer.string(range.step == nil ? nil : range.aggregation.rawValue)
            let shown = fields.stepped(range.step != nil)
            func points(_ points: [HistoryPoint]) {
                if format == .columns {
                    writer.key("columns")
                    Self.writeColumns(points, fields: shown, to: &writer)
                } else {
                    writer.key("points")
                    Self.write(points, fields: shown, to: &writer)
                }
            }
            if single {
                points(series.first?.points ?? [])
            } else {
                writer.key("series")
                writer.beginArray()
                for one in series {
                    writer.beginObject()
                    writer.key("server")
                    writer.string(one.server)
                    writer.key("path")
                    writer.string(one.name)
                    points(one.points)
                    writer.endObject()
                }
                writer.endArray()
            }
            writer.endObject()
            return APIServer.json(writer)
        }
    }

    static func write(_ points: [HistoryPoint], fields: PointFields, to writer: inout JSONWriter) {
        writer.beginArray()
        for point in points {
            writer.beginObject()
            writer.key("t")
            writer.int(point.t)
            // Raw answers name `samples` only on the minute points that stand for pruned raw rows.
            if fields.contains(.samples) || point.samples > 1 { writer.key("samples"); writer.int(point.samples) }
            if fields.contains(.online) { writer.key("online"); writer.bool(point.online) }
            if fields.contains(.reset) { writer.key("reset"); writer.bool(point.reset) }
            if fields.contains(.bitrateIn) { writer.key("bitrateIn"); writer.number(point.bitrateIn, decimals: 0) }
            if fields.contains(.bitrateOut) { writer.key("bitrateOut"); writer.number(point.bitrateOut, decimals: 0) }
            if fields.contains(.readers) { writer.key("readers"); writer.number(point.readers, decimals: 2) }
            if fields.contains(.inboundBytes) { writer.key("inboundBytes"); writer.int(point.inboundBytes) }
            if fields.contains(.outboundBytes) { writer.key("outboundBytes"); writer.int(point.outboundBytes) }
            if fields.contains(.rttMs) { writer.key("rttMs"); writer.number(point.rttMs) }
            if fields.contains(.recvRateMbps) { writer.key("recvRateMbps"); writer.number(point.recvRateMbps) }
            if fields.contains(.linkCapacityMbps) { writer.key("linkCapacityMbps"); writer.number(point.linkCapacityMbps) }
            writer.endObject()
        }
        writer.endArray()
    }

    /// One array per figure, `t` first: what a chart draws from, without a key per point.
    static func writeColumns(_ points: [HistoryPoint], fields: PointFields, to writer: inout JSONWriter) {
        func column(_ name: StaticString, _ value: (HistoryPoint) -> Void) {
            writer.key(name)
            writer.beginArray()
            for point in points { value(point) }
            writer.endArray()
        }
        writer.beginObject()
        column("t") { writer.int($0.t) }
        if fields.contains(.samples) || points.contains(where: { $0.samples > 1 }) {
            column("samples") { writer.int($0.samples) }
        }
        if fields.contains(.online) { column("online") { writer.bool($0.online) } }
        if fields.contains(.reset) { column("reset") { writer.bool($0.reset) } }
        if fields.contains(.bitrateIn) { column("bitrateIn") { writer.number($0.bitrateIn, decimals: 0) } }
        if fields.contains(.bitrateOut) { column("bitrateOut") { writer.number($0.bitrateOut, decimals: 0) } }
        if fields.contains(.readers) { column("readers") { writer.number($0.readers, decimals: 2) } }
        if fields.contains(.inboundBytes) { column("inboundBytes") { writer.int($0.inboundBytes) } }
        if fields.contains(.outboundBytes) { column("outboundBytes") { writer.int($0.outboundBytes) } }
        if fields.contains(.rttMs) { column("rttMs") { writer.number($0.rttMs) } }
        if fields.contains(.recvRateMbps) { column("recvRateMbps") { writer.number($0.recvRateMbps) } }
        if fields.contains(.linkCapacityMbps) { column("linkCapacityMbps") { writer.number($0.linkCapacityMbps) } }
        writer.endObject()
    }

    static func csv(_ series: [Series], fields: PointFields) -> [UInt8] {
        var out = CSVWriter()
        out.raw("server,path,t,time")
        for field in PointFields.all where fields.contains(field.flag) { out.raw("," + field.name) }
        out.raw("\n")
        for one in series {
            for p in one.points {
                out.field(one.server)
                out.field(one.name)
                out.field(String(p.t))
                out.raw(TimeArgument.rfc3339(milliseconds: p.t))
                if fields.contains(.samples) { out.raw(","); out.raw(String(p.samples)) }
                if fields.contains(.online) { out.raw(p.online ? ",1" : ",0") }
                if fields.contains(.reset) { out.raw(p.reset ? ",1" : ",0") }
                if fields.contains(.bitrateIn) { out.raw(","); out.value(p.bitrateIn, decimals: 0) }
                if fields.contains(.bitrateOut) { out.raw(","); out.value(p.bitrateOut, decimals: 0) }
                if fields.contains(.readers) { out.raw(","); out.value(p.readers, decimals: 2) }
                if fields.contains(.inboundBytes) { out.raw(","); out.raw(String(p.inboundBytes)) }
                if fields.contains(.outboundBytes) { out.raw(","); out.raw(String(p.outboundBytes)) }
                if fields.contains(.rttMs) { out.raw(","); out.value(p.rttMs) }
                if fields.contains(.recvRateMbps) { out.raw(","); out.value(p.recvRateMbps) }
                if fields.contains(.linkCapacityMbps) { out.raw(","); out.value(p.linkCapacityMbps) }
                out.raw("\n")
            }
        }
        return out.bytes
    }
}

extension PointFields {
    static func parse(_ text: String?) throws -> PointFields {
        try RequestInput.fields(text, all: all, everything: .everything, kind: "point field",
                                example: "fields=bitrateIn,readers")
    }
}

extension RequestInput {
    /// `fields=a,b` against the names `all` knows; absent means `everything`. An unknown name is
    /// a 400 listing the known ones.
    static func fields<F: OptionSet>(_ text: String?, all: [(name: String, flag: F)], everything: F, kind: String,
                                     example: String) throws -> F where F.Element == F {
        guard let text else { return everything }
        var fields = F()
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let field = all.first(where: { $0.name == name }) else {
                throw APIError(.badRequest, "bad_fields", "fields: '\(name)' is not a \(kind): use any of "
                    + all.map(\.name).joined(separator: ",") + ", e.g. \(example)")
            }
            fields.insert(field.flag)
        }
        return fields
    }
}
