import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A reply as plain JSON, for comparing with a capture line whatever the key order.
struct PlainReply {
    let status: Int
    let json: Any?

    /// `json` written with sorted keys: equal for equal JSON values.
    var canonical: Data? { json.flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) } }

    subscript(_ key: String) -> Any? { (json as? [String: Any])?[key] }
}

/// A client of its own, every request on a fresh connection: a connection pooled by another
/// client could be one a closing server has just dropped, and a pool that met refused
/// connections waits out its back-off before it connects again.
let plainHTTP = HTTPClient(eventLoopGroupProvider: .singleton)

/// A GET on a fresh connection, or on `client`'s pooled ones where no listener closes meanwhile.
func get(_ url: String, keepAliveOn client: HTTPClient? = nil) async throws -> PlainReply {
    try await request(url, method: .GET, client: client)
}

func post(_ url: String) async throws -> PlainReply {
    try await request(url, method: .POST, client: nil)
}

private func request(_ url: String, method: HTTPMethod, client: HTTPClient?) async throws -> PlainReply {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if client == nil { request.headers.add(name: "connection", value: "close") }
    let response = try await (client ?? plainHTTP).execute(request, timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 16 << 20)
    let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: [.fragmentsAllowed])
    return PlainReply(status: Int(response.status.code), json: json)
}

/// `data` (a capture line's body) written as `PlainReply.canonical` writes a reply.
func canonical(_ data: Data?) throws -> Data? {
    try data.map { try JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: $0), options: [.sortedKeys]) }
}

/// A value read by `JSONSerialization` written as `PlainReply.canonical` writes one.
func sortedJSON(_ value: Any) throws -> Data {
    try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
}

/// A capture line's body as an object; empty for a failed poll.
func object(_ data: Data?) throws -> [String: Any] {
    try data.flatMap { try JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
}

/// An HTTP client for the length of `body`, shut down after it.
func withHTTPClient<T: Sendable>(_ body: (HTTPClient) async throws -> T) async throws -> T {
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}
