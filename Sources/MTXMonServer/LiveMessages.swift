import Foundation
import MTXMonCore
import NIOCore

/// A snapshot written once for every client: each path's item as `GET /api/v1/paths` gives it,
/// and the whole `update` message, which most clients (those with no filter) get as it is.
struct EncodedSnapshot: Sendable, Equatable {
    /// `nil` when there is no snapshot at all yet (no collector has polled).
    let ts: Int64?
    /// Where the hub put this snapshot in its sequence. Clients order snapshots by it, not by
    /// `ts`: the collector's clock may step back, and the feed's order is the true one.
    let sequence: Int64
    let serverVersion: String?
    /// Kept to show it as `unknown` to a client that connects once it is stale.
    let snapshot: Snapshot?
    let source: PathRoutes.Source
    let names: [String]
    let servers: [String?]
    let items: [[UInt8]]
    private(set) var update: ByteBuffer

    init(_ snapshot: Snapshot?, source: PathRoutes.Source, sequence: Int64) {
        ts = snapshot?.ts
        self.sequence = sequence
        serverVersion = snapshot?.serverVersion
        self.snapshot = snapshot
        self.source = source
        names = snapshot?.paths.map(\.name) ?? []
        servers = snapshot?.paths.map(\.server) ?? []
        let byPath = PathRoutes.connectionsByPath(snapshot)
        items = snapshot?.paths.map { path in
            var writer = JSONWriter(capacity: 512)
            PathRoutes.write(path, connections: byPath[PathRoutes.key(path)] ?? [], to: &writer)
            return writer.bytes
        } ?? []
        update = ByteBuffer()
        update = message(type: "update", filter: .all, stale: nil)
    }

    /// Orders snapshots; "none yet" (sequence 0) comes before any.
    var order: Int64 { sequence }

    /// `{"type":…,"ts":…,…,"paths":[…]}` with the items `filter` lets through. `stale` is written
    /// on snapshot messages, which may be sent long after the poll; updates are fresh by nature.
    func message(type: StaticString, filter: PathFilter, stale: Bool?, intervalMs: Int64? = nil) -> ByteBuffer {
        if type == "update", filter == .all, update.readableBytes > 0 { return update }
        var writer = JSONWriter(capacity: 128 + items.reduce(0) { $0 + $1.count + 1 })
        writer.beginObject()
        writer.key("type"); writer.string("\(type)")
        writer.key("ts"); writer.int(ts)
        if let stale {
            writer.key("stale"); writer.bool(stale)
            writer.key("source"); writer.string(source.rawValue)
            writer.key("intervalMs"); writer.int(intervalMs)
        }
        writer.key("serverVersion"); writer.string(serverVersion)
        writer.key("serverVersionNote"); writer.string(snapshot?.serverVersionNote)
        writer.key("reachable"); if let snapshot { writer.bool(snapshot.answered) } else { writer.null() }
        writer.key("error"); writer.string(snapshot?.error)
        if let servers = snapshot?.servers {
            writer.key("servers")
            PathRoutes.writeServers(servers, now: WallClock.nowMs(), intervalMs: intervalMs ?? 2_000,
                                    &writer)
        }
        writer.key("paths")
        var bytes = writer.bytes
        bytes.append(UInt8(ascii: "["))
        var first = true
        for i in items.indices where filter.contains(names[i], server: servers[i]) {
            let item = items[i]
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes.append(contentsOf: item)
        }
        bytes.append(contentsOf: [UInt8(ascii: "]"), UInt8(ascii: "}")])
        return ByteBuffer(bytes: bytes)
    }
}

extension StaticString {
    static func == (lhs: StaticString, rhs: StaticString) -> Bool { "\(lhs)" == "\(rhs)" }
}

/// An `id` a client put on a request, echoed on the reply so it can match them.
enum RequestID: Sendable, Equatable {
    case string(String)
    case number(Double)

    func write(to writer: inout JSONWriter) {
        switch self {
        case let .string(text): writer.string(text)
        case let .number(value): writer.number(value, decimals: 6)
        }
    }
}

