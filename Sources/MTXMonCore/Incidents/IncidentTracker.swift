/// Turns polls and events into incidents: one per cause, opened once its condition has held and
/// resolved once it has cleared (see `IncidentRules`). Pure: the collector feeds it each poll
/// and stores the `incident` events it returns.
///
/// Grouping: a server whose polls fail, or that has just answered again, owns what its paths
/// do meanwhile (they vanish and return with new counters); many paths starting again in one
/// poll are one MediaMTX restart; a condition that returns before its incident resolved is a
/// count on it, not a new one.
public struct IncidentTracker: Sendable {
    public var rules: IncidentRules
    private var servers: [String: ServerBook] = [:]
    private var recorder: [Incident.Cause: Watch] = [:]

    /// One condition's timing and its incident, if open.
    struct Watch: Sendable {
        var activeSince: Int64?
        var clearSince: Int64?
        var severeSince: Int64?
        var incident: Incident?
        var detail = ""
    }

    struct ServerBook: Sendable {
        var server: Watch = Watch()
        var restart: Watch = Watch()
        /// When the server answered again after failing polls; its grace runs from here.
        var backAt: Int64?
        /// Paths seen online: a path that leaves this set by going offline is watched.
        var seenOnline: Set<String> = []
        var offline: [String: Watch] = [:]
        var quality: [String: Watch] = [:]
        var forwards: [String: Watch] = [:]

        /// The server's incidents open now, in no order.
        var incidents: [Incident] {
            var all = [server.incident, restart.incident].compactMap { $0 }
            for watches in [offline, quality, forwards] { all += watches.values.compactMap(\.incident) }
            return all
        }
    }

    public init(rules: IncidentRules = IncidentRules()) {
        self.rules = rules
    }

    /// Incidents open now.
    public var open: [Incident] {
        var all = recorder.values.compactMap(\.incident)
        for book in servers.values { all += book.incidents }
        return all.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
    }

    /// Incidents a previous process left open, taken up again: each resolves unless its condition
    /// is seen again within its clear time from `now`.
    public mutating func restore(_ incidents: [Incident], now: Int64) {
        for incident in incidents where incident.status == .firing {
            var watch = Watch(activeSince: nil, clearSince: now, incident: incident, detail: incident.detail)
            switch incident.cause {
            case .cacheFailing, .storeFailing:
                recorder[incident.cause] = watch
            case .serverUnreachable:
                watch.activeSince = incident.start
                watch.clearSince = nil
                servers[incident.server ?? ServerName.default, default: ServerBook()].server = watch
            case .serverRestart:
                servers[incident.server ?? ServerName.default, default: ServerBook()].restart = watch
            case .offline:
                guard let path = incident.path else { continue }
                watch.activeSince = incident.start
                watch.clearSince = nil
                var book = servers[incident.server ?? ServerName.default, default: ServerBook()]
                book.offline[path] = watch
                book.seenOnline.insert(path)
                servers[incident.server ?? ServerName.default] = book
            case .quality:
                guard let path = incident.path else { continue }
                servers[incident.server ?? ServerName.default, default: ServerBook()].quality[path] = watch
            case .forwardError:
                guard let path = incident.path else { continue }
                servers[incident.server ?? ServerName.default, default: ServerBook()]
                    .forwards[path + "\u{0}" + (incident.subject ?? "")] = watch
            }
        }
    }

    /// Ends, as given up, the incidents of every server but `configured`: nothing polls a server
    /// no longer configured, so its conditions can neither come back nor clear.
    public mutating func retire(keeping configured: Set<String>, at ts: Int64) -> [Incident] {
        var ended: [Incident] = []
        for name in servers.keys.sorted() where !configured.contains(name) {
            guard let book = servers.removeValue(forKey: name) else { continue }
            for var incident in book.incidents.sorted(by: { ($0.start, $0.id) < ($1.start, $1.id) }) {
                incident.end = ts
                incident.detail = "given up: server '\(name)' is no longer configured"
                ended.append(incident)
            }
        }
        return ended
    }

