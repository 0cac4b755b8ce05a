import MTXMonCore

/// Turns raw list items into samples without derived figures (bitrates come from `RateTracker`).
public enum Normalise {
    /// One sample per named path; items without a name (or with an empty one, which no path can
    /// have and the history file would refuse) are skipped, duplicate names (a path that moved
    /// between pages while they were read) keep their first occurrence.
    public static func samples(paths: [WirePath], srtConns: [WireSRTConn]) -> [PathSample] {
        var publishers: [String: WireSRTConn] = [:]
        for conn in srtConns where conn.state == "publish" {
            guard let path = conn.path, !path.isEmpty, publishers[path] == nil else { continue }
            publishers[path] = conn
        }
        var seen = Set<String>(minimumCapacity: paths.count)
        var result: [PathSample] = []
        result.reserveCapacity(paths.count)
        for item in paths {
            guard let name = item.name, !name.isEmpty, seen.insert(name).inserted else { continue }
            var readersByType: [String: Int] = [:]
            for reader in item.readers ?? [] {
                readersByType[reader.type ?? "unknown", default: 0] += 1
            }
            // MediaMTX's own readers (a recorder, a forwarder: v1.20's `hidden`) are no viewers.
            let hidden = readersByType[PathSample.hiddenReaderType] ?? 0
            let srt = publishers[name].map(srtLink)
            var sample = PathSample(
                name: name,
                online: item.online ?? item.ready ?? false,
                sourceType: item.source?.type,
                sourceID: item.source?.id,
                inboundBytes: item.inboundBytes ?? item.bytesReceived ?? 0,
                outboundBytes: item.outboundBytes ?? item.bytesSent ?? 0,
                readers: (item.readers?.count ?? 0) - hidden,
                readersByType: readersByType,
                inboundFramesInError: count(item.inboundFramesInError),
                srt: srt
            )
            sample.hiddenReaders = hidden > 0 ? hidden : nil
            sample.available = item.available
            result.append(sample)
        }
        return result
    }

    /// Every connection of the poll, with its role from MediaMTX's state; items without an id
    /// are skipped (nothing could follow them from poll to poll), a repeated id keeps its first.
    public static func connections(_ reply: PollReply) -> (samples: [ConnectionSample], readAt: [String: Int64]) {
        var lists = reply.lists
        lists.insert(ConnectionList(proto: .srt, items: reply.srtConns, readAt: reply.srtReadAt), at: 0)
        let total = lists.reduce(0) { $0 + $1.items.count }
        var seen = Set<String>(minimumCapacity: total)
        var samples: [ConnectionSample] = []
        samples.reserveCapacity(total)
        var readAt: [String: Int64] = [:]
        readAt.reserveCapacity(total)
        for list in lists {
            for (index, item) in list.items.enumerated() {
                guard let id = item.id, !id.isEmpty, seen.insert(id).inserted else { continue }
                samples.append(connection(item, id: id, proto: list.proto))
                if index < list.readAt.count { readAt[id] = list.readAt[index] }
            }
        }
        return (samples, readAt)
    }

