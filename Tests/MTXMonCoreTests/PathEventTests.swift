import MTXMonCore
import Testing

@Suite struct PathEventTests {
    func path(_ name: String, online: Bool = true, reset: Bool = false) -> PathSample {
        PathSample(name: name, online: online, reset: reset)
    }

    @Test func noPreviousSnapshotMeansNoEvents() {
        #expect(PathEvent.between(nil, Snapshot(ts: 10, paths: [path("a")])).isEmpty)
    }

    @Test func appearingDisappearingAndResettingPaths() {
        let before = Snapshot(ts: 1, paths: [path("gone"), path("stays"), path("dark", online: false),
                                             path("goes-dark"), path("was-offline-gone", online: false)])
        let after = Snapshot(ts: 2, paths: [path("dark"), path("goes-dark", online: false), path("new"),
                                            path("new-offline", online: false), path("stays", reset: true)])
        #expect(PathEvent.between(before, after) == [
            PathEvent(.online, path: "dark", ts: 2),
            PathEvent(.offline, path: "goes-dark", ts: 2),
            PathEvent(.offline, path: "gone", ts: 2),
            PathEvent(.online, path: "new", ts: 2),
            PathEvent(.reset, path: "stays", ts: 2),
        ])
    }

    /// Every restart the collector flagged is a `reset` event, also when the path came online
    /// in the same poll: live clients count restarts as the history does.
    @Test func aPublisherThatComesBackWithNewCountersIsOnlineAndAReset() {
        let before = Snapshot(ts: 1, paths: [path("a", online: false)])
        let after = Snapshot(ts: 2, paths: [path("a", reset: true)])
        #expect(PathEvent.between(before, after) == [PathEvent(.online, path: "a", ts: 2), PathEvent(.reset, path: "a", ts: 2)])
    }

    /// A path mtxmon remembers as offline (MediaMTX no longer lists it) went offline once.
    @Test func aRememberedOfflinePathIsOfflineOnce() {
        var gone = path("a", online: false)
        gone.state = .offline
        gone.listed = false
        let before = Snapshot(ts: 1, paths: [path("a")])
        let after = Snapshot(ts: 2, paths: [gone])
        let later = Snapshot(ts: 3, paths: [gone])
        #expect(PathEvent.between(before, after) == [PathEvent(.offline, path: "a", ts: 2)])
        #expect(PathEvent.between(after, later).isEmpty)
    }

    @Test func steadyPathsGiveNothing() {
        let snapshot = Snapshot(ts: 1, paths: [path("a"), path("b", online: false)])
        var next = snapshot
        next.ts = 2
        #expect(PathEvent.between(snapshot, next).isEmpty)
    }
}
