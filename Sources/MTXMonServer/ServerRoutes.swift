import History
import Hummingbird
import MTXMonCore

/// One MediaMTX server of the fleet as `/api/v1/servers`, `/healthz` and `/readyz` tell it.
struct ServerHealth: Sendable {
    var name: String
    var url: String?
    var version: String?
    var versionNote: String?
    /// The version given at its last answer, kept while it fails.
    var lastVersion: String?
    var lastPoll: PollRecord?
    var lastSuccessTs: Int64?
    var failure: FailureRun?
    var paths: Int?
    var connections: Int?
    /// The interval the server is polled at, when known (its collector, its snapshot, its polls).
    var intervalMs: Int64?
    /// In the history but no longer configured: kept to be read, not watched.
    var retired = false

    /// Each server this process knows of: from its own collector under `mtxmon run`, else from
    /// the history file (polls) and the snapshot cache (version, counts); configured servers
    /// that have not been polled yet are listed too, and servers of the history that are not
    /// configured (when this process knows what is) as retired.
    /// `latest` is the snapshot cache's merged view, read by the caller.
    static func all(_ environment: APIEnvironment, latest: Snapshot?) async throws -> [ServerHealth] {
        let statuses = environment.collectorStatus?.servers
        var byName: [String: ServerHealth] = [:]
        for name in try await environment.history.serverNames() {
            let polls = try await environment.history.polls(server: name)
            byName[name] = ServerHealth(name: name, lastPoll: polls.lastPoll, lastSuccessTs: polls.lastAnsweredTs,
                                        failure: polls.failure, intervalMs: polls.intervalMs)
        }
        for name in environment.serverURLs.keys where byName[name] == nil { byName[name] = ServerHealth(name: name) }
        for (name, status) in statuses ?? [:] {
            var s = byName[name] ?? ServerHealth(name: name)
            s.lastSuccessTs = status.lastSuccessTs ?? s.lastSuccessTs
            s.failure = status.mediaMTXDown ? status.failingSince.map {
                FailureRun(since: $0, polls: status.failedPollsInRow, lastError: status.lastError,
                           lastReason: status.lastFailureReason)
            } : nil
            s.version = status.serverVersion
            s.versionNote = status.serverVersionNote
            s.lastVersion = status.lastVersion
            s.paths = status.pathsSeen
            s.intervalMs = status.intervalMs ?? s.intervalMs
            s.connections = status.connectionsSeen
            byName[name] = s
        }
        for summary in latest?.servers ?? [] {
            guard var s = byName[summary.name] else { continue }
            if statuses == nil {
                s.version = summary.serverVersion
                s.versionNote = summary.serverVersionNote
                s.paths = summary.paths
                s.connections = summary.connections
                s.intervalMs = summary.intervalMs ?? s.intervalMs
            }
            byName[summary.name] = s
        }
        return byName.values.map { server in
            var s = server
            s.url = environment.serverURLs[s.name]
            s.retired = environment.isRetired(s.name)
            return s
        }.sorted { $0.name < $1.name }
    }

    /// `retired` for a server no longer configured, whatever its last polls said; else `down`
    /// while it fails, `up` while its last answer is current by its cadence, `stale` past that,
    /// `unknown` before any answer.
    func state(now: Int64, intervalMs fallback: Int64) -> String {
        if retired { return "retired" }
        if failure != nil { return "down" }
        return lastSuccessTs.map { Cadence(intervalMs: intervalMs ?? fallback).isCurrent($0, at: now) ? "up" : "stale" }
            ?? "unknown"
    }

    /// The version as shown: none while the server fails (it may come back another) or is retired.
    var shownVersion: String? { failure == nil && !retired ? version : nil }

    /// `versionNote` while a server fails, in `/api/v1/servers` and `/healthz` alike.
    static let versionUnknownWhileDown = "unknown while MediaMTX does not answer"

    /// `intervalMs` stands for the server's own interval when that is not known.
    func write(_ w: inout JSONWriter, now: Int64, intervalMs fallback: Int64) {
        let cadence = Cadence(intervalMs: intervalMs ?? fallback)
        w.beginObject()
        w.key("name"); w.string(name)
        w.key("url"); w.string(url)
        w.key("state"); w.string(state(now: now, intervalMs: fallback))
        w.key("version"); w.string(shownVersion)
        w.key("versionNote"); w.string(retired ? "no longer configured; its history is kept"
            : failure == nil ? versionNote : Self.versionUnknownWhileDown)
        w.key("lastVersion"); w.string(lastVersion ?? version)
        w.key("lastPoll")
        w.beginObject()
        w.key("ts"); w.int(lastPoll?.ts)
        w.key("ok"); if let ok = lastPoll?.ok { w.bool(ok) } else { w.null() }
        w.key("durationMs"); w.int(lastPoll?.durationMs)
        w.key("error"); w.string(lastPoll?.ok == false ? lastPoll?.error : nil)
        w.key("reason"); w.string(lastPoll?.ok == false ? lastPoll?.reason : nil)
        w.endObject()
        w.key("lastSuccessTs"); w.int(lastSuccessTs)
        w.key("failingSince"); w.int(failure?.since)
        w.key("failedPolls"); w.int(failure?.polls ?? 0)
        w.key("paths"); w.int((paths ?? lastPoll?.pathCount).map(Int64.init))
        w.key("connections"); w.int(connections.map(Int64.init))
        w.key("intervalMs"); w.int(cadence.intervalMs)
        w.endObject()
    }
}

/// `GET /api/v1/servers`: the fleet, each server's state and newest poll.
struct ServerRoutes: Sendable {
    let environment: APIEnvironment

    func add(to router: Router<APIRequestContext>) {
        router.get("/api/v1/servers") { _, _ -> Response in
            let servers = try await ServerHealth.all(environment, latest: (try? await environment.cache.latest()) ?? nil)
            let now = environment.now()
            var w = JSONWriter(capacity: 512 * (servers.count + 1))
            w.beginObject()
            w.key("ts"); w.int(now)
            w.key("servers")
            w.beginArray()
            for server in servers {
                server.write(&w, now: now, intervalMs: environment.intervalMs)
            }
            w.endArray()
            w.endObject()
            return APIServer.json(w)
        }
    }
}
