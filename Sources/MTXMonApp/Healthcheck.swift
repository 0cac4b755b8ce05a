import AsyncHTTPClient
import NIOCore

/// A probe of a running mtxmon's `/healthz`, for container healthchecks where no curl is installed.
public enum Healthcheck {
    /// The address to probe for a server listening on `listen`: a wildcard address is probed on loopback.
    public static func url(listen: HostPort) -> String {
        let host: String = switch listen.host {
        case "0.0.0.0", "*": "127.0.0.1"
        case "::", "[::]": "::1"
        default: listen.host
        }
        return "http://\(HostPort(host: host, port: listen.port))/healthz"
    }

    /// The status and the start of the body of `GET url`; a status of nil with the reason when nothing answered.
    public static func probe(_ url: String, timeout: TimeAmount = .seconds(5)) async -> (status: Int?, body: String) {
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), String(buffer: body))
        } catch {
            return (nil, "\(url): \(error)")
        }
    }
}
