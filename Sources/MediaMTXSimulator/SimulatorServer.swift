import Foundation
import Hummingbird
import MTXMonCore
import NIOCore

/// The simulator's HTTP face: MediaMTX's `/v3/...` routes plus `/sim/...` switches for faults.
public enum SimulatorServer {
    /// Builds the router; `Simulator` holds every bit of state, so tests may flip faults directly.
    public static func router(_ simulator: Simulator) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: FaultMiddleware(simulator: simulator))
        let generation = simulator.generation
        router.get("/v3/info") { _, _ -> Response in
            guard generation.isModern else { return notFound(generation) }
            return json(.object([("version", .string(generation.version)), ("started", .string(Render.iso(WallClock.nowMs())))]))
        }
        router.get("/v3/paths/list") { request, _ -> Response in
            try list(request, generation) { simulator.pathItems(at: $0) }
        }
        router.get("/v3/paths/get/**") { request, context -> Response in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            let items = simulator.pathItems(at: WallClock.nowMs())
            guard let item = items.first(where: { if case let .object(f) = $0, case let .string(n)? = f.first?.1 { n == name } else { false } })
            else { return error(.notFound, "path not found", generation) }
            return json(item)
        }
        for proto in SimProtocol.allCases {
            // v1.12 had neither HLS sessions nor MoQ; v1.21 answers only its new names.
            router.get(RouterPath(proto.listPath(generation))) { request, _ -> Response in
                if (proto == .hls || proto == .moq) && generation == .v1_12 { return notFound(generation) }
                return try list(request, generation) { simulator.connectionItems(proto, at: $0) }
            }
        }
        router.get(RouterPath(generation == .v1_21 ? "/v3/hls/muxers/list" : "/v3/hlsmuxers/list")) { request, _ -> Response in
            try list(request, generation) { simulator.hlsMuxerItems(at: $0) }
        }
        // Forward destinations, one path at a time (v1.20+).
        let forwardList = generation == .v1_21 ? "/v3/paths/forward-dests/list" : "/v3/paths/forward/list"
        router.get(RouterPath(forwardList)) { request, _ -> Response in
            guard generation.isModern else { return notFound(generation) }
            guard let name = request.uri.queryParameters.get("path") else {
                return error(.badRequest, "path is missing", generation)
            }
            guard simulator.forwardItems(path: name, at: WallClock.nowMs()) != nil else {
                return error(.notFound, "path not found", generation)
            }
            return try list(request, generation) { simulator.forwardItems(path: name, at: $0) ?? [] }
        }
        // A connection's control channel only; its media figures are on the session lists.
        let controlLists = generation == .v1_21 ? ["rtsp/conns", "rtsps/conns"] : ["rtspconns", "rtspsconns"]
        for name in controlLists {
            router.get("/v3/\(name)/list") { request, _ -> Response in
                try list(request, generation) { _ in [] }
            }
        }
        addSwitches(router, simulator)
        return router
    }

    /// `/sim/...`: the fault switches, for people driving `mtxmon simulate` with curl.
    static func addSwitches(_ router: Router<BasicRequestContext>, _ simulator: Simulator) {
        // `?list=rtmpconns` (or `info`) confines the fault to that one endpoint.
        router.post("/sim/fault") { request, _ -> Response in
            let mode = request.uri.queryParameters.get("mode") ?? "none"
            if mode == "refuse" { return refuse(request, simulator) }
            let fault: SimulatorFault
            switch mode {
            case "none": fault = .none
            case "500": fault = .serverError
            case "garbage": fault = .garbage
            case "401": fault = .unauthorized
            case "404": fault = .notFound
            case "bad-item": fault = .badItem
            case "slow":
                let ms = request.uri.queryParameters.get("ms", as: Int.self) ?? 5_000
                fault = .slow(.milliseconds(ms))
            default:
                return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(
                    string: "unknown mode '\(mode)': use none, 500, garbage, 401, 404, bad-item, slow "
                        + "(with ms=5000) or refuse (with ms=5000)\n")))
            }
            if let list = request.uri.queryParameters.get("list") {
                let names = ["info", "paths"] + SimProtocol.allCases.map(\.listName)
                guard names.contains(list) else {
                    return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(
                        string: "unknown list '\(list)': use one of " + names.joined(separator: ", ") + "\n")))
                }
                simulator.setFault(fault, list: list)
            } else {
                simulator.fault = fault
            }
            return Response(status: .noContent)
        }
        router.post("/sim/reset/**") { _, context -> Response in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            return Response(status: simulator.resetCounters(path: name) ? .noContent : .notFound)
        }
        // A reader joins (`?protocol=rtsp|srt|rtmp|webrtc|hls`) or the oldest one leaves.
        router.post("/sim/reader/add/**") { request, context -> Response in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            let text = request.uri.queryParameters.get("protocol") ?? "rtsp"
            guard let proto = SimProtocol(rawValue: text) else {
                return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(
                    string: "unknown protocol '\(text)': use "
                        + SimProtocol.allCases.map(\.rawValue).joined(separator: ", ") + "\n")))
            }
            guard let id = simulator.addReader(path: name, proto: proto) else { return Response(status: .notFound) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: id + "\n")))
        }
        // A forward destination's state: `?pos=0&state=error&error=…` (`type=`, `dest=` optional).
        router.post("/sim/forward/**") { request, context -> Response in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            let query = request.uri.queryParameters
            let state = query.get("state") ?? "forwarding"
            guard ["idle", "forwarding", "error"].contains(state), let pos = Int(query.get("pos") ?? "0") else {
                return text(.badRequest, "state must be idle, forwarding or error, pos a number, e.g. pos=0&state=error\n")
            }
            let ok: Bool
            if let dest = query.get("dest") {
                ok = simulator.setForward(path: name, pos: pos, state: state, type: query.get("type") ?? "rtmp",
                                          dest: dest, error: query.get("error") ?? "")
            } else {
                ok = simulator.setForward(path: name, pos: pos, state: state, type: query.get("type") ?? "rtmp",
                                          error: query.get("error") ?? "")
            }
            return Response(status: ok ? .noContent : .notFound)
        }
        // The newest reader of a path falls behind (`?slow=false`: keeps up again).
        router.post("/sim/reader/slow/**") { request, context -> Response in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            let slow = request.uri.queryParameters.get("slow") != "false"
            guard let id = simulator.slowReader(path: name, slow: slow) else { return Response(status: .notFound) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: id + "\n")))
        }
        // `?percent=3`: the publisher's RTP packets are lost at that rate from now on (0 stops).
        router.post("/sim/loss/**") { request, context -> Response in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            guard let raw = request.uri.queryParameters.get("percent"), let percent = Double(raw),
                  percent >= 0, percent <= 100 else {
                return text(.badRequest, "percent must be from 0 to 100, e.g. percent=3\n")
            }
            return Response(status: simulator.setLoss(path: name, percent: percent) ? .noContent : .notFound)
        }
        router.post("/sim/reader/drop/**") { _, context -> Response in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            return Response(status: simulator.dropReader(path: name) ? .noContent : .notFound)
        }
        router.post("/sim/remove/**") { _, context -> Response in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            return Response(status: simulator.removePath(name) ? .noContent : .notFound)
        }
        // The next answers of the path list give the path these counters, one per answer:
        // `?inbound=-1,9223372036854775807&outbound=0,5`.
        router.post("/sim/counters/**") { request, context -> Response in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            /// The values of `key`, empty when it is not given, `nil` when one is not an integer.
            func values(_ key: String) -> [Int64]? {
                guard let text = request.uri.queryParameters.get(key), !text.isEmpty else { return [] }
                let parts = text.split(separator: ",").map { Int64($0.trimmingCharacters(in: .whitespaces)) }
                return parts.contains(nil) ? nil : parts.compactMap { $0 }
            }
            guard let inbound = values("inbound"), let outbound = values("outbound") else {
                return text(.badRequest, "inbound and outbound are comma-separated 64-bit integers, "
                    + "e.g. inbound=-1,9223372036854775807\n")
            }
            return Response(status: simulator.script(path: name, inbound: inbound, outbound: outbound)
                ? .noContent : .notFound)
        }
        router.post("/sim/auth") { request, _ -> Response in
            simulator.requireBasicAuth(user: request.uri.queryParameters.get("user"),
                                       password: request.uri.queryParameters.get("pass"))
            return Response(status: .noContent)
        }
    }

    /// The port closes for `ms` and then listens again: a stopped MediaMTX, which refuses
    /// connections rather than answering them.
    static func refuse(_ request: Request, _ simulator: Simulator) -> Response {
        let query = request.uri.queryParameters
        guard query.get("list") == nil else {
            return text(.badRequest, "mode=refuse closes the whole port: drop list=\n")
        }
        let ms = query.get("ms").map { Int($0) } ?? 5_000
        guard let ms, (1...3_600_000).contains(ms) else {
            return text(.badRequest, "ms must be from 1 to 3600000, e.g. ms=5000\n")
        }
        guard simulator.refuse(for: .milliseconds(ms)) else {
            return text(.notImplemented, "this server cannot stop listening: mode=refuse needs mtxmon simulate "
                + "(or PortListener.serve in tests)\n")
        }
        return Response(status: .noContent)
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(status: status, body: .init(byteBuffer: ByteBuffer(string: message)))
    }

    static func list(_ request: Request, _ generation: APIGeneration, _ items: (Int64) -> [JSON]) throws -> Response {
        let query = request.uri.queryParameters
        switch Paging.parameters(page: query.get("page"), itemsPerPage: query.get("itemsPerPage")) {
        case let .failure(failure):
            return error(.badRequest, failure.message, generation)
        case let .success((page, perPage)):
            return json(Paging.page(items(WallClock.nowMs()), page: page, itemsPerPage: perPage))
        }
    }

    static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: value.serialized())))
    }

    /// MediaMTX's error body: v1.20 adds `"status":"error"`.
    static func error(_ status: HTTPResponse.Status, _ message: String, _ generation: APIGeneration) -> Response {
        let fields: [(String, JSON)] = generation.isModern
            ? [("status", "error"), ("error", .string(message))] : [("error", .string(message))]
        return json(.object(fields), status: status)
    }

    static func notFound(_ generation: APIGeneration) -> Response {
        Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "404 page not found\n")))
    }
}

