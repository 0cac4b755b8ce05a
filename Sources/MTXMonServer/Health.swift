import Foundation
import History
import MTXMonCore

/// What `/healthz` and `/readyz` say, worked out once from what this process knows.
///
/// Liveness and readiness are apart, as Prometheus has them (`/-/healthy`, `/-/ready`): mtxmon is
/// alive while it can serve its history (a MediaMTX outage is being recorded as it should be, so
/// restarting mtxmon would not help), and ready only while what it serves is current: a successful
/// poll within 3 intervals, the snapshot cache answering, SQLite reading and writing.
struct HealthReport: Sendable {
    var problems: [String] = []
    /// Reasons `/readyz` answers 503.
    var notReady: [String] = []
    /// The history file cannot be read: mtxmon itself does not work.
    var broken = false
    var lastPoll: PollRecord?
    var lastSuccessTs: Int64?
    var failure: FailureRun?
    var serverVersion: String?
    var serverVersionNote: String?
    var cacheOK = true
    var sqliteOK = true
    /// Every server of the fleet (one for a single-server install), retired ones included.
    var servers: [ServerHealth] = []
    /// More than one server is configured (or, when this process was not told, has history):
    /// the top-level `mediamtx` fields are the fleet's.
    var fleet = false
    /// What each webhook receiver is still owed.
    var webhooks: [DeliveryBacklog] = []
    /// Rows and chunks a seal could not read and moved aside.
    var quarantine = QuarantineSummary()

