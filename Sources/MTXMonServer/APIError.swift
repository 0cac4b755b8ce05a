import History
import Hummingbird
import Logging
import MTXMonCore

/// Every error the API answers with: `{"error":{"code","message"}}`, a stable machine-readable
/// code and a message that names the problem and an accepted example.
struct APIError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    init(_ error: QueryError) {
        self.init(.badRequest, "bad_\(error.parameter)", error.message)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var writer = JSONWriter(capacity: 128 + message.utf8.count)
        writer.beginObject()
        writer.key("error")
        writer.beginObject()
        writer.key("code")
        writer.string(code)
        writer.key("message")
        writer.string(message)
        writer.endObject()
        writer.endObject()
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: writer.buffer))
    }
}

/// Turns whatever a route threw into the API's JSON error shape, so that no client ever sees
/// Hummingbird's plain-text errors or an HTML page, and logs what was not expected.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as QueryError {
            throw APIError(error)
        } catch let error as AmbiguousPath {
            // Two servers' paths are never mixed: the client picks one.
            let example = error.servers.first ?? ServerName.default
            throw APIError(.badRequest, "ambiguous_\(error.kind)", "\(error.kind) '\(error.name)' exists on servers "
                + "\(error.servers.joined(separator: ", ")): add ?server=<name> to say which, e.g. "
                + "\(request.uri.path)?server=\(example)")
        } catch let error as HTTPError {
            switch error.status {
            case .notFound:
                throw APIError(.notFound, "no_such_endpoint", "no endpoint \(request.method) \(request.uri.path): "
                    + "every endpoint answers GET and is described at GET /openapi.yaml, e.g. GET /api/v1/paths")
            default:
                throw APIError(error.status, "http_\(error.status.code)", error.body ?? error.status.reasonPhrase)
            }
        } catch let error as HistoryError {
            throw APIError(.serviceUnavailable, "history_unavailable",
                           "the history could not be read (\(error)): see GET /healthz")
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            throw APIError(.internalServerError, "internal", "mtxmon could not answer: \(error)")
        }
    }
}
