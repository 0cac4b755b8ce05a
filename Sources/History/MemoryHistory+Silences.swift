import MTXMonCore

extension MemoryHistory {
    public func silences(endingAfter ts: Int64) async throws -> [Silence] {
        silenceList.filter { $0.endsAt > ts }.sorted { ($0.startsAt, $0.id) < ($1.startsAt, $1.id) }
    }

    public func saveSilence(_ silence: Silence) async throws { silenceList.append(silence) }

    public func endSilence(id: String, at ts: Int64) async throws -> Bool {
        guard let i = silenceList.firstIndex(where: { $0.id == id && $0.endsAt > ts }) else { return false }
        silenceList[i].endsAt = ts
        return true
    }
}
