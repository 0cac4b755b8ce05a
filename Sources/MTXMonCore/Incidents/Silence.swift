/// An operator's "not now": incidents it matches are still recorded, but not sent. The case it
/// is made for is a planned restart of MediaMTX.
public struct Silence: Codable, Sendable, Equatable {
    public var id: String
    /// The server it applies to; `nil`: every server.
    public var server: String?
    /// A path name pattern (`*` for any run of characters); `nil`: every path, and server-wide incidents.
    public var path: String?
    /// An incident cause (`offline`, `server_unreachable`, …); `nil`: every cause.
    public var cause: String?
    public var startsAt: Int64
    public var endsAt: Int64
    public var comment: String
    /// Who made it, as the request said (`createdBy`), else the address it came from.
    public var createdBy: String?

    public init(id: String, server: String? = nil, path: String? = nil, cause: String? = nil, startsAt: Int64,
                endsAt: Int64, comment: String, createdBy: String? = nil) {
        self.id = id
        self.server = server
        self.path = path
        self.cause = cause
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.comment = comment
        self.createdBy = createdBy
    }

    public func active(at ts: Int64) -> Bool { startsAt <= ts && ts < endsAt }

    /// A path pattern matches an incident about a path by that path, and a server-wide incident
    /// only when every path it lists matches.
    public func matches(_ incident: Incident, at ts: Int64) -> Bool {
        guard active(at: ts) else { return false }
        if let server, incident.server != server { return false }
        if let cause, cause != incident.cause.rawValue { return false }
        guard let path else { return true }
        if let name = incident.path { return EventRules.matches(path, name) }
        return !incident.paths.isEmpty && incident.paths.allSatisfy { EventRules.matches(path, $0) }
    }

    /// What is wrong with a silence a client sent, in words that say how to fix it; `nil` when
    /// it can be stored.
    public func problem(now: Int64) -> String? {
        if endsAt <= now { return "endsAt is not in the future: give a time after now (unix ms), or use duration, e.g. \"30m\"" }
        if endsAt <= startsAt { return "endsAt must be after startsAt" }
        if endsAt - now > 30 * 86_400_000 { return "a silence may last at most 30 days: give an earlier endsAt" }
        if comment.allSatisfy(\.isWhitespace) { return "comment is empty: say why, e.g. \"planned MediaMTX upgrade\"" }
        if comment.utf8.count > 1_000 { return "comment is longer than 1000 bytes" }
        if let cause, Incident.Cause(rawValue: cause) == nil {
            return "cause '\(cause)' is not one of \(Incident.Cause.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        if let path, path.isEmpty || path.utf8.count > 1_000 { return "path must be a name pattern of 1 to 1000 bytes, e.g. live/*" }
        if server == nil, path == nil, cause == nil {
            return "a silence needs at least one matcher (server, path or cause): silencing everything hides every page"
        }
        return nil
    }
}