/// Applies the simulator's fault switches and its basic-auth requirement to `/v3/...` routes.
struct FaultMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let simulator: Simulator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v3/") else { return try await next(request, context) }
        simulator.heard(userAgent: request.headers[.userAgent])
        if let (user, password) = simulator.credentials {
            let expected = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
            guard request.headers[.authorization] == expected else {
                return SimulatorServer.error(.unauthorized, "authentication error", simulator.generation)
            }
        }
        switch simulator.fault(for: request.uri.path) {
        case .none:
            return try await next(request, context)
        case .serverError:
            return SimulatorServer.error(.internalServerError, "simulated failure", simulator.generation)
        case .unauthorized:
            return SimulatorServer.error(.unauthorized, "authentication error", simulator.generation)
        case .notFound:
            return SimulatorServer.notFound(simulator.generation)
        case .badItem:
            return SimulatorServer.json(.object([
                ("itemCount", 1), ("pageCount", 1),
                ("items", .array([.object([("id", "5f0c1e2a-0000-4000-8000-000000000001"), ("state", "publish"),
                                           ("inboundBytes", "lots")])])),
            ]))
        case .garbage:
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"itemCount\": 3, \"items\": [{\"name\": <html>")))
        case let .slow(delay):
            try await Task.sleep(for: delay)
            return try await next(request, context)
        }
    }
}
