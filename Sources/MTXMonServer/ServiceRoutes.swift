import HistoryStore
import Hummingbird
import MTXMonCore

/// `/healthz`, `/metrics` and `/openapi.yaml`: the endpoints that describe mtxmon itself.
struct ServiceRoutes: Sendable {
    let environment: APIEnvironment
    let startedAt = WallClock.nowMs()

    func add(to router: Router<APIRequestContext>) {
        router.get("/healthz") { _, _ -> Response in try await health() }
        router.get("/metrics") { _, _ -> Response in
            guard let registry = environment.registry else {
                throw APIError(.notFound, "no_metrics", "this server was started without a metrics registry")
            }
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: .init(bytes: bytes)))
        }
        router.get("/openapi.yaml") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                     body: .init(byteBuffer: .init(bytes: PackageResources.openapi_yaml)))
        }
    }

    /// 200 when mtxmon can do its job: the history file reads, the cache answers and a poll was
    /// recorded within three intervals; 503 with the reasons otherwise. MediaMTX being down is
    /// reported but is not mtxmon's own ill health: the outage is being recorded as it should.
    func health() async throws -> Response {
        let now = environment.now()
        var problems: [String] = []
        var lastPoll: PollRecord?
        var sqliteOK = true
        do {
            lastPoll = try await environment.store.readOffThread { db in
                try db.check()
                return try db.lastPoll()
            }
        } catch {
            sqliteOK = false
            problems.append("the history file \(environment.store.path) cannot be read: \(error)")
        }
        let status = environment.collectorStatus?.values
        let lastPollTs = status?.lastPollTs ?? lastPoll?.ts
        let age = lastPollTs.map { now - $0 }
        if let age {
            if age > APIEnvironment.staleAfterIntervals * environment.intervalMs {
                problems.append("the last poll was \(age / 1_000) s ago: is the collector running?")
            }
        } else if sqliteOK, now - startedAt > APIEnvironment.staleAfterIntervals * environment.intervalMs {
            problems.append("no poll recorded yet: start the collector (mtxmon run or mtxmon collect)")
        }
        let cacheOK = await environment.cache.ping()
        // Under `serve` the version comes with the snapshots the separate collector publishes.
        var version = status?.serverVersion
        if version == nil, cacheOK { version = (try? await environment.cache.latest())?.serverVersion }
        if !cacheOK { problems.append("the snapshot cache (\(environment.cache.label)) does not answer") }
        // Under `run` the collector's own view is freshest; before its first poll there is none.
        let lastOK = status.map { $0.lastPollTs == nil ? nil : !$0.mediaMTXDown } ?? lastPoll?.ok

        var w = JSONWriter()
        w.beginObject()
        w.key("status"); w.string(problems.isEmpty ? "ok" : "degraded")
        w.key("problems")
        w.beginArray()
        for problem in problems { w.string(problem) }
        w.endArray()
        w.key("uptimeS"); w.int((now - startedAt) / 1_000)
        w.key("collector"); w.string(environment.collectorStatus == nil ? "separate" : "in-process")
        w.key("lastPoll")
        w.beginObject()
        w.key("ts"); w.int(lastPollTs)
        w.key("ageMs"); w.int(age)
        w.key("ok"); if let lastOK { w.bool(lastOK) } else { w.null() }
        w.key("error"); w.string(lastOK == false ? status?.lastError ?? lastPoll?.error : nil)
        w.endObject()
        w.key("mediamtx")
        w.beginObject()
        w.key("url"); w.string(environment.mediaMTXURL.isEmpty ? nil : environment.mediaMTXURL)
        w.key("version"); w.string(version)
        w.endObject()
        w.key("cache")
        w.beginObject()
        w.key("kind"); w.string(environment.cache.label)
        w.key("reachable"); w.bool(cacheOK)
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
        w.key("path"); w.string(environment.store.path)
        w.key("reachable"); w.bool(sqliteOK)
        w.endObject()
        if let status {
            w.key("counters")
            w.beginObject()
            w.key("polls"); w.int(status.polls)
            w.key("pollFailures"); w.int(status.pollFailures)
            w.key("pollsAbandoned"); w.int(status.pollsAbandoned)
            w.key("pendingBatches"); w.int(status.pendingBatches)
            w.key("droppedBatches"); w.int(status.droppedBatches)
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
        return APIServer.json(w, status: problems.isEmpty ? .ok : .serviceUnavailable)
    }
}
