import Hummingbird

/// `GET /` and `GET /assets/…`: the dashboard, built into the binary so there is nothing to
/// install beside it and nothing fetched from elsewhere. The page holds no data: it is served
/// without the token and asks for it before calling the API.
struct DashboardRoutes: Sendable {
    static let assets: [String: (bytes: [UInt8], type: String)] = [
        "app.js": (PackageResources.app_js, "text/javascript; charset=utf-8"),
        "chart.js": (PackageResources.chart_js, "text/javascript; charset=utf-8"),
        "style.css": (PackageResources.style_css, "text/css; charset=utf-8"),
    ]
    /// Paths the token middleware lets through.
    static func isOpen(_ path: String) -> Bool { path == "/" || path.hasPrefix("/assets/") }

    func add(to router: Router<APIRequestContext>) {
        router.get("/") { _, _ in
            Self.response(PackageResources.index_html, type: "text/html; charset=utf-8")
        }
        router.get("/assets/{file}") { _, context in
            let file = try context.parameters.require("file")
            guard let asset = Self.assets[file] else {
                throw APIError(.notFound, "no_such_asset", "the dashboard has no file '\(file)'")
            }
            return Self.response(asset.bytes, type: asset.type)
        }
    }

    /// `no-cache`: the browser revalidates, so a new binary's page is never mixed with old scripts.
    static func response(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [
            .contentType: type, .cacheControl: "no-cache",
            .init("X-Content-Type-Options")!: "nosniff",
            .init("Content-Security-Policy")!: "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'",
        ], body: .init(byteBuffer: .init(bytes: bytes)))
    }
}
