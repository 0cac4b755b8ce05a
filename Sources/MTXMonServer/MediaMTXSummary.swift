import MTXMonCore

extension HealthReport {
    /// `/healthz`'s `mediamtx`: what the top-level fields say of MediaMTX. With one server
    /// (`scope` `server`) they are that server's; with a fleet (`scope` `fleet`) they are the
    /// whole fleet's and never one server's: no URL, `reachable` only when every server answers,
    /// the common version or a note, the outage of the server failing longest. Retired servers
    /// are counted apart and speak for nothing here.
    func writeMediaMTX(_ w: inout JSONWriter, url: String, lastOK: Bool?, now: Int64, intervalMs: Int64) {
        var counts = ServerCounts()
        for server in servers { counts.add(server.state(now: now, intervalMs: intervalMs)) }
        w.key("mediamtx")
        w.beginObject()
        w.key("scope"); w.string(fleet ? "fleet" : "server")
        if fleet {
            let active = servers.filter { !$0.retired }
            let version = FleetVersion(active.map(\.shownVersion))
            let longest = active.compactMap(\.failure).min { $0.since < $1.since }
            w.key("url"); w.null()
            w.key("reachable"); if let reachable = counts.reachable { w.bool(reachable) } else { w.null() }
            w.key("version"); w.string(version.version)
            w.key("versionNote"); w.string(version.note)
            w.key("failingSince"); w.int(longest?.since)
            w.key("failedPolls"); w.int(longest?.polls ?? 0)
        } else {
            w.key("url"); w.string(url.isEmpty ? nil : url)
            w.key("reachable"); if lastOK != nil { w.bool(failure == nil) } else { w.null() }
            w.key("version"); w.string(failure == nil ? serverVersion : nil)
            w.key("versionNote"); w.string(failure == nil ? serverVersionNote : ServerHealth.versionUnknownWhileDown)
            w.key("failingSince"); w.int(failure?.since)
            w.key("failedPolls"); w.int(failure?.polls ?? 0)
        }
        w.key("serverCounts")
        counts.write(&w)
        w.endObject()
    }
}

extension ServerCounts {
    /// `{"configured":…,"up":…,"down":…,"stale":…,"unknown":…,"retired":…}`.
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("configured"); w.int(Int64(configured))
        w.key("up"); w.int(Int64(up))
        w.key("down"); w.int(Int64(down))
        w.key("stale"); w.int(Int64(stale))
        w.key("unknown"); w.int(Int64(unknown))
        w.key("retired"); w.int(Int64(retired))
        w.endObject()
    }
}