    static func assess(_ environment: APIEnvironment, startedAt: Int64) async -> HealthReport {
        var report = HealthReport()
        let now = environment.now()
        // A standby collector polls nothing: what was polled is read from the history, as `serve` reads it.
        let status = (environment.collectorStatus?.values).flatMap { $0.role == "standby" ? nil : $0 }
        var stored: (PollRecord?, Int64?, FailureRun?, QuarantineSummary) = (nil, nil, nil, QuarantineSummary())
        // The in-process collector knows its outage; only `serve` alone reads it from the history.
        let fromFile = status == nil
        let history = environment.history
        do {
            try await history.check()
            var answered: Int64?
            var failure: FailureRun?
            if fromFile {
                // The newest answer of any server; the failures of the one server, when there is one.
                // Retired servers' polls are history, not the fleet's health.
                let names = try await history.serverNames().filter { !environment.isRetired($0) }
                for name in names {
                    let polls = try await history.polls(server: name)
                    answered = max(answered ?? .min, polls.lastAnsweredTs ?? .min)
                    if names.count == 1 { failure = polls.failure }
                }
                if answered == .min { answered = nil }
            }
            stored = (try await history.lastPoll(), answered, failure, try await history.quarantine())
        } catch {
            report.sqliteOK = false
            // A database down is the database's outage, not mtxmon's: polls are held meanwhile, and
            // a restart would not help. A file that cannot be read is mtxmon's own.
            let database = environment.history.kind == "postgres"
            report.broken = !database
            let problem = database
                ? "the history database \(environment.history.location) does not answer: \(error); polls are held "
                    + "(MTXMON_HOLD_MEMORY, the hold file) and written when it is back"
                : "the history \(environment.history.location) cannot be read: \(error)"
            report.problems.append(problem)
            report.notReady.append(problem)
        }
        report.lastPoll = stored.0
        report.quarantine = stored.3
        if stored.3.count > 0 {
            report.problems.append("\(stored.3.count) damaged row\(stored.3.count == 1 ? "" : "s") or chunk"
                + "\(stored.3.count == 1 ? " was" : "s were") moved aside into the quarantine table (the last: "
                + "\(stored.3.lastError ?? "unknown")); the rest of the history is served")
        }
        // Under `run` the collector's own view is freshest; `serve` alone reads the history file.
        if let status {
            report.lastSuccessTs = status.lastSuccessTs
            if status.mediaMTXDown, let since = status.failingSince {
                report.failure = FailureRun(since: since, polls: status.failedPollsInRow, lastError: status.lastError,
                                            lastReason: status.lastFailureReason)
            }
            report.serverVersion = status.serverVersion
            report.serverVersionNote = status.serverVersionNote
        } else {
            report.lastSuccessTs = stored.1
            report.failure = stored.2
        }
        // Read once: the servers' versions and counts and, without a collector here, the version.
        let latest = (try? await environment.cache.latest()) ?? nil
        report.servers = (try? await ServerHealth.all(environment, latest: latest)) ?? []
        // A fleet is degraded while one server is down and unready only when none is collected:
        // the others' figures are current, and the down server's outage is itself recorded.
        // Retired servers count for neither.
        let active = report.servers.filter { !$0.retired }
        let fleet = active.count > 1
        report.fleet = fleet
        if fleet {
            let down = active.filter { $0.failure != nil }
            report.lastSuccessTs = active.compactMap(\.lastSuccessTs).max()
            report.failure = down.count == active.count
                ? down.compactMap(\.failure).max { $0.since < $1.since } : nil
            for server in down where down.count < active.count {
                guard let failure = server.failure else { continue }
                report.problems.append("MediaMTX server '\(server.name)'\(server.url.map { " at \($0)" } ?? "") "
                    + "\(Self.verb(failure.lastReason)) since \(Self.clock(failure.since)), \(failure.polls) "
                    + "poll\(failure.polls == 1 ? "" : "s") failed" + (failure.lastError.map { ": \($0)" } ?? "")
                    + "; the other servers are collected")
            }
        }
        report.webhooks = (try? await environment.history.deliveryBacklog()) ?? []
        if let receivers = environment.webhookStatus?.receivers {
            for receiver in receivers where receiver.failingSince != nil {
                let backlog = report.webhooks.first { $0.target == receiver.key }
                report.problems.append("the webhook receiver \(Delivery.shown(receiver.key)) fails "
                    + "(\(receiver.lastError ?? "no answer")) since \(Self.clock(receiver.failingSince ?? now)): "
                    + "\(backlog?.pending ?? 0) notification\(backlog?.pending == 1 ? "" : "s") waiting, retried in order with backoff")
            }
        }
        for backlog in report.webhooks where backlog.attempts > 0 && environment.webhookStatus == nil {
            report.problems.append("the webhook receiver \(Delivery.shown(backlog.target)) fails (\(backlog.lastError ?? "no answer")): "
                + "\(backlog.pending) event\(backlog.pending == 1 ? "" : "s") waiting"
                + (backlog.oldestTs.map { " since \(Self.clock($0))" } ?? "") + ", retried in order with backoff")
        }
        report.cacheOK = await environment.cache.ping()
        if status == nil, report.cacheOK, report.failure == nil, let latest {
            report.serverVersion = latest.serverVersion
            report.serverVersionNote = latest.serverVersionNote
        }

        let url = fleet ? "every MediaMTX server"
            : environment.mediaMTXURL.isEmpty ? "MediaMTX" : "MediaMTX at \(environment.mediaMTXURL)"
        if let failure = report.failure {
            let problem = "\(url) \(Self.verb(failure.lastReason)) since \(Self.clock(failure.since)), "
                + "\(failure.polls) poll\(failure.polls == 1 ? "" : "s") failed"
                + (failure.lastError.map { ": \($0)" } ?? "")
            report.problems.append(problem)
        }
        // By the cadence of the server that answered last: one polled every 10 s is current for 30 s.
        let newest = active.filter { $0.lastSuccessTs != nil }.max { $0.lastSuccessTs! < $1.lastSuccessTs! }
        let limit = Cadence(intervalMs: newest?.intervalMs ?? environment.intervalMs).staleAfterMs
        if let success = report.lastSuccessTs {
            if now - success > limit {
                let reason = "no successful poll for \((now - success) / 1_000) s (the last at \(Self.clock(success)))"
                    + (report.failure == nil && (status?.lastPollTs ?? report.lastPoll?.ts).map { now - $0 > limit } ?? true
                        ? ": is the collector running?" : "")
                report.notReady.append(reason)
                if report.failure == nil { report.problems.append(reason) }
            }
        } else if report.sqliteOK {
            let reason = now - startedAt > limit || report.failure != nil
                ? "no successful poll recorded yet" + (report.failure == nil ? ": start the collector (mtxmon run or mtxmon collect)" : "")
                : "no successful poll yet: mtxmon started \((now - startedAt) / 1_000) s ago"
            report.notReady.append(reason)
            if now - startedAt > limit, report.failure == nil { report.problems.append(reason) }
        }
        if !report.cacheOK {
            let problem = "the snapshot cache (\(environment.cache.label)) does not answer: live views and the latest "
                + "snapshot come from the history file; history is still written"
            report.problems.append(problem)
            report.notReady.append(problem)
        }
        if let status, status.pendingBatches > 0 {
            let megabytes = Double(status.heldBytes) / 1_048_576
            let problem = "the history store refuses writes or catches up: \(status.pendingBatches) "
                + "poll\(status.pendingBatches == 1 ? "" : "s") held (\((megabytes * 10).rounded() / 10) MB), written "
                + "oldest first as it takes them" + (status.droppedBatches > 0
                    ? "; \(status.droppedBatches) dropped while the hold file and memory were full" : "")
            report.problems.append(problem)
            report.notReady.append(problem)
        }
        for (list, reason) in (status?.failingConnectionLists ?? [:]).sorted(by: { $0.key < $1.key }) {
            report.problems.append("the \(list) connection list fails: \(reason)")
        }
        return report
    }

    /// The failure as an operator says it, after "MediaMTX at URL".
    static func verb(_ reason: String?) -> String {
        switch reason.flatMap(FailureReason.init(rawValue:)) {
        case .refused: "refuses connections"
        case .dns: "cannot be resolved"
        case .tls: "fails the TLS handshake"
        case .network: "is unreachable"
        case .timeout: "answers too slowly"
        case .auth: "refuses mtxmon's credentials"
        case .status: "answers with HTTP errors"
        case .body: "answers with something that is not its API's JSON"
        case nil: "fails"
        }
    }

    /// `2026-12-02T12:04:31Z`: an instant an operator can compare with MediaMTX's own log.
    static func clock(_ ms: Int64) -> String {
        TimeArgument.rfc3339(milliseconds: ms - ((ms % 1_000) + 1_000) % 1_000).replacingOccurrences(of: ".000Z", with: "Z")
    }
}