    /// Paths online in a server's last stored state (see `EventDetector.seed`): one that is gone
    /// at the first poll after a stop of mtxmon is watched as offline.
    public mutating func known(server: String, online: [String]) {
        servers[server, default: ServerBook()].seenOnline.formUnion(online)
    }

    // MARK: Servers

    /// A poll of `server` that failed at `ts`; `reason` in the words of the server's event.
    public mutating func failed(server: String, at ts: Int64, reason: String) -> [Incident] {
        var book = servers[server] ?? ServerBook()
        defer { servers[server] = book }
        book.backAt = nil
        let known = book.seenOnline.sorted()
        return step(&book.server, active: true, severity: .critical, detail: reason, at: ts, rule: rules.server,
                    make: { start in
                        var incident = self.incident(.serverUnreachable, server: server, path: nil, start: start,
                                                     severity: .critical, detail: reason)
                        incident.paths = known
                        return incident
                    })
    }

    /// A poll of `server` that was answered, with the snapshot it gave (its paths' health judged)
    /// and the paths whose forward destinations fail now (path → destination ids and reasons).
    public mutating func answered(_ snapshot: Snapshot, server: String,
                                  failingForwards: [String: [(id: String, reason: String)]] = [:]) -> [Incident] {
        let ts = snapshot.ts
        var book = servers[server] ?? ServerBook()
        defer { servers[server] = book }
        var changed: [Incident] = []
        if book.server.activeSince != nil { book.backAt = ts }
        changed += step(&book.server, active: false, severity: .critical, detail: "", at: ts, rule: rules.server,
                        make: { _ in nil })
        var online = 0
        var resets: [String] = []
        for path in snapshot.paths {
            if path.currentState == .online {
                online += 1
                book.seenOnline.insert(path.name)
            }
            if path.reset { resets.append(path.name) }
        }
        // An outage's incident (open until its streams had time to return) owns their returns;
        // otherwise many streams starting again at once are one MediaMTX restart.
        if book.server.incident == nil {
            if resets.count >= rules.restartMinPaths, resets.count * 2 >= max(online, 1) {
                changed += openRestart(&book, server: server, paths: resets, at: ts)
            } else if book.restart.incident != nil {
                changed += step(&book.restart, active: false, severity: .warning, detail: "", at: ts,
                                rule: .init(forMs: 0, clearMs: rules.restartClearMs), make: { _ in nil })
            }
        }
        changed += offlineIncidents(&book, server: server, snapshot: snapshot, at: ts)
        changed += qualityIncidents(&book, server: server, snapshot: snapshot, at: ts)
        changed += forwardIncidents(&book, server: server, failing: failingForwards, at: ts)
        return changed
    }

    private func incident(_ cause: Incident.Cause, server: String?, path: String?, subject: String? = nil, start: Int64,
                          severity: MonitorEvent.Severity, detail: String) -> Incident {
        Incident(id: Incident.makeID(cause: cause, server: server, path: path, subject: subject, start: start),
                 cause: cause, server: server, path: path, subject: subject, start: start, severity: severity,
                 detail: detail)
    }

    private mutating func openRestart(_ book: inout ServerBook, server: String, paths: [String], at ts: Int64) -> [Incident] {
        if var incident = book.restart.incident {
            incident.count += 1
            incident.paths = (incident.paths + Set(paths).subtracting(incident.paths).sorted())
            book.restart.incident = incident
            book.restart.clearSince = nil
            book.restart.activeSince = ts
            return [incident]
        }
        var incident = self.incident(.serverRestart, server: server, path: nil, start: ts, severity: .warning,
                                     detail: "their counters started from 0 in one poll")
        incident.paths = paths.sorted()
        book.restart = Watch(activeSince: ts, clearSince: nil, incident: incident)
        return [incident]
    }

    // MARK: Paths

