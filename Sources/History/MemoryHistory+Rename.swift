import MTXMonCore

extension MemoryHistory {
    public func renameServer(_ rename: ServerRename) async throws -> RenamedServer {
        if let refusal = rename.nameRefusal { throw refusal }
        let (old, new) = (rename.from, rename.to)
        let names = try await serverNames()
        guard names.contains(old) else { throw ServerRenameRefusal.noHistory(server: old, servers: names) }
        let newHasHistory = names.contains(new) || connections.keys.contains { $0.server == new }
            || events.contains { $0.server == new }
        guard !newHasHistory else { throw ServerRenameRefusal.taken(server: new) }
        // One process holds this history: any server polled lately is its collector at work.
        let newest = polls.compactMap { server, list in
            list.last.map { ServerRename.NewestPoll(server: server, ts: $0.ts, intervalMs: $0.intervalMs) }
        }
        if let refusal = rename.collectorRefusal(newest) { throw refusal }

        let moved = polls.removeValue(forKey: old) ?? []
        polls[new] = moved.map { poll in
            var poll = poll
            poll.server = new
            return poll
        }
        pathNames = Set(pathNames.map { $0.server == old ? PathRef(server: new, name: $0.name) : $0 })
        if pathServers.remove(old) != nil { pathServers.insert(new) }
        // A server of a fleet keeps its connections without a path under a row of its own.
        if old == ServerName.default, connections.contains(where: { $0.key.server == old && $0.value.info.path == nil }) {
            pathServers.insert(new)
        }
        for (ref, rows) in pathRows where ref.server == old {
            pathRows[ref] = nil
            pathRows[PathRef(server: new, name: ref.name)] = rows
        }
        for (ref, connection) in connections where ref.server == old {
            var connection = connection
            connection.info.server = new
            connections[ref] = nil
            connections[ConnectionRef(server: new, id: ref.id)] = connection
        }
        for i in events.indices where events[i].server == old { events[i].server = new }
        for i in silenceList.indices where silenceList[i].server == old { silenceList[i].server = new }
        return RenamedServer(polls: moved.count, paths: pathNames.filter { $0.server == new }.count)
    }
}
