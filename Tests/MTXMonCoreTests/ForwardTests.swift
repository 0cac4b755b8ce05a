import MTXMonCore
import Testing

/// Forward destinations: asked for in turns, told when they fail and recover, never with secrets.
@Suite struct ForwardTests {
    static let t0: Int64 = 1_800_000_000_000

    @Test func errorTextLosesUserinfoQueriesAndKnownSecrets() {
        #expect(Redaction.freeText("dial rtmp://relay:pw@10.0.0.9/live?key=abc: connection refused")
            == "dial rtmp://***@10.0.0.9/live?***: connection refused")
        #expect(Redaction.freeText("srt://10.0.0.9:9000?streamid=publish:cam:user:pw failed")
            == "srt://10.0.0.9:9000?*** failed")
        #expect(Redaction.freeText("bad host user:pw@10.0.0.9 (timeout)") == "bad host ***@10.0.0.9 (timeout)")
        #expect(Redaction.freeText("EOF") == "EOF")
        Secrets.register("Planted-4ward")
        #expect(Redaction.freeText("token Planted-4ward refused") == "token *** refused")
    }

    @Test func pathsThatForwardAreAskedEveryPollTheOthersInTurns() {
        var watch = ForwardWatch(server: "edge", slice: 2)
        let online = ["a", "b", "c", "d", "e"]
        let first = watch.plan(online: online)
        #expect(first.paths == ["a", "b"])
        _ = watch.take(["a": [], "b": [ForwardDest(id: "f1", pos: 0, type: "srt", state: "forwarding", readAt: Self.t0)]],
                       cursor: first.cursor, online: Set(online), at: Self.t0)
        let second = watch.plan(online: online)
        // b forwards: asked every poll; the turn goes on among the others.
        #expect(second.paths == ["b", "d", "e"])
        _ = watch.take([:], cursor: second.cursor, online: Set(online), at: Self.t0 + 2_000)
        #expect(watch.plan(online: online).paths == ["b", "a", "c"])
    }

    @Test func aDestinationInErrorIsToldOnceAndItsRecoveryToo() {
        var watch = ForwardWatch(server: "edge")
        func read(_ state: String, bytes: Int64, at i: Int64) -> [MonitorEvent] {
            let dest = ForwardDest(id: "f1", pos: 0, type: "rtmp", state: state, outboundBytes: bytes,
                                   readAt: Self.t0 + i * 2_000, error: state == "error" ? "dial rtmp://***@h/live: EOF" : nil)
            return watch.take(["cam": [dest]], cursor: 0, online: ["cam"], at: Self.t0 + i * 2_000)
        }
        #expect(read("forwarding", bytes: 0, at: 0).isEmpty)
        #expect(read("forwarding", bytes: 500_000, at: 1).isEmpty)
        var snapshot = Snapshot(ts: Self.t0 + 2_000, paths: [PathSample(name: "cam", online: true)])
        watch.attach(to: &snapshot)
        #expect(snapshot.paths[0].forwards?.first?.bitrateOut == 2_000_000)
        let failed = read("error", bytes: 500_000, at: 2)
        #expect(failed.map(\.kind) == [.forwardError])
        #expect(failed.first?.message == "cam's rtmp destination #1 fails: dial rtmp://***@h/live: EOF")
        #expect(failed.first?.severity == .warning)
        #expect(read("error", bytes: 500_000, at: 3).isEmpty)
        let back = read("forwarding", bytes: 500_000, at: 4)
        #expect(back.map(\.kind) == [.forwardBack] && back.first?.severity == .info)
    }
}