    static func connection(_ c: WireConnection, id: String, proto: ConnectionProtocol) -> ConnectionSample {
        let role: ConnectionRole = switch c.state {
        case "publish": .publisher
        case "read": .reader
        case nil where proto == .hls: .reader  // HLS sessions are readers and have no state
        default: .idle
        }
        var counters = ConnectionCounters()
        counters.packetsReceived = c.packetsReceived
        counters.packetsReceivedLoss = c.packetsReceivedLoss
        counters.packetsReceivedRetrans = c.packetsReceivedRetrans
        counters.packetsReceivedDrop = c.packetsReceivedDrop
        counters.packetsReceivedBelated = c.packetsReceivedBelated
        counters.packetsReceivedUndecrypt = c.packetsReceivedUndecrypt
        counters.packetsSent = c.packetsSent
        counters.packetsSendLoss = c.packetsSendLoss
        counters.packetsRetrans = c.packetsRetrans
        counters.packetsSendDrop = c.packetsSendDrop
        counters.rtpPacketsReceived = c.inboundRTPPackets ?? c.rtpPacketsReceived
        counters.rtpPacketsLost = c.inboundRTPPacketsLost ?? c.rtpPacketsLost
        counters.rtpPacketsInError = c.inboundRTPPacketsInError ?? c.rtpPacketsInError
        counters.rtcpPacketsReceived = c.inboundRTCPPackets ?? c.rtcpPacketsReceived
        counters.rtcpPacketsInError = c.inboundRTCPPacketsInError ?? c.rtcpPacketsInError
        counters.rtpPacketsSent = c.outboundRTPPackets ?? c.rtpPacketsSent
        counters.rtpPacketsReportedLost = c.outboundRTPPacketsReportedLost
        counters.rtpPacketsDiscarded = c.outboundRTPPacketsDiscarded
        counters.framesDiscarded = c.outboundFramesDiscarded
        // A connection that has not yet said which path it wants reports `path: ""` (an RTMP
        // publisher for its first seconds): it belongs to no path yet.
        let path = c.path.flatMap { $0.isEmpty ? nil : $0 }
        var sample = ConnectionSample(
            id: id, proto: proto, role: role, path: path, remoteAddr: c.remoteAddr, state: c.state,
            userAgent: c.userAgent, inboundBytes: c.inboundBytes ?? c.bytesReceived ?? 0,
            outboundBytes: c.outboundBytes ?? c.bytesSent ?? 0, counters: counters)
        sample.rttMs = gauge(c.msRTT)
        sample.recvRateMbps = gauge(c.mbpsReceiveRate)
        sample.sendRateMbps = gauge(c.mbpsSendRate)
        sample.linkCapacityMbps = gauge(c.mbpsLinkCapacity)
        sample.latencyMs = count(role == .reader ? c.msSendTsbPdDelay : c.msReceiveTsbPdDelay)
        sample.jitter = gauge(c.inboundRTPPacketsJitter ?? c.rtpPacketsJitter)
        sample.isCDN = c.isCDN
        sample.createdMs = c.created?.ms
        return sample
    }

    /// A path's forward destinations; its `conf` is never read, its error text is redacted.
    public static func forwards(_ items: [WireForwardDest], readAt: Int64) -> [ForwardDest] {
        items.compactMap { item in
            guard let id = item.id, !id.isEmpty else { return nil }
            return ForwardDest(id: id, pos: item.pos, type: item.type ?? item.protocol, state: item.state,
                               outboundBytes: count(item.outboundBytes) ?? 0, readAt: readAt,
                               error: item.lastError.flatMap { $0.isEmpty ? nil : Redaction.freeText(String($0.prefix(300))) })
        }
    }

    /// The HLS muxers by path: outbound bytes (`bytesSent` before v1.17) and discarded frames.
    public static func hlsMuxers(_ items: [WireHLSMuxer]) -> [String: (bytes: Int64, discarded: Int64?)] {
        var result: [String: (bytes: Int64, discarded: Int64?)] = [:]
        for item in items {
            guard let path = item.path, !path.isEmpty, result[path] == nil else { continue }
            result[path] = (count(item.outboundBytes ?? item.bytesSent) ?? 0, count(item.outboundFramesDiscarded))
        }
        return result
    }

    static func srtLink(_ conn: WireSRTConn) -> SRTLink {
        SRTLink(
            connectionID: conn.id ?? "",
            rttMs: gauge(conn.msRTT),
            recvRateMbps: gauge(conn.mbpsReceiveRate),
            linkCapacityMbps: gauge(conn.mbpsLinkCapacity),
            tsbpdDelayMs: count(conn.msReceiveTsbPdDelay),
            packetsReceived: count(conn.packetsReceived),
            packetsReceivedLoss: count(conn.packetsReceivedLoss),
            packetsReceivedRetrans: count(conn.packetsReceivedRetrans),
            packetsReceivedDrop: count(conn.packetsReceivedDrop)
        )
    }

    /// A figure that cannot be below 0 (a time, a rate, a capacity): absent when MediaMTX reports
    /// one that is, rather than stored and charted as if it were real.
    static func gauge(_ value: Double?) -> Double? {
        guard let value, value.isFinite, value >= 0 else { return nil }
        return value
    }

    /// A count or a duration in whole units: absent when below 0 or past `CounterRule.maximum`.
    static func count(_ value: Int64?) -> Int64? {
        guard let value, CounterRule.isPlausible(value) else { return nil }
        return value
    }
}
