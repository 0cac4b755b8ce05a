import MTXMonCore
import Synchronization

/// A MediaMTX stand-in: paths whose counters grow with real time, their connections, paging, and
/// fault switches. Thread-safe; the HTTP front end (`SimulatorServer`) and tests share one.
public final class Simulator: Sendable {
    struct State: Sendable {
        var options: SimulatorOptions
        var paths: [SimPath]
        var fault: SimulatorFault = .none
        /// Faults of single lists by name (`rtmpconns`), ahead of `fault`.
        var listFaults: [String: SimulatorFault] = [:]
        /// Connections not yet on a path: listed with `path: ""`, on no path's list.
        var idle: [SimConn] = []
        var credentials: (user: String, password: String)?
        /// Each `User-Agent` that asked the API, so a test sees who the client said it was.
        var userAgents: Set<String> = []
        /// Closes the port for a while; set by whoever runs the listener (`PortListener.serve`).
        var refuse: (@Sendable (Duration) -> Void)?
        var random: SeededRandom
        var startedMs: Int64
        /// Counters the next answers of the path list give a path instead of its rate's, by name.
        var scripts: [String: CounterScript] = [:]
    }

    /// Values a path's counters take, one per answer of the path list, in order.
    struct CounterScript: Sendable {
        var inbound: [Int64]
        var outbound: [Int64]
    }

    private let state: Mutex<State>
    public let generation: APIGeneration

    public init(options: SimulatorOptions, nowMs: Int64 = WallClock.nowMs()) {
        var random = SeededRandom(seed: options.seed)
        let protocols: [SimProtocol] = [.rtsp, .rtmp, .webrtc]
        let readerProtocols: [SimProtocol] = [.rtsp, .srt, .rtmp, .webrtc, .hls]
        var paths: [SimPath] = []
        for index in 0..<max(0, options.paths) {
            let isSRT = options.srtEvery > 0 && index % options.srtEvery == 0
            let isRTSPS = !isSRT && options.rtspsEvery > 0 && index % options.rtspsEvery == 0
            let isRTMPS = !isSRT && !isRTSPS && options.rtmpsEvery > 0 && index % options.rtmpsEvery == 0
            let proto = isSRT ? SimProtocol.srt : isRTSPS ? .rtsps : isRTMPS ? .rtmps
                : protocols[index % protocols.count]
            let publisher = SimConn(
                id: random.uuid(), proto: proto, publishing: true, remoteAddr: Self.address(&random),
                createdMs: nowMs, counterStartMs: nowMs, rttMs: 5 + Double(random.next() % 7_500) / 100)
            let readers = (0..<max(0, options.readers)).map { r in
                SimConn(id: random.uuid(), proto: readerProtocols[(index + r) % readerProtocols.count],
                        publishing: false, remoteAddr: Self.address(&random), createdMs: nowMs,
                        counterStartMs: nowMs, rttMs: 5 + Double(random.next() % 7_500) / 100)
            }
            var path = SimPath(name: options.namePrefix + Self.pad(index), bitrate: options.bitrate,
                               publisher: publisher, readers: readers)
            path.hiddenReaders = options.generation.isModern ? max(0, options.hiddenReaders) : 0
            paths.append(path)
        }
        let idle = (0..<max(0, options.idleRTMP)).map { _ in
            SimConn(id: random.uuid(), proto: .rtmp, publishing: true, remoteAddr: Self.address(&random),
                    createdMs: nowMs, counterStartMs: nowMs, rttMs: 0, idle: true)
        }
        generation = options.generation
        var state = State(options: options, paths: paths, random: random, startedMs: nowMs)
        state.idle = idle
        self.state = Mutex(state)
    }

