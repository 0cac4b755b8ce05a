import Hummingbird

/// `MTXMON_API_TOKEN`: every endpoint but `/healthz` and `/readyz` (which load balancers probe without
/// credentials) needs `Authorization: Bearer TOKEN`. The comparison takes the same time
/// whatever the mismatch, so the token cannot be guessed byte by byte from response times.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]
    let openPaths: Set<String>

    init(token: String, openPaths: Set<String> = ["/healthz", "/readyz"]) {
        self.token = Array(token.utf8)
        self.openPaths = openPaths
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Browsers send CORS preflights without credentials.
        guard request.method != .options, !openPaths.contains(request.uri.path),
              !DashboardRoutes.isOpen(request.uri.path) else {
            return try await next(request, context)
        }
        // Browsers cannot set headers on a WebSocket: the live feed alone also takes `?token=`.
        if request.uri.path == "/api/v1/ws", let query = request.uri.queryParameters["token"],
           Self.constantTimeEqual(Array(String(query).utf8), token) {
            return try await next(request, context)
        }
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), Self.constantTimeEqual(Array(header.utf8.dropFirst(prefix.utf8.count)), token) else {
            throw APIError(.unauthorized, "unauthorized", header.isEmpty
                ? "this mtxmon needs a token: send the header Authorization: Bearer <MTXMON_API_TOKEN>"
                : "the token is wrong or not sent as Authorization: Bearer <MTXMON_API_TOKEN>",
                headers: [.wwwAuthenticate: "Bearer realm=\"mtxmon\""])
        }
        return try await next(request, context)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

/// `MTXMON_CORS_ORIGINS`: a browser page from one of these origins may call the API. Off when
/// the list is empty: no CORS header at all, so other sites' pages cannot read the answers.
struct AllowedOriginsMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains(origin) || origins.contains("*") else {
            return try await next(request, context)
        }
        let allow = origins.contains("*") ? "*" : origin
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            return Response(status: .noContent, headers: [
                .accessControlAllowOrigin: allow, .vary: "Origin",
                .accessControlAllowMethods: "GET, POST, DELETE, OPTIONS",
                .accessControlAllowHeaders: "Authorization, Content-Type, Accept",
                .accessControlMaxAge: "600",
            ])
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // Errors need the header too, or the page cannot read why it failed.
            response = try error.response(from: request, context: context)
        }
        response.headers[.accessControlAllowOrigin] = allow
        response.headers[.vary] = "Origin"
        return response
    }
}
