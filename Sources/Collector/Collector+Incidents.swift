import History
import Metrics
import MTXMonCore

extension Collector {
    /// The tick's incidents, stored as `incident` events with its polls: opened, changed and
    /// resolved from each server's poll and the recorder's own events, each sent or not as the
    /// notifier decides (and counted when held back).
    func incidents(_ batches: inout [PollBatch], recorder: [MonitorEvent], _ w: inout WriteState) async {
        let now = batches[0].poll.ts
        await refreshSilences(&w, now: now)
        for b in batches.indices {
            let poll = batches[b].poll
            var changed = b == 0 ? w.retiredIncidents + w.incidents.recorderEvents(recorder, at: now) : []
            if b == 0 { w.retiredIncidents = [] }
            if let snapshot = batches[b].snapshot {
                changed += w.incidents.answered(snapshot, server: poll.server)
            } else if !poll.ok {
                changed += w.incidents.failed(server: poll.server, at: poll.ts,
                                              reason: MonitorEvent.outageWords(poll.reason, poll.error))
            }
            for var incident in changed {
                let send = notify(&incident, at: poll.ts, &w)
                if send { batches[b].notify.append(batches[b].events.count) }
                batches[b].events.append(incident.event(at: poll.ts))
            }
        }
        let open = w.incidents.open
        var counts: [String: Int] = [:]
        for incident in open { counts[incident.cause.rawValue + "/" + incident.severity.rawValue, default: 0] += 1 }
        for (key, gauge) in metrics.incidentsOpen { gauge.record(counts[key] ?? 0) }
        status.update {
            $0.openIncidents = Dictionary(grouping: open, by: \.severity.rawValue).mapValues(\.count)
            $0.notificationsSuppressed = Dictionary(uniqueKeysWithValues: w.notifier.suppressedTotals.map {
                ($0.key.rawValue, $0.value)
            })
        }
    }

    /// Whether `incident`'s change is sent; sets what was sent of it, counts what is held back.
    private func notify(_ incident: inout Incident, at ts: Int64, _ w: inout WriteState) -> Bool {
        let before = w.notifier.notified(incident.id)
        guard !settings.webhookTargets.isEmpty else { return false }
        let decision = w.notifier.decide(incident, silences: w.silences, at: ts)
        incident.notified = incident.status == .resolved ? before : w.notifier.notified(incident.id)
        switch decision {
        case .send: return true
        case .quiet: return false
        case let .suppressed(reason):
            w.incidents.suppressed(incident.id)
            incident.suppressed += 1
            metrics.suppressed[reason]?.increment()
            return false
        }
    }

    /// Silences are read from the history (an API node may have made one) every few seconds.
    private func refreshSilences(_ w: inout WriteState, now: Int64) async {
        guard now - w.silencesReadAt >= 5_000 || now < w.silencesReadAt else { return }
        do {
            w.silences = try await store.silences(endingAfter: now)
            w.silencesReadAt = now
        } catch {
            logger.warning("silences could not be read from the history; the last ones read still apply",
                           metadata: ["error": "\(error)"])
            w.silencesReadAt = now
        }
    }

    /// Incidents a previous collector left open are taken up again, so that each is resolved once
    /// (and its resolution sent where its firing was); each server's last stored state is what
    /// its first poll is told against.
    func restoreIncidents(_ w: inout WriteState, servers: [ServerLoop]) async {
        let now = targets[0].client.clock()
        do {
            let (events, _) = try await store.events(EventQuery(from: now - 30 * 86_400_000, to: now + 60_000,
                                                               kinds: [.incident], limit: 10_000))
            var newest: [String: Incident] = [:]
            for event in events {
                guard let incident = Incident(event), newest[incident.id] == nil else { continue }
                newest[incident.id] = incident
            }
            let open = newest.values.filter { $0.status == .firing }.sorted { $0.start < $1.start }
            w.incidents.restore(open, now: now)
            // A server no longer configured is polled by no one: its incidents would stay open.
            w.retiredIncidents = w.incidents.retire(keeping: Set(servers.map(\.name)), at: now)
            for incident in open { if let notified = incident.notified { w.notifier.restore(incident.id, notified: notified) } }
            if !open.isEmpty {
                logger.notice("incidents left open by the last run are watched again; each resolves once its condition is gone",
                              metadata: ["incidents": "\(open.count)"])
            }
        } catch {
            logger.warning("open incidents could not be read from the history; conditions still present open new ones",
                           metadata: ["error": "\(error)"])
        }
        for loop in servers { w.incidents.known(server: loop.name, online: loop.detector.seededOnline) }
    }
}