/// What a client may send, parsed.
enum ClientMessage: Equatable {
    case subscribe(PathFilter, id: RequestID?)
    case history(HistoryRequest)
    case ping(id: RequestID?)

    struct HistoryRequest: Equatable {
        var path: String
        var server: String?
        var from: String?
        var to: String?
        var step: String?
        var agg: String?
        var fields: String?
        var id: RequestID?
    }
}

/// A client message that cannot be used: answered with an `error` message, the connection stays.
struct ClientMessageError: Error, Equatable {
    let code: String
    let message: String
    var id: RequestID?
}

extension ClientMessage {
    static let maxSubscribedPaths = 10_000
    static let types = "subscribe, history, ping"

    static func parse(_ text: String) throws(ClientMessageError) -> ClientMessage {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw ClientMessageError(code: "bad_message", message: "a message must be a JSON object with a "
                    + "\"type\": e.g. {\"type\":\"subscribe\",\"paths\":\"*\"}")
            }
            object = parsed
        } catch let error as ClientMessageError {
            throw error
        } catch {
            throw ClientMessageError(code: "bad_json", message: "the message is not JSON (\(text.prefix(40))…): "
                + "send a JSON object such as {\"type\":\"subscribe\",\"paths\":[\"cam1\"]}")
        }
        let id = try requestID(object["id"])
        guard let type = object["type"] as? String else {
            throw ClientMessageError(code: "bad_message", message: "the message has no \"type\" string: use one of "
                + types, id: id)
        }
        switch type {
        case "subscribe":
            return .subscribe(try filter(object["paths"], servers: object["servers"], id: id), id: id)
        case "history":
            guard let path = object["path"] as? String else {
                throw ClientMessageError(code: "bad_path", message: "history needs \"path\": a path name, e.g. "
                    + "{\"type\":\"history\",\"path\":\"cam1\",\"from\":\"now-1h\"}", id: id)
            }
            let server = object["server"] as? String
            return .history(.init(path: path, server: server, from: try argument(object, "from", id), to: try argument(object, "to", id),
                                  step: try argument(object, "step", id), agg: try argument(object, "agg", id),
                                  fields: try argument(object, "fields", id), id: id))
        case "ping":
            return .ping(id: id)
        default:
            throw ClientMessageError(code: "unknown_type", message: "\"type\":\"\(type.prefix(40))\" is not a "
                + "message this server understands: use one of \(types)", id: id)
        }
    }

    private static func requestID(_ value: Any?) throws(ClientMessageError) -> RequestID? {
        switch value {
        case nil, is NSNull: return nil
        case let text as String where text.utf8.count <= 256: return .string(text)
        case let number as NSNumber where !number.isBoolean && number.doubleValue.isFinite:
            return .number(number.doubleValue)
        default:
            throw ClientMessageError(code: "bad_id", message: "\"id\" must be a string of at most 256 bytes or a number")
        }
    }

    /// `paths` ("*" or names) on `servers` (absent: every server; else a list of server names).
    private static func filter(_ value: Any?, servers: Any?, id: RequestID?) throws(ClientMessageError) -> PathFilter {
        let paths = try filter(value ?? (servers == nil ? nil : "*"), id: id)
        switch servers {
        case nil, is NSNull: return paths
        case let list as [Any]:
            var names = Set<String>()
            for entry in list {
                guard let name = entry as? String, ServerName.problem(name) == nil else {
                    throw ClientMessageError(code: "bad_servers", message: "every entry of \"servers\" must be a "
                        + "server name as GET /api/v1/servers lists it, e.g. {\"type\":\"subscribe\",\"servers\":[\"edge1\"]}",
                        id: id)
                }
                names.insert(name)
            }
            switch paths {
            case .all: return .onServers(names, paths: nil)
            case let .only(set): return .onServers(names, paths: set)
            case let .onServers(_, set): return .onServers(names, paths: set)
            }
        default:
            throw ClientMessageError(code: "bad_servers", message: "\"servers\" must be a list of server names, e.g. "
                + "{\"type\":\"subscribe\",\"servers\":[\"edge1\"],\"paths\":\"*\"}", id: id)
        }
    }

    private static func filter(_ value: Any?, id: RequestID?) throws(ClientMessageError) -> PathFilter {
        if let star = value as? String, star == "*" { return .all }
        guard let names = value as? [Any] else {
            throw ClientMessageError(code: "bad_paths", message: "subscribe needs \"paths\": \"*\" or a list of "
                + "path names, e.g. {\"type\":\"subscribe\",\"paths\":[\"cam1\",\"live/cam2\"]}", id: id)
        }
        guard names.count <= maxSubscribedPaths else {
            throw ClientMessageError(code: "bad_paths", message: "\(names.count) paths is more than "
                + "\(maxSubscribedPaths): subscribe to \"*\" instead", id: id)
        }
        var set = Set<String>()
        for name in names {
            guard let name = name as? String, !name.isEmpty, name.utf8.count <= RequestInput.maxPathNameBytes else {
                throw ClientMessageError(code: "bad_paths", message: "every entry of \"paths\" must be a path name "
                    + "(a non-empty string of at most \(RequestInput.maxPathNameBytes) bytes)", id: id)
            }
            set.insert(name)
        }
        return .only(set)
    }

    /// A range argument as the REST API takes it; numbers (unix seconds) are accepted as well.
    private static func argument(_ object: [String: Any], _ key: String, _ id: RequestID?) throws(ClientMessageError) -> String? {
        switch object[key] {
        case nil, is NSNull: return nil
        case let text as String: return text
        case let number as NSNumber where !number.isBoolean:
            return number.stringValue
        default:
            throw ClientMessageError(code: "bad_\(key)", message: "\"\(key)\" must be a string such as \"now-1h\" "
                + "or a number of unix seconds", id: id)
        }
    }
}

