import History
import Hummingbird
import MTXMonCore

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.yaml`: the endpoints that describe mtxmon itself.
struct ServiceRoutes: Sendable {
    let environment: APIEnvironment
    let startedAt = WallClock.nowMs()

    func add(to router: Router<APIRequestContext>) {
        router.get("/healthz") { _, _ -> Response in try await health() }
        router.get("/readyz") { _, _ -> Response in try await ready() }
        router.get("/metrics") { _, _ -> Response in
            guard let registry = environment.registry else {
                throw APIError(.notFound, "no_metrics", "this server was started without a metrics registry")
            }
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            bytes = MetricHelp.complete(bytes)
            if let gauges = environment.live?.gauges {
                // Before the feed's first snapshot, the cache's (memory or Redis, never the file).
                let fallback = gauges.isEmpty ? try? await environment.cache.latest() : nil
                if bytes.last != UInt8(ascii: "\n"), !bytes.isEmpty { bytes.append(UInt8(ascii: "\n")) }
                bytes += gauges.render(fallback: fallback).utf8
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: .init(bytes: bytes)))
        }
        router.get("/openapi.yaml") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                     body: .init(byteBuffer: .init(bytes: PackageResources.openapi_yaml)))
        }
    }

    /// Liveness: 200 while mtxmon can serve its history, `status` `degraded` with each problem in
    /// words when anything it watches fails (MediaMTX, Redis, SQLite writes, a connection list);
    /// 503 only when the history file cannot be read. What a container healthcheck and systemd use.
    func health() async throws -> Response {
        let now = environment.now()
        let report = await HealthReport.assess(environment, startedAt: startedAt)
        let status = environment.collectorStatus?.values
        let lastPollTs = status?.lastPollTs ?? report.lastPoll?.ts
        let lastOK = status.map { $0.lastPollTs == nil ? nil : !$0.mediaMTXDown } ?? report.lastPoll?.ok

        var w = JSONWriter()
        w.beginObject()
        w.key("status"); w.string(report.problems.isEmpty ? "ok" : "degraded")
        w.key("ready"); w.bool(report.notReady.isEmpty)
        w.key("problems")
        w.beginArray()
        for problem in report.problems { w.string(problem) }
        w.endArray()
        w.key("uptimeS"); w.int((now - startedAt) / 1_000)
        w.key("version"); w.string(BuildInfo.version)
        w.key("build"); w.string(BuildInfo.build)
        w.key("collector"); w.string(environment.collectorStatus == nil ? "separate" : "in-process")
        // In an active–standby pair, which one this is; a collector alone leads.
        w.key("role"); w.string(environment.collectorStatus == nil ? "api" : status?.role ?? "leader")
        w.key("lastPoll")
        w.beginObject()
        w.key("ts"); w.int(lastPollTs)
        w.key("ageMs"); w.int(lastPollTs.map { now - $0 })
        w.key("ok"); if let lastOK { w.bool(lastOK) } else { w.null() }
        w.key("error"); w.string(lastOK == false ? status?.lastError ?? report.lastPoll?.error : nil)
        w.key("reason"); w.string(lastOK == false ? report.failure?.lastReason : nil)
        w.key("lastSuccessTs"); w.int(report.lastSuccessTs)
        w.endObject()
        report.writeMediaMTX(&w, url: environment.mediaMTXURL, lastOK: lastOK, now: now, intervalMs: environment.intervalMs)
        w.key("servers")
        w.beginArray()
        for server in report.servers {
            server.write(&w, now: now, intervalMs: environment.intervalMs)
        }
        w.endArray()
        w.key("webhooks")
        w.beginArray()
        // Every configured receiver, with or without a backlog; under `serve`, the backlogs the history holds.
        let receivers = environment.webhookStatus?.receivers
        let keys = receivers?.map(\.key) ?? report.webhooks.map(\.target)
        for key in keys {
            let backlog = report.webhooks.first { $0.target == key }
            let receiver = receivers?.first { $0.key == key }
            w.beginObject()
            w.key("url"); w.string(Delivery.shown(WebhookTarget.split(key).url))
            w.key("format"); w.string((receiver?.format ?? WebhookTarget.split(key).format).rawValue)
            w.key("pending"); w.int(Int64(backlog?.pending ?? 0))
            w.key("oldestTs"); w.int(backlog?.oldestTs)
            w.key("failing"); w.bool(receiver.map { $0.failingSince != nil } ?? ((backlog?.attempts ?? 0) > 0))
            w.key("failingSince"); w.int(receiver?.failingSince)
            w.key("lastResult"); w.string(receiver?.lastResult)
            w.key("lastAttemptTs"); w.int(receiver?.lastAttemptTs)
            w.key("delivered"); w.int(Int64(receiver?.delivered ?? 0))
            w.key("lastError"); w.string(receiver?.lastError ?? backlog?.lastError)
            w.endObject()
        }
        w.endArray()
        if let values = environment.collectorStatus?.values {
            w.key("incidents")
            w.beginObject()
            w.key("open")
            w.beginObject()
            for severity in MonitorEvent.Severity.allCases.reversed() {
                w.dynamicKey(severity.rawValue); w.int(Int64(values.openIncidents[severity.rawValue] ?? 0))
            }
            w.endObject()
            w.key("notificationsSuppressed")
            w.beginObject()
            for reason in Notifier.Reason.allCases {
                w.dynamicKey(reason.rawValue); w.int(Int64(values.notificationsSuppressed[reason.rawValue] ?? 0))
            }
            w.endObject()
            w.endObject()
        }
        w.key("cache")
        w.beginObject()
        w.key("kind"); w.string(environment.cache.label)
        w.key("reachable"); w.bool(report.cacheOK)
        w.endObject()
        if let live = environment.live {
            let status = await live.status
            w.key("live")
            w.beginObject()
            w.key("feed"); w.string(status.feed)
            w.key("listening"); w.bool(status.feedUp)
            w.key("clients"); w.int(status.clients)
            w.endObject()
        }
        w.key("sqlite")
        w.beginObject()
        w.key("path"); w.string(environment.history.location)
        w.key("reachable"); w.bool(report.sqliteOK)
        w.key("quarantined"); w.int(Int64(report.quarantine.count))
        w.endObject()
        w.key("history")
        w.beginObject()
        w.key("kind"); w.string(environment.history.kind)
        w.key("location"); w.string(environment.history.location)
        w.key("reachable"); w.bool(report.sqliteOK)
        w.endObject()
        if let status {
            w.key("counters")
            w.beginObject()
            w.key("polls"); w.int(status.polls)
            w.key("pollFailures"); w.int(status.pollFailures)
            w.key("pollsAbandoned"); w.int(status.pollsAbandoned)
            w.key("pendingBatches"); w.int(status.pendingBatches)
            w.key("droppedBatches"); w.int(status.droppedBatches)
            w.key("heldBytes"); w.int(status.heldBytes)
            w.key("ticksSkipped"); w.int(status.ticksSkipped)
            w.key("tickDelayMaxMs"); w.int(status.tickLateMaxMs)
            w.key("invalidSamples"); w.int(status.invalidSamples)
            w.key("redisErrors"); w.int(status.redisErrors)
            w.key("sqliteErrors"); w.int(status.sqliteErrors)
            w.key("rowsSkipped"); w.int(status.rowsSkipped)
            w.key("connectionListFailures"); w.int(status.connectionListFailures)
            w.endObject()
            // A connection list that fails does not fail the poll: say which, so it is not missed.
            w.key("failingConnectionLists")
            w.beginObject()
            for (list, reason) in status.failingConnectionLists.sorted(by: { $0.key < $1.key }) {
                w.dynamicKey(list); w.string(reason)
            }
            w.endObject()
        }
        w.endObject()
        return APIServer.json(w, status: report.broken ? .serviceUnavailable : .ok)
    }

    /// Readiness: 200 while what mtxmon serves is current, 503 with the reasons otherwise. What a
    /// load balancer in front of several mtxmon, or an alert on stale data, uses.
    func ready() async throws -> Response {
        let report = await HealthReport.assess(environment, startedAt: startedAt)
        var w = JSONWriter()
        w.beginObject()
        w.key("ready"); w.bool(report.notReady.isEmpty)
        w.key("reasons")
        w.beginArray()
        for reason in report.notReady { w.string(reason) }
        w.endArray()
        w.key("lastSuccessTs"); w.int(report.lastSuccessTs)
        w.key("servers")
        w.beginArray()
        let now = environment.now()
        for server in report.servers {
            server.write(&w, now: now, intervalMs: environment.intervalMs)
        }
        w.endArray()
        w.endObject()
        return APIServer.json(w, status: report.notReady.isEmpty ? .ok : .serviceUnavailable)
    }
}