    private mutating func offlineIncidents(_ book: inout ServerBook, server: String, snapshot: Snapshot,
                                           at ts: Int64) -> [Incident] {
        var changed: [Incident] = []
        var onlineNow = Set<String>()
        for path in snapshot.paths where path.currentState == .online { onlineNow.insert(path.name) }
        let grace = book.backAt.map { $0 + rules.graceMs } ?? 0
        for name in book.seenOnline.sorted() {
            guard rules.offlinePaths.contains(where: { EventRules.matches($0, name) }) else {
                book.seenOnline.remove(name)
                continue
            }
            var watch = book.offline[name] ?? Watch()
            let active = !onlineNow.contains(name)
            if active, let since = watch.activeSince, ts - since >= rules.forgetAfterMs {
                // Gone for good: given up, as the collector forgets the path.
                if var incident = watch.incident {
                    incident.end = ts
                    incident.detail = "gone for \(Incident.duration(ts - since)): given up, as the path is forgotten"
                    changed.append(incident)
                }
                book.offline[name] = nil
                book.seenOnline.remove(name)
                continue
            }
            // Within a server's grace, a path still on its way back opens nothing yet.
            let rule = IncidentRules.Hold(forMs: max(rules.offline.forMs, grace - (watch.activeSince ?? ts)),
                                          clearMs: rules.offline.clearMs)
            changed += step(&watch, active: active, severity: .critical,
                            detail: "MediaMTX lists no publisher for it", at: ts, rule: rule,
                            make: { start in self.incident(.offline, server: server, path: name, start: start,
                                                           severity: .critical, detail: "MediaMTX lists no publisher for it") })
            if watch.activeSince == nil, watch.incident == nil, watch.clearSince == nil {
                book.offline[name] = nil
            } else {
                book.offline[name] = watch
            }
        }
        return changed
    }

    private mutating func qualityIncidents(_ book: inout ServerBook, server: String, snapshot: Snapshot,
                                           at ts: Int64) -> [Incident] {
        var changed: [Incident] = []
        var judged: [String: StreamHealth] = [:]
        for path in snapshot.paths { if let health = path.health { judged[path.name] = health } }
        for name in Set(judged.keys).union(book.quality.keys).sorted() {
            var watch = book.quality[name] ?? Watch()
            let health = judged[name]
            let verdict = health?.verdict
            let active = verdict == .degraded || verdict == .bad
            // Offline is the offline incident's; unknown (no answer) changes nothing.
            if verdict == .unknown { continue }
            if verdict == .bad { watch.severeSince = watch.severeSince ?? ts } else { watch.severeSince = nil }
            let severity: MonitorEvent.Severity = watch.severeSince.map { ts - $0 >= rules.qualityCriticalMs } ?? false
                ? .critical : .warning
            let detail = health.map { Self.healthDetail($0) } ?? ""
            changed += step(&watch, active: active, severity: severity, detail: detail, at: ts, rule: rules.quality,
                            make: { start in self.incident(.quality, server: server, path: name, start: start,
                                                           severity: severity, detail: detail) })
            book.quality[name] = watch.activeSince == nil && watch.incident == nil ? nil : watch
        }
        return changed
    }

    static func healthDetail(_ health: StreamHealth) -> String {
        let reasons = health.reasons.map(\.text)
        return "\(health.verdict.rawValue)" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; "))
    }

    private mutating func forwardIncidents(_ book: inout ServerBook, server: String,
                                           failing: [String: [(id: String, reason: String)]], at ts: Int64) -> [Incident] {
        var changed: [Incident] = []
        var now: [String: (path: String, id: String, reason: String)] = [:]
        for (path, dests) in failing { for dest in dests { now[path + "\u{0}" + dest.id] = (path, dest.id, dest.reason) } }
        for key in Set(now.keys).union(book.forwards.keys).sorted() {
            var watch = book.forwards[key] ?? Watch()
            let parts = key.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let path = parts[0], id = parts.count > 1 ? parts[1] : ""
            let detail = now[key]?.reason ?? watch.detail
            changed += step(&watch, active: now[key] != nil, severity: .warning, detail: detail, at: ts, rule: rules.forward,
                            make: { start in self.incident(.forwardError, server: server, path: path, subject: id, start: start,
                                                           severity: .warning, detail: detail) })
            book.forwards[key] = watch.activeSince == nil && watch.incident == nil ? nil : watch
        }
        return changed
    }