/// The server's own small messages.
enum LiveReply {
    static func error(_ error: ClientMessageError) -> ByteBuffer {
        var w = JSONWriter(capacity: 128 + error.message.utf8.count)
        w.beginObject()
        w.key("type"); w.string("error")
        if let id = error.id { w.key("id"); id.write(to: &w) }
        w.key("code"); w.string(error.code)
        w.key("message"); w.string(error.message)
        w.endObject()
        return w.buffer
    }

    static func subscribed(_ filter: PathFilter, id: RequestID?) -> ByteBuffer {
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string("subscribed")
        if let id { w.key("id"); id.write(to: &w) }
        w.key("paths")
        func names(_ set: Set<String>?) {
            guard let set else { w.string("*"); return }
            w.beginArray()
            for name in set.sorted() { w.string(name) }
            w.endArray()
        }
        switch filter {
        case .all: names(nil)
        case let .only(set): names(set)
        case let .onServers(servers, set):
            names(set)
            w.key("servers")
            names(servers)
        }
        w.endObject()
        return w.buffer
    }

    static func pong(id: RequestID?, ts: Int64) -> ByteBuffer {
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string("pong")
        if let id { w.key("id"); id.write(to: &w) }
        w.key("ts"); w.int(ts)
        w.endObject()
        return w.buffer
    }

    /// `{"type":"event","event":kind,"ts","path",…}`: the fields of clients written for the first
    /// three kinds (`online`, `offline`, `reset`), then the stored event's (`id`, `severity`,
    /// `server`, `connection`, `message`, `figures`), as `GET /api/v1/events` has them.
    static func event(_ event: MonitorEvent) -> ByteBuffer {
        var w = JSONWriter(capacity: 256 + event.message.utf8.count)
        w.beginObject()
        w.key("type"); w.string("event")
        w.key("event"); w.string(event.kind.rawValue)
        w.key("ts"); w.int(event.ts)
        w.key("path"); w.string(event.path)
        EventRoutes.fields(event, &w)
        w.endObject()
        return w.buffer
    }
}

extension NSNumber {
    /// JSON `true`/`false` arrive as numbers too; they are not numbers to mtxmon.
    var isBoolean: Bool { String(cString: objCType) == "c" }
}
