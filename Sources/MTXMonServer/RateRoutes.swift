import History
import Hummingbird
import MTXMonCore

/// `GET /api/v1/rates/{name…}?window=5m[&at=…]`: what a path did over a window, from its counters.
struct RateRoutes: Sendable {
    let environment: APIEnvironment
    /// Rollup retention's default: hour rollups make even that some 9,600 rows.
    static let maxWindowMs: Int64 = 400 * 86_400_000

    func add(to router: Router<APIRequestContext>) {
        router.get("/api/v1/rates/**") { request, context -> Response in
            let name = try RequestInput.pathName(context)
            let format = try RequestInput.format(request)
            let windowText = RequestInput.query(request, "window") ?? "5m"
            let window: Int64
            do { window = try DurationParser.milliseconds(windowText) } catch {
                throw APIError(.badRequest, "bad_window", "window='\(windowText)' is not a duration: use e.g. window=5m or window=24h")
            }
            guard window > 0, window <= Self.maxWindowMs else {
                throw APIError(.badRequest, "bad_window", "window='\(windowText)' must be above zero and at most 400d: e.g. window=1h")
            }
            let now = environment.now()
            let to = try RequestInput.query(request, "at").map { text throws(QueryError) in
                try TimeArgument.milliseconds(text, parameter: "at", now: now)
            } ?? now
            let from = to - window
            let server = try RequestInput.server(request)
            // Runs end (and readers stop being counted) by the gap rule of the interval that server is
            // polled at.
            guard let found = try await environment.history.windowRates(
                named: name, server: server, from: from, to: to, fallbackIntervalMs: environment.intervalMs) else {
                throw HistoryRoutes.unknown(name, server: server)
            }
            let on = found.path.server, rates = found.rates
            switch format {
            case .json, .columns: return APIServer.json(Self.json(name, server: on, rates))
            case .csv: return APIServer.csv(Self.csv(name, server: on, rates), filename: "rates.csv")
            }
        }
    }

    static func json(_ name: String, server: String, _ r: WindowRates) -> JSONWriter {
        var w = JSONWriter()
        w.beginObject()
        w.key("server")
        w.string(server)
        w.key("path")
        w.string(name)
        w.key("window")
        w.beginObject()
        w.key("from"); w.int(r.from)
        w.key("to"); w.int(r.to)
        w.key("coveredFrom"); w.int(r.coveredFrom)
        w.key("coveredTo"); w.int(r.coveredTo)
        w.key("coveredMs"); w.int(r.coveredMs)
        w.key("samples"); w.int(r.samples)
        w.endObject()
        w.key("resets"); w.int(r.resets)
        w.key("bytesIn"); w.int(r.bytesIn)
        w.key("bytesOut"); w.int(r.bytesOut)
        w.key("bitrateIn"); stats(r.bitrateIn, &w)
        w.key("bitrateOut"); stats(r.bitrateOut, &w)
        w.key("readerMinutes"); w.number(r.readerMinutes, decimals: 2)
        w.key("onlineMs"); w.int(r.onlineMs)
        w.key("srt")
        if let srt = r.srt {
            w.beginObject()
            w.key("packetsReceived"); w.int(srt.packetsReceived)
            w.key("packetsLost"); w.int(srt.packetsLost)
            w.key("packetsRetransmitted"); w.int(srt.packetsRetransmitted)
            w.key("packetsDropped"); w.int(srt.packetsDropped)
            w.key("lossRatio"); w.number(srt.lossRatio, decimals: 6)
            w.key("retransmissionRatio"); w.number(srt.retransmissionRatio, decimals: 6)
            w.key("lostPerSecond"); w.number(srt.lostPerSecond)
            w.key("retransmittedPerSecond"); w.number(srt.retransmittedPerSecond)
            w.endObject()
        } else {
            w.null()
        }
        w.endObject()
        return w
    }

    static func stats(_ s: BitrateStats, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("avg"); w.number(s.avg, decimals: 0)
        w.key("avgOnline"); w.number(s.avgOnline, decimals: 0)
        w.key("min"); w.number(s.min, decimals: 0)
        w.key("max"); w.number(s.max, decimals: 0)
        w.key("last"); w.number(s.last, decimals: 0)
        w.endObject()
    }

    static let csvHeader = "server,path,from,to,coveredFrom,coveredTo,coveredMs,samples,resets,bytesIn,bytesOut,"
        + "bitrateInAvg,bitrateInMin,bitrateInMax,bitrateInLast,bitrateOutAvg,bitrateOutMin,bitrateOutMax,"
        + "bitrateOutLast,readerMinutes,srtPacketsReceived,srtPacketsLost,srtPacketsRetransmitted,"
        + "srtPacketsDropped,srtLossRatio,srtRetransmissionRatio,srtLostPerSecond,srtRetransmittedPerSecond,"
        + "bitrateInAvgOnline,bitrateOutAvgOnline,onlineMs\n"

    static func csv(_ name: String, server: String, _ r: WindowRates) -> [UInt8] {
        var out = CSVWriter()
        out.raw(csvHeader)
        out.field(server)
        out.field(name)
        for value in [r.from, r.to, r.coveredFrom, r.coveredTo, r.coveredMs, Int64(r.samples), Int64(r.resets),
                      r.bytesIn, r.bytesOut] {
            out.field(value.map { String($0) })
        }
        for s in [r.bitrateIn, r.bitrateOut] {
            for value in [s.avg, s.min, s.max, s.last] { out.number(value, decimals: 0) }
        }
        out.number(r.readerMinutes, decimals: 2)
        out.field(r.srt.map { String($0.packetsReceived) })
        out.field(r.srt.map { String($0.packetsLost) })
        out.field(r.srt.map { String($0.packetsRetransmitted) })
        out.field(r.srt.map { String($0.packetsDropped) })
        out.number(r.srt?.lossRatio, decimals: 6)
        out.number(r.srt?.retransmissionRatio, decimals: 6)
        out.number(r.srt?.lostPerSecond)
        out.number(r.srt?.retransmittedPerSecond)
        out.number(r.bitrateIn.avgOnline, decimals: 0)
        out.number(r.bitrateOut.avgOnline, decimals: 0)
        out.number(Double(r.onlineMs), decimals: 0, last: true)
        return out.bytes
    }
}