    static func pad(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func address(_ random: inout SeededRandom) -> String {
        "10.\(random.next() % 256).\(random.next() % 256).\(random.next() % 254 + 1):\(random.next() % 50_000 + 10_000)"
    }

    /// The `User-Agent` headers of the API requests served so far (`-` for none).
    public var userAgents: Set<String> { state.withLock { $0.userAgents } }

    func heard(userAgent: String?) {
        state.withLock { _ = $0.userAgents.insert(userAgent ?? "-") }
    }

    // MARK: Switches

    public var fault: SimulatorFault {
        get { state.withLock { $0.fault } }
        set { state.withLock { $0.fault = newValue } }
    }

    /// Makes one endpoint misbehave while every other request answers as `fault` says: a list
    /// by its name in `/v3/<name>/list` (`rtmpconns`, `srtconns`, …) or `info` for `/v3/info`;
    /// `.none` heals it.
    public func setFault(_ fault: SimulatorFault, list name: String) {
        state.withLock { $0.listFaults[name] = fault == .none ? nil : fault }
    }

    /// The fault that applies to a request for `path`.
    func fault(for path: String) -> SimulatorFault {
        state.withLock { s in
            let parts = path.split(separator: "/")
            // v1.21's `/v3/srt/conns/list` is the list named `srtconns` before.
            let name = parts.count >= 4 ? String(parts[1] + parts[2]) : parts.count >= 2 ? String(parts[1]) : ""
            if parts.count >= 2, parts[0] == "v3", let fault = s.listFaults[name] { return fault }
            return s.fault
        }
    }

    /// Installs what `POST /sim/fault?mode=refuse` calls to close the port; nil removes it.
    public func onRefuse(_ handler: (@Sendable (Duration) -> Void)?) {
        state.withLock { $0.refuse = handler }
    }

    /// Asks the listener to refuse connections for `duration`; false when none can.
    func refuse(for duration: Duration) -> Bool {
        guard let refuse = state.withLock({ $0.refuse }) else { return false }
        refuse(duration)
        return true
    }

    /// Ids of the connections that have not yet said which path they want.
    public var idleConnectionIDs: [String] { state.withLock { $0.idle.map(\.id) } }

    /// An idle connection starts publishing `path` under the same id, its counters going on:
    /// the path appears with it as its source. False when no idle connection has that id.
    @discardableResult
    public func publishIdle(_ id: String, path name: String) -> Bool {
        state.withLock { s in
            guard let index = s.idle.firstIndex(where: { $0.id == id }) else { return false }
            var conn = s.idle.remove(at: index)
            conn.idle = false
            s.paths.append(SimPath(name: name, bitrate: s.options.bitrate, publisher: conn, readers: []))
            return true
        }
    }

    /// Requires HTTP basic auth from now on (`nil` lifts the requirement).
    public func requireBasicAuth(user: String?, password: String?) {
        state.withLock { s in
            s.credentials = user.map { ($0, password ?? "") }
        }
    }

    var credentials: (user: String, password: String)? { state.withLock { $0.credentials } }

    /// The publisher of `path` reconnects: a new connection id, counters from 0 (readers too).
    @discardableResult
    public func resetCounters(path name: String, nowMs: Int64 = WallClock.nowMs()) -> Bool {
        state.withLock { s in
            guard let index = s.paths.firstIndex(where: { $0.name == name }) else { return false }
            s.paths[index].publisher.id = s.random.uuid()
            s.paths[index].publisher.createdMs = nowMs
            s.paths[index].publisher.counterStartMs = nowMs
            for r in s.paths[index].readers.indices { s.paths[index].readers[r].counterStartMs = nowMs }
            s.paths[index].present = true
            return true
        }
    }

    /// A reader of `proto` joins `path`: a new connection id, counters from 0. Returns its id.
    @discardableResult
    public func addReader(path name: String, proto: SimProtocol, nowMs: Int64 = WallClock.nowMs()) -> String? {
        state.withLock { s in
            guard let index = s.paths.firstIndex(where: { $0.name == name }) else { return nil }
            let reader = SimConn(id: s.random.uuid(), proto: proto, publishing: false, remoteAddr: Self.address(&s.random),
                                 createdMs: nowMs, counterStartMs: nowMs, rttMs: 5 + Double(s.random.next() % 7_500) / 100)
            s.paths[index].readers.append(reader)
            return reader.id
        }
    }

    /// From now on `percent` % of the RTP packets of `path`'s publisher are lost (RTSP, RTSPS and
    /// WebRTC publishers report it); 0 stops the loss. False for no such path.
    @discardableResult
    public func setLoss(path name: String, percent: Double, nowMs: Int64 = WallClock.nowMs()) -> Bool {
        state.withLock { s in
            guard let index = s.paths.firstIndex(where: { $0.name == name }) else { return false }
            let path = s.paths[index]
            let packets = { (at: Int64) in Render.rtpPackets(path.inboundBytes(at: at), path.publisher.proto) }
            s.paths[index].publisher.lossBase = path.publisher.scriptedLoss(packetsAt: packets, nowMs: nowMs)
            s.paths[index].publisher.lossPercent = max(0, percent)
            s.paths[index].publisher.lossSinceMs = nowMs
            return true
        }
    }

    /// The newest reader of `path` becomes too slow for the stream (`slow: true`) or keeps up
    /// again: MediaMTX discards frames for it while it is slow. Returns its id.
    @discardableResult
    public func slowReader(path name: String, slow: Bool = true, nowMs: Int64 = WallClock.nowMs()) -> String? {
        state.withLock { s in
            guard let index = s.paths.firstIndex(where: { $0.name == name }), let r = s.paths[index].readers.indices.last
            else { return nil }
            s.paths[index].readers[r].slowSinceMs = slow ? nowMs : nil
            return s.paths[index].readers[r].id
        }
    }

    /// Sets the state of `path`'s forward destination `pos` (adding destinations up to it, each
    /// to `dest`, a URL with credentials): `forwarding`, `idle` or `error` with `error`'s text.
    /// False for no such path.
    @discardableResult
    public func setForward(path name: String, pos: Int, state forwardState: String, type: String = "rtmp",
                           dest: String = "rtmp://relay:hunter2-secret@203.0.113.9/live?key=sk-live-0001",
                           error: String = "", nowMs: Int64 = WallClock.nowMs()) -> Bool {
        state.withLock { s in
            guard let index = s.paths.firstIndex(where: { $0.name == name }), (0..<64).contains(pos) else { return false }
            while s.paths[index].forwards.count <= pos {
                s.paths[index].forwards.append(SimForward(id: s.random.uuid(), type: type, dest: dest, state: "idle",
                                                          error: "", createdMs: nowMs))
            }
            var forward = s.paths[index].forwards[pos]
            let bitrate = s.paths[index].bitrate
            forward.sentBefore = forward.outboundBytes(at: nowMs, bitrate: bitrate)
            forward.forwardingSinceMs = forwardState == "forwarding" ? nowMs : nil
            forward.state = forwardState
            forward.error = error
            s.paths[index].forwards[pos] = forward
            return true
        }
    }

    /// `/v3/hlsmuxers/list` items: one muxer per path read over HLS, sending what its HLS
    /// readers get together.
    public func hlsMuxerItems(at nowMs: Int64) -> [JSON] {
        let paths = state.withLock { $0.paths.filter(\.present) }
        return paths.sorted { $0.name < $1.name }.compactMap { path in
            let readers = path.readers.filter { $0.proto == .hls }
            guard let first = readers.map(\.counterStartMs).min() else { return nil }
            let bytes = readers.reduce(Int64(0)) {
                $0 + Int64(path.bitrate / 8 * Double(max(0, nowMs - $1.counterStartMs)) / 1_000)
            }
            return Render.hlsMuxer(path: path.name, createdMs: first, bytes: bytes,
                                   discarded: readers.reduce(0) { $0 + $1.discards(nowMs: nowMs) },
                                   generation: generation, nowMs: nowMs)
        }
    }

    /// `path`'s forward destinations as MediaMTX lists them; `nil` for no such path (404).
    public func forwardItems(path name: String, at nowMs: Int64) -> [JSON]? {
        state.withLock { s -> [JSON]? in
            guard let path = s.paths.first(where: { $0.name == name && $0.present }) else { return nil }
            return path.forwards.enumerated().map { pos, f in
                Render.forward(f, pos: pos, bitrate: path.bitrate, generation: generation, nowMs: nowMs)
            }
        }
    }

    /// The oldest reader of `path` leaves; false when it has none.
    @discardableResult
    public func dropReader(path name: String) -> Bool {
        state.withLock { s in
            guard let index = s.paths.firstIndex(where: { $0.name == name }), !s.paths[index].readers.isEmpty else {
                return false
            }
            s.paths[index].readers.removeFirst()
            return true
        }
    }

    /// The publisher of `path` leaves: the path vanishes from every list until `resetCounters`.
    @discardableResult
    public func removePath(_ name: String) -> Bool {
        state.withLock { s in
            guard let index = s.paths.firstIndex(where: { $0.name == name }) else { return false }
            s.paths[index].present = false
            return true
        }
    }

    /// The next answers of the path list give `path` these counters, one per answer, whatever its
    /// rate says: any 64-bit value, so a test can send what no sane MediaMTX does (a counter of -1,
    /// then 2^63-1). An answer past the end of a list uses the rate again. False for no such path.
    @discardableResult
    public func script(path name: String, inbound: [Int64], outbound: [Int64] = []) -> Bool {
        state.withLock { s in
            guard s.paths.contains(where: { $0.name == name }) else { return false }
            s.scripts[name] = CounterScript(inbound: inbound, outbound: outbound)
            return true
        }
    }

    /// Names of the paths currently listed.
    public var pathNames: [String] {
        state.withLock { $0.paths.filter(\.present).map(\.name) }
    }

    public var options: SimulatorOptions { state.withLock { $0.options } }

    // MARK: Replies

    func snapshotPaths() -> [SimPath] {
        state.withLock { $0.paths.filter(\.present) }
    }

    /// `/v3/paths/list` items at `nowMs`; each call takes the next scripted counters.
    public func pathItems(at nowMs: Int64) -> [JSON] {
        let (paths, scripted) = state.withLock { s -> ([SimPath], [String: (Int64?, Int64?)]) in
            var scripted: [String: (Int64?, Int64?)] = [:]
            for (name, script) in s.scripts {
                var script = script
                scripted[name] = (script.inbound.isEmpty ? nil : script.inbound.removeFirst(),
                                  script.outbound.isEmpty ? nil : script.outbound.removeFirst())
                s.scripts[name] = script.inbound.isEmpty && script.outbound.isEmpty ? nil : script
            }
            return (s.paths.filter(\.present), scripted)
        }
        return paths.sorted { $0.name < $1.name }.map { path in
            let counters = scripted[path.name]
            return Render.path(path, generation: generation, nowMs: nowMs, inbound: counters?.0, outbound: counters?.1)
        }
    }

    /// Connection list items of one protocol at `nowMs`, publishers and readers alike.
    public func connectionItems(_ proto: SimProtocol, at nowMs: Int64) -> [JSON] {
        var items: [(String, JSON)] = []
        let (paths, idle, bitrate) = state.withLock { s in (s.paths.filter(\.present), s.idle, s.options.bitrate) }
        for path in paths {
            for conn in [path.publisher] + path.readers where conn.proto == proto {
                items.append((conn.id, Render.connection(conn, path: path, generation: generation, nowMs: nowMs)))
            }
        }
        for conn in idle where conn.proto == proto {
            let nowhere = SimPath(name: "", bitrate: bitrate, publisher: conn, readers: [])
            items.append((conn.id, Render.connection(conn, path: nowhere, generation: generation, nowMs: nowMs)))
        }
        return items.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