    // MARK: The recorder

    /// The recorder's own store events (`redis_failing`, `sqlite_failing` and their `…_back`).
    public mutating func recorderEvents(_ events: [MonitorEvent], at ts: Int64) -> [Incident] {
        var changed: [Incident] = []
        for event in events {
            let (cause, active): (Incident.Cause, Bool)
            switch event.kind {
            case .redisFailing: (cause, active) = (.cacheFailing, true)
            case .redisBack: (cause, active) = (.cacheFailing, false)
            case .sqliteFailing: (cause, active) = (.storeFailing, true)
            case .sqliteBack: (cause, active) = (.storeFailing, false)
            default: continue
            }
            var watch = recorder[cause] ?? Watch()
            changed += step(&watch, active: active, severity: .warning,
                            detail: event.message, at: event.ts, rule: .init(forMs: 0, clearMs: 0),
                            make: { start in self.incident(cause, server: nil, path: nil, start: start, severity: .warning,
                                                           detail: event.message) })
            recorder[cause] = watch
        }
        // The history store failing for long is critical; the cache failing never is (history is written).
        if var watch = recorder[.storeFailing], let since = watch.activeSince, ts - since >= rules.storeCriticalMs {
            changed += step(&watch, active: true, severity: .critical, detail: watch.detail, at: ts,
                            rule: .init(forMs: 0, clearMs: 0), make: { _ in nil })
            recorder[.storeFailing] = watch
        }
        return changed
    }

    // MARK: The rule

    /// One condition observed at `ts`: opens, changes or resolves its incident; returns the
    /// incident when one of those happened.
    private func step(_ watch: inout Watch, active: Bool, severity: MonitorEvent.Severity, detail: String,
                      at ts: Int64, rule: IncidentRules.Hold, make: (Int64) -> Incident?) -> [Incident] {
        if active {
            if !detail.isEmpty { watch.detail = detail }
            let returned = watch.clearSince != nil
            watch.clearSince = nil
            let since = watch.activeSince ?? ts
            watch.activeSince = since
            if var incident = watch.incident {
                var changed = false
                if returned {
                    incident.count += 1
                    changed = true
                }
                if incident.severity != severity {
                    incident.severity = severity
                    incident.peak = max(incident.peak, severity)
                    changed = true
                }
                if !detail.isEmpty, detail != incident.detail {
                    incident.detail = detail
                }
                watch.incident = incident
                return changed ? [incident] : []
            }
            guard ts - since >= rule.forMs, var incident = make(since) else { return [] }
            incident.detail = watch.detail
            watch.incident = incident
            return [incident]
        }
        watch.activeSince = nil
        watch.severeSince = nil
        guard var incident = watch.incident else {
            watch.clearSince = nil
            return []
        }
        let since = watch.clearSince ?? ts
        watch.clearSince = since
        guard ts - since >= rule.clearMs else { return [] }
        incident.end = max(since, incident.start)
        watch = Watch()
        return [incident]
    }

    /// Counts a notification of `id` held back (silenced, over the rate limit) on the open incident.
    public mutating func suppressed(_ id: String) {
        func bump(_ watch: inout Watch) -> Bool {
            guard watch.incident?.id == id else { return false }
            watch.incident?.suppressed += 1
            return true
        }
        for cause in Array(recorder.keys) where bump(&recorder[cause]!) { return }
        for server in Array(servers.keys) {
            var book = servers[server]!
            defer { servers[server] = book }
            if bump(&book.server) || bump(&book.restart) { return }
            for key in Array(book.offline.keys) where bump(&book.offline[key]!) { return }
            for key in Array(book.quality.keys) where bump(&book.quality[key]!) { return }
            for key in Array(book.forwards.keys) where bump(&book.forwards[key]!) { return }
        }
    }
}
